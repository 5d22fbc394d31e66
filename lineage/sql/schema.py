"""Schema handling for SQL lineage: normalising the caller's schema and matching table names to it.

The caller's schema maps qualified table names to columns, ``{"db.tbl": ["a", "b"]}`` or
``{"db.tbl": {"a": "int"}}``, with keys of any depth (``"tbl"``, ``"db.tbl"``, ``"cat.db.tbl"``).
sqlglot's ``MappingSchema`` needs one uniform depth, so every physical table of a statement is
renamed to a quoted placeholder before qualification and a tiny per-statement schema is built for
the placeholders only (with ``normalize=False`` this costs microseconds). Matching a table as
written to a schema key is done here, tolerating partial qualification (``orders`` finds
``sales.orders`` when that is the only candidate).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.schema import MappingSchema

SchemaArg = Mapping[str, Sequence[str] | Mapping[str, str]]


@dataclass
class PreparedSchema:
    """A caller's schema in lookup-friendly form.

    Attributes:
        tables: Lower-case qualified key -> ordered list of (lower-case column, type) pairs.
        by_name: Last name part -> keys ending with that name.
    """

    tables: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, columns: Sequence[tuple[str, str]]) -> None:
        """Add (or replace) a table's columns."""
        key = key.lower()
        if key not in self.tables:
            self.by_name.setdefault(key.rsplit(".", 1)[-1], []).append(key)
        self.tables[key] = list(columns)

    def discard(self, key: str) -> None:
        """Forget a table (a schema key or a name that finds one)."""
        key = self.find(key.lower()) or key.lower()
        if self.tables.pop(key, None) is not None:
            names = self.by_name.get(key.rsplit(".", 1)[-1], [])
            if key in names:
                names.remove(key)

    def find(self, name: str) -> str | None:
        """Return the schema key for a lower-case qualified table name, or None.

        An exact key wins; otherwise the unique key whose name parts agree with ``name`` on every
        part both have (right-aligned), e.g. ``orders`` or ``cat.sales.orders`` for
        ``sales.orders``.
        """
        if name in self.tables:
            return name
        parts = name.split(".")
        found = None
        for key in self.by_name.get(parts[-1], ()):
            kparts = key.split(".")
            n = min(len(kparts), len(parts))
            if kparts[-n:] == parts[-n:]:
                if found is not None:
                    return None
                found = key
        return found

    def columns(self, key: str) -> list[str]:
        """The ordered column names of a key."""
        return [c for c, _ in self.tables[key]]

    def copy(self) -> PreparedSchema:
        """A shallow copy that can take more tables without touching this one."""
        return PreparedSchema(dict(self.tables), {k: list(v) for k, v in self.by_name.items()})


_CACHE: dict[int, tuple[object, tuple, PreparedSchema]] = {}


def prepare_schema(schema: SchemaArg | PreparedSchema | None) -> PreparedSchema:
    """Normalise a caller's schema (cached per schema object while its shape is unchanged).

    Args:
        schema: ``{"db.tbl": ["a", "b"]}`` or ``{"db.tbl": {"a": "int"}}``, or None.

    Returns:
        The prepared schema.
    """
    if schema is None:
        return PreparedSchema()
    if isinstance(schema, PreparedSchema):
        return schema
    signature = tuple((k, len(v)) for k, v in schema.items())
    hit = _CACHE.get(id(schema))
    if hit is not None and hit[0] is schema and hit[1] == signature:
        return hit[2]
    prepared = PreparedSchema()
    for key, cols in _flatten(schema, ""):
        if isinstance(cols, Mapping):
            pairs = [(str(c).lower(), str(t) if t else "UNKNOWN") for c, t in cols.items()]
        else:
            pairs = [(str(c).lower(), "UNKNOWN") for c in cols]
        prepared.add(key, pairs)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[id(schema)] = (schema, signature, prepared)
    return prepared


def _flatten(schema: Mapping, prefix: str):
    """Yield (dotted table key, columns), also from sqlglot-style nested ``{db: {tbl: {...}}}``."""
    for key, value in schema.items():
        name = f"{prefix}{key}"
        nested = (
            isinstance(value, Mapping)
            and value
            and all(isinstance(v, Mapping) for v in value.values())
        )
        if nested and prefix.count(".") < 2:
            yield from _flatten(value, name + ".")
        else:
            yield name, value


def table_name(table: exp.Table, default_schema: str | None) -> str:
    """The lower-case name of a table as written, prefixed with the default schema if bare."""
    parts = [p.name.lower() for p in table.parts if isinstance(p, exp.Identifier)]
    if not parts:
        return table.name.lower()
    if len(parts) == 1 and default_schema:
        parts.insert(0, default_schema.lower())
    return ".".join(parts)


_SHARD = re.compile(r"_(?:(?:19|20)\d{6}|\d{0,7}\*)$")


def bigquery_table(name: str) -> str:
    """A BigQuery table name with its partition decorator dropped and a date shard folded.

    ``ds.t$20230101`` and ``ds.t$__unpartitioned__`` are ``ds.t`` (partition decorators,
    BigQuery partitioned tables docs); ``ds.events_20230101`` and the wildcard tables
    ``ds.events_2023*`` / ``ds.events_*`` are the family ``ds.events_yyyymmdd`` (date-sharded and
    wildcard tables docs).
    """
    if "$" in name:
        name = name.split("$", 1)[0]
    if name[-1:].isdigit() or name.endswith("*"):
        name = _SHARD.sub("_yyyymmdd", name)
    return name


def _normalizer(dialect: Dialect):
    strategy = dialect.normalization_strategy
    if strategy is NormalizationStrategy.UPPERCASE:
        return str.upper
    return str.lower


class _FlatSchema(MappingSchema):
    """A MappingSchema over single-part (placeholder) table names with a known depth.

    ``MappingSchema`` finds its depth by probing the first leaf, which costs far more than the
    rest of building a small schema; here the depth is known.
    """

    def depth(self) -> int:
        return 1 if self.mapping else 0

    def udf_depth(self) -> int:
        return 0


def qualify_schema(
    dialect: Dialect, placeholder_columns: dict[str, list[tuple[str, str]]]
) -> MappingSchema:
    """Build the tiny per-statement MappingSchema over placeholder table names."""
    norm = _normalizer(dialect)
    mapping = {ph: {norm(c): t for c, t in cols} for ph, cols in placeholder_columns.items()}
    return _FlatSchema(mapping, dialect=dialect, normalize=False)


def create_columns(create: exp.Create) -> list[tuple[str, str]] | None:
    """Columns declared by ``CREATE TABLE t (a INT, ...)``, or None when it declares none."""
    target = create.this
    if not isinstance(target, exp.Schema):
        return None
    cols = []
    for col in target.expressions:
        if isinstance(col, exp.ColumnDef):
            kind = col.args.get("kind")
            cols.append((col.name.lower(), kind.sql() if kind is not None else "UNKNOWN"))
        elif isinstance(col, exp.Identifier):
            cols.append((col.name.lower(), "UNKNOWN"))
    return cols or None
