"""The data model of the demo company: columns, tables, statements (flow specs) and pipelines.

Everything here is a small frozen record. The generator builds the company from these specs, renders
SQL, OpenLineage events and configs from them, and derives the ground truth from the same specs, so
the true lineage is known by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from jobs.config.catalog import ColumnSpec

Dialect = Literal["trino", "presto", "spark", "hive"]
Signal = Literal["sql", "read_write", "openlineage", "openlineage_columns"]
StatementKind = Literal["insert", "insert_overwrite", "ctas", "view", "merge"]

# Functions the generator may apply to a projected column, with the OpenLineage subtype and masking
# flag that the true lineage carries. ``None`` is the bare column (IDENTITY).
FUNCTIONS: dict[str | None, tuple[str, bool]] = {
    None: ("IDENTITY", False),
    "lower": ("TRANSFORMATION", False),
    "upper": ("TRANSFORMATION", False),
    "trim": ("TRANSFORMATION", False),
    "lower_trim": ("TRANSFORMATION", False),
    "concat": ("TRANSFORMATION", False),
    "coalesce0": ("TRANSFORMATION", False),
    "round2": ("TRANSFORMATION", False),
    "cast_string": ("TRANSFORMATION", False),
    "cast_date": ("TRANSFORMATION", False),
    "month_trunc": ("TRANSFORMATION", False),
    "sha2": ("TRANSFORMATION", True),
    "md5": ("TRANSFORMATION", True),
    "sum": ("AGGREGATION", False),
    "max": ("AGGREGATION", False),
    "min": ("AGGREGATION", False),
    "avg": ("AGGREGATION", False),
    "count": ("AGGREGATION", True),
    "count_distinct": ("AGGREGATION", True),
}
AGGREGATES = frozenset({"sum", "max", "min", "avg", "count", "count_distinct"})


#: One column of a table as the catalog declares it (the catalog loader's own record).
Column = ColumnSpec


@dataclass(frozen=True)
class Table:
    """A table or view of the company.

    Attributes:
        name: fully qualified lower-case name ``schema.table``.
        columns: the columns in order.
        owner: owning team.
        zone: policy zone.
        kind: table or view.
        grain: ``customer`` (one row per subject), ``event`` (several rows per subject) or
            ``none`` (no subject rows; not written to the audited warehouse).
        in_catalog: False for tables the catalog does not know (discovered from logs only).
        in_warehouse: False for identifier tables deliberately missing from the warehouse.
    """

    name: str
    columns: tuple[Column, ...]
    owner: str
    zone: str
    kind: str = "table"
    grain: str = "none"
    in_catalog: bool = True
    in_warehouse: bool = True

    @property
    def schema(self) -> str:
        """The schema part of the name."""
        return self.name.split(".", 1)[0]

    @property
    def short(self) -> str:
        """The table part of the name."""
        return self.name.split(".", 1)[1]

    def column(self, name: str) -> Column:
        """Return the column called ``name`` (KeyError if absent)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}.{name}")

    @property
    def has_identifier(self) -> bool:
        """True when a column of the table is an identifier."""
        return any(c.is_identifier for c in self.columns)


@dataclass(frozen=True)
class Expr:
    """One projected output column: ``func(alias.col, ...) AS target``.

    Attributes:
        target: output column name.
        func: key of :data:`FUNCTIONS` (None for the bare column).
        refs: source column references as ``(alias, column)``; empty for ``count(*)``.
    """

    target: str
    func: str | None
    refs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Join:
    """A join of another table: ``<how> JOIN table alias ON left = right``."""

    table: str
    alias: str
    left: tuple[str, str]
    right: tuple[str, str]
    how: str = "LEFT"


@dataclass(frozen=True)
class Statement:
    """A flow spec: one statement that writes ``target`` from ``source`` (and joins).

    Attributes:
        target: qualified target table.
        kind: insert|insert_overwrite|ctas|view|merge.
        source: qualified source table.
        alias: alias of the source table.
        exprs: projected columns.
        joins: joined tables.
        filters: ``(alias, column, kind)`` in WHERE; kind ``date`` compares with the run date
            (the literal changes every night), ``true`` tests a boolean, ``eq:<v>`` a constant.
        merge_key: for MERGE, the key column (same name in source and target).
        cte: wrap the source in a CTE (the filter moves into it).
        column_list: render an explicit target column list for INSERT.
        union: further SELECT branches (same target and output columns) joined by UNION ALL;
            each branch resolves its own aliases.
    """

    target: str
    kind: StatementKind
    source: str
    alias: str
    exprs: tuple[Expr, ...]
    joins: tuple[Join, ...] = ()
    filters: tuple[tuple[str, str, str], ...] = ()
    merge_key: str | None = None
    cte: bool = False
    column_list: bool = False
    union: tuple[Statement, ...] = ()

    @property
    def aggregated(self) -> bool:
        """True when an expression aggregates (the statement then groups by the others)."""
        return any(e.func in AGGREGATES for e in self.exprs)

    def table_of(self, alias: str) -> str:
        """Resolve an alias to its qualified table."""
        if alias == self.alias:
            return self.source
        for j in self.joins:
            if j.alias == alias:
                return j.table
        raise KeyError(alias)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every table the statement reads (UNION branches included)."""
        own = (self.source, *(j.table for j in self.joins))
        return own + tuple(t for b in self.union for t in b.sources if t not in own)


@dataclass(frozen=True)
class Pipeline:
    """An ETL job: statements run nightly by one engine and observed through one signal.

    Attributes:
        name: job id, e.g. ``etl.crm_to_staging``.
        dialect: engine/dialect of its SQL.
        signal: how the job is observed: ``sql`` (query logs with SQL), ``read_write`` (split log
            lines without SQL), ``openlineage`` (RunEvents without column lineage) or
            ``openlineage_columns`` (with the columnLineage facet).
        statements: the statements of one run, in order.
        hour: hour of day (UTC) the nightly run starts.
        owner: owning team.
    """

    name: str
    dialect: Dialect
    signal: Signal
    statements: tuple[Statement, ...]
    hour: int = 2
    owner: str = "data-eng"
    default_schema: str | None = None


@dataclass(frozen=True)
class Dashboard:
    """A BI dashboard reading some columns of mart tables.

    Attributes:
        name: ``dash.<name>``.
        reads: ``(table, (columns...))`` pairs it reads.
        signal: ``openlineage_columns`` or ``read_write``.
        owner: owning team.
    """

    name: str
    reads: tuple[tuple[str, tuple[str, ...]], ...]
    signal: Signal
    owner: str


@dataclass(frozen=True)
class Model:
    """An ML model trained from a feature table (observed through a training config)."""

    name: str
    input_table: str
    features: tuple[tuple[str, tuple[str, ...]], ...]
    owner: str
    config_format: Literal["json", "yaml"]


@dataclass
class Company:
    """The whole demo company."""

    tables: dict[str, Table] = field(default_factory=dict)
    pipelines: list[Pipeline] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)

    def add(self, table: Table) -> Table:
        """Register a table (names must be unique)."""
        if table.name in self.tables:
            raise ValueError(f"duplicate table {table.name}")
        self.tables[table.name] = table
        return table
