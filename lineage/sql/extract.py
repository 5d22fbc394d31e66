"""Column-level lineage from SQL text: ``extract_lineage``.

Pipeline per SQL text (all pure, no I/O): guard the input (size, binary data, nesting, dialect),
rewrite the few forms sqlglot does not parse and reduce procedures and scripts to their data
statements in place (:mod:`lineage.sql.moves`, :mod:`lineage.sql.procedures`), tokenize and parse
every statement with sqlglot (the compiled ``sqlglotc`` modules when installed), plan each
statement into a target plus plain queries (:mod:`lineage.sql.statements`; exports, loads,
copies, renames and DDL in :mod:`lineage.sql.moves`),
rename physical tables to placeholders so that a schema with keys of any depth resolves
(:mod:`lineage.sql.schema`), qualify with ``sqlglot.optimizer.qualify`` (star expansion and column
qualification from the schema), build the scope tree and evaluate every scope once
(:mod:`lineage.sql.scope`). Temporary views and tables written by one statement are linked through
when a later statement reads them; tables created by a statement lend their columns to later
``SELECT *``.

Example:
    >>> r = extract_lineage("INSERT INTO t SELECT a, upper(b) AS b FROM s WHERE c > 0")
    >>> sorted(e.source + " -> " + e.target + " " + e.subtype for e in r.column_edges)
    ['s.a -> t.a IDENTITY', 's.b -> t.b TRANSFORMATION', 's.c -> t FILTER']
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from lineage.sql.guard import (
    MAX_NESTING,
    MAX_SQL_BYTES,
    SqlLineageError,
    check_text,
    get_dialect,
    parse_statements,
)
from lineage.sql.moves import (
    external_queries,
    plan_command,
    plan_move,
    rewrite_text,
    streams,
)
from lineage.sql.procedures import MAX_STATEMENTS, flatten_blocks, needs_flattening
from lineage.sql.result import ColumnEdge, LineageResult, SchemaEvent
from lineage.sql.schema import (
    PreparedSchema,
    bigquery_table,
    prepare_schema,
    qualify_schema,
    table_name,
)
from lineage.sql.scope import Walker
from lineage.sql.semantics import RANKS, D, Lin, ScopeLineage, add
from lineage.sql.statements import Plan, expand_statement, ignored_output, plan_statement
from lineage.sql.variables import unbind_variables
from lineage.temporary import is_dbt_temp

__all__ = [
    "MAX_SQL_BYTES",
    "POSITIONAL_GUESS",
    "ColumnEdge",
    "LineageResult",
    "SchemaEvent",
    "SqlLineageError",
    "extract_lineage",
]

TEXT_BUDGET_S = 60.0
"""Wall-clock budget of one SQL text, checked between its statements (about 2 ms each)."""

POSITIONAL_GUESS = 0.8
"""Confidence factor of the column edges of a positional INSERT into a target whose columns are
not known: the table-level flow is certain, the target column is the output's own name, a guess."""


def extract_lineage(
    sql: str,
    *,
    dialect: str | None = None,
    schema: Mapping[str, Sequence[str] | Mapping[str, str]] | PreparedSchema | None = None,
    default_schema: str | None = None,
    max_bytes: int = MAX_SQL_BYTES,
) -> LineageResult:
    """Extract table and column lineage from one or more SQL statements.

    Args:
        sql: SQL text, possibly several ``;``-separated statements.
        dialect: sqlglot dialect name (``trino``, ``presto``, ``spark``, ``hive``, ...); None for
            sqlglot's default dialect.
        schema: ``{"db.tbl": ["a", "b"]}`` or ``{"db.tbl": {"a": "int"}}``; used to expand
            ``SELECT *`` and to resolve unqualified columns.
        default_schema: Schema (database) prefixed to unqualified table names.
        max_bytes: Largest accepted SQL text in UTF-8 bytes.

    Returns:
        The sources, targets and column edges.

    Raises:
        SqlLineageError: For any text that cannot be analysed (never another exception type).
    """
    try:
        text = check_text(sql, dialect, max_bytes)
        resolved = get_dialect(dialect)
        script = _Script(text, resolved, dialect, prepare_schema(schema), default_schema)
        return script.run()
    except SqlLineageError:
        raise
    except RecursionError:
        raise SqlLineageError("query nested too deeply", kind="too_deep", dialect=dialect) from None
    except SqlglotError as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SqlLineageError(reason, kind="unsupported", dialect=dialect) from None
    except Exception as err:  # noqa: BLE001 - the contract is one exception type
        raise SqlLineageError(
            f"internal error {type(err).__name__}: {err}", kind="internal", dialect=dialect
        ) from None


class _Script:
    """State carried across the statements of one SQL text."""

    def __init__(
        self,
        text: str,
        dialect: Dialect,
        dialect_name: str | None,
        schema: PreparedSchema,
        default_schema: str | None,
    ) -> None:
        self.text = text
        self.dialect = dialect
        self.dialect_name = dialect_name
        self.schema = schema
        self.own_schema = False
        self.default = default_schema.lower() if default_schema else None
        self.temps: dict[str, ScopeLineage] = {}
        self.temp_sources: dict[str, set[str]] = {}
        self.temps_read: set[str] = set()
        self.sources: set[str] = set()
        self.targets: set[str] = set()
        self.edges: dict[tuple, tuple[int, bool, float]] = {}
        self.target_columns: dict[str, tuple[str, ...]] = {}
        self.declared: dict[str, tuple[str, ...]] = {}
        self.events: list[SchemaEvent] = []
        self.variables: set[str] = set()
        self.bigquery = dialect_name is not None and dialect_name.lower() == "bigquery"
        low = text.lower()
        self.federated = "external_query" in low or "system.query" in low
        self.streaming = "stream" in low

    def run(self) -> LineageResult:
        try:
            self.text = rewrite_text(self.text, self.dialect_name)
        except SqlLineageError as err:
            raise SqlLineageError(err.reason, kind=err.kind, dialect=self.dialect_name) from None
        if needs_flattening(self.text):
            self.text, self.variables = flatten_blocks(self.text, self.dialect, self.dialect_name)
        statements = parse_statements(self.text, self.dialect, self.dialect_name, MAX_NESTING)
        if len(statements) > MAX_STATEMENTS:
            raise SqlLineageError(
                f"more than {MAX_STATEMENTS} statements in one text",
                kind="too_large",
                dialect=self.dialect_name,
            )
        began = time.monotonic()
        for index, whole in enumerate(statements):
            if index and time.monotonic() - began > TEXT_BUDGET_S:
                raise SqlLineageError(
                    f"analysis over the {TEXT_BUDGET_S:g} s budget after {index} of "
                    f"{len(statements)} statements",
                    kind="too_large",
                    dialect=self.dialect_name,
                )
            parts = expand_statement(whole)
            for k, stmt in enumerate(parts):
                for level in (0, 1, 2):
                    # 0: strict qualification; 1: tolerate columns missing from a stale schema;
                    # 2: tables only (columns resolved by the walker, e.g. correlated subqueries
                    # over tables without schema). The tree is re-parsed after a failed attempt.
                    try:
                        self._statement(stmt, tolerant=level)
                        break
                    except OptimizeError:
                        if level == 2:
                            raise
                        fresh = parse_statements(
                            self.text, self.dialect, self.dialect_name, MAX_NESTING
                        )[index]
                        stmt = expand_statement(fresh)[k]
        self._unread_temps()
        return self._result()

    def _unread_temps(self) -> None:
        """A dbt temporary relation (``x__dbt_tmp``, :mod:`lineage.temporary`) that no later
        statement of the text reads (nor drops) is written like a table: dbt reads it in its
        next statement, a later log line (``MERGE INTO x USING x__dbt_tmp``, ``INSERT INTO x
        SELECT * FROM x__dbt_tmp``), and the ingest folds the name into ``x``. Any other
        temporary table or view never read leaves no edge."""
        for name, temp in self.temps.items():
            if name in self.temps_read or not is_dbt_temp(name.rsplit(".", 1)[-1]):
                continue
            self.targets.add(name)
            self._emit(name, temp.outputs, temp.dataset)
            names = tuple(dict.fromkeys(n for n, _ in temp.outputs if n != "*"))
            if names:
                self.target_columns[name] = names

    def _command(self, stmt: exp.Command) -> None:
        word = str(stmt.this).upper()
        if word in {"INSERT", "CREATE", "MERGE", "UPDATE", "DELETE", "WITH", "SELECT", "REPLACE"}:
            raise SqlLineageError(
                f"unsupported {word} statement syntax",
                kind="unsupported",
                dialect=self.dialect_name,
            )

    def _learn(self, name: str, columns: list[tuple[str, str]] | None) -> None:
        """Add (or, with None, remove) a table's columns in this script's copy of the schema."""
        if not self.own_schema:
            self.schema = self.schema.copy()
            self.own_schema = True
        if columns is None:
            self.schema.discard(name)
        else:
            self.schema.add(name, columns)

    def _statement(self, stmt: exp.Expr, *, tolerant: int) -> None:
        if isinstance(stmt, exp.Command):
            plan = plan_command(stmt, self.dialect, self.dialect_name)
            if plan is None:
                self._command(stmt)
                return
        else:
            plan = plan_move(stmt) or plan_statement(stmt)
        target = self._name(plan.target) if plan.target is not None else None
        if plan.location is not None:
            target = plan.location
        if plan.kind == "use":
            self.default = target
            return
        if plan.kind == "drop":
            for table in plan.dropped:
                name = self._name(table)
                if self.temps.pop(name, None) is None:
                    self.events.append(SchemaEvent("drop_table", name))
            return
        if plan.kind in ("copy", "alter"):
            self._copies(plan)
            if plan.column_changes:
                self._alter(target, plan.column_changes)
            return
        if plan.kind == "ddl":
            declared = plan.declared
            if plan.like is not None:
                key = self.schema.find(self._name(plan.like))
                declared = list(self.schema.tables[key]) if key is not None else None
            if declared:
                self._learn(target, declared)
                if not plan.temporary:
                    self.declared[target] = tuple(c for c, _ in declared)
            if not plan.temporary:
                self.events.append(SchemaEvent("create_table", target))
            return
        if plan.kind == "other":
            return
        results = []
        for query, mode in plan.queries:
            results.append((self._query(query, tolerant), mode))
        if plan.kind == "select":
            for sl, _ in results:
                self._emit(None, [(n, lin) for n, lin in sl.outputs], sl.dataset)
            return
        self._write(plan, target, results)

    def _copies(self, plan: Plan) -> None:
        """Table copies, clones, loads and renames: every known column flows as it is."""
        moved = []
        for src, dst in plan.copies:
            sname = src if isinstance(src, str) else self._name(src)
            dname = self._name(dst)
            key = self.schema.find(sname) if not isinstance(src, str) else None
            typed = list(self.schema.tables[key]) if key is not None else None
            self.sources.add(sname)
            self.targets.add(dname)
            cols = [c for c, _ in typed] if typed else ["*"]
            for c in cols:
                _merge_edge(self.edges, (sname, c, dname, c, D), 0, False, 1.0)
            if typed:
                self.target_columns[dname] = tuple(cols)
            moved.append((sname, dname, typed))
            if plan.renamed and not isinstance(src, str):
                self.events.append(SchemaEvent("rename_table", sname, detail=dname))
            elif plan.created:
                self.events.append(SchemaEvent("create_table", dname))
        for sname, dname, typed in moved:  # after all copies: a swap exchanges the schemas
            if plan.renamed and self.schema.find(sname) is not None:
                self._learn(sname, None)
            if typed and (plan.created or plan.renamed):
                self._learn(dname, typed)
                self.declared[dname] = tuple(c for c, _ in typed)

    def _alter(self, target: str, changes: list[tuple[str, str, str | None]]) -> None:
        """ALTER TABLE column changes: schema events; a renamed column flows to its new name."""
        key = self.schema.find(target)
        typed = list(self.schema.tables[key]) if key is not None else None
        for kind, column, detail in changes:
            self.events.append(SchemaEvent(kind, target, column, detail))
            if kind == "rename_column" and detail:
                self.sources.add(target)
                self.targets.add(target)
                _merge_edge(self.edges, (target, column, target, detail, D), 0, False, 1.0)
            if typed is None:
                continue
            if kind == "add_column" and all(c != column for c, _ in typed):
                typed.append((column, detail or "UNKNOWN"))
            elif kind == "drop_column":
                typed = [(c, t) for c, t in typed if c != column]
            elif kind == "rename_column" and detail:
                typed = [(detail if c == column else c, t) for c, t in typed]
        if typed is not None:
            self._learn(key, typed)
            self.declared[key if key in self.declared else target] = tuple(c for c, _ in typed)

    def _write(self, plan: Plan, target: str, results: list) -> None:
        key = self.schema.find(target)
        known = self.schema.columns(key) if key is not None else None
        mapped_all: list[tuple[str, Lin]] = []
        dataset: Lin = {}
        for sl, mode in results:
            mapped, factor = self._map(plan, sl.outputs, mode, known)
            if factor != 1.0:
                mapped = [(n, _scaled(lin, factor)) for n, lin in mapped]
            mapped_all.extend(mapped)
            for k, v in sl.dataset.items():
                add(dataset, k, *v)
        if plan.reads_target:
            self.sources.discard(target)
        if plan.temporary:
            temp = ScopeLineage(outputs=mapped_all, dataset=dataset)
            if results and results[0][0].star and not plan.columns:
                temp.star = results[0][0].star
            self.temps[target] = temp.finish()
            return
        self.targets.add(target)
        self._emit(target, mapped_all, dataset)
        names = tuple(dict.fromkeys(n for n, _ in mapped_all))
        if names:
            self.target_columns[target] = names
            if plan.created and "*" not in names:
                # a created table lends its columns to later statements (SELECT * from it)
                self.declared[target] = names
                if known is None:
                    self._learn(target, [(n, "UNKNOWN") for n in names])

    def _map(
        self, plan: Plan, outputs: list[tuple[str, Lin]], mode: str, known: list[str] | None
    ) -> tuple[list[tuple[str, Lin]], float]:
        """Target column of every output, and the confidence factor of the mapping.

        Without a column list, INSERT writes the target's columns by position in every engine
        (Hive, Spark, Trino, BigQuery, Snowflake, Postgres); a query with fewer outputs fills the
        first columns (Postgres INSERT docs), dynamic partition columns come last (Hive DML
        docs). When the target's columns are not known, the outputs keep their own names and
        the edges get :data:`POSITIONAL_GUESS` confidence.
        """
        outputs = [(n, lin) for n, lin in outputs if not ignored_output(n)]
        if mode != "position":
            return outputs, 1.0
        names = [n for n, _ in outputs]
        cols = plan.columns
        if plan.created:  # CTAS, CREATE VIEW, SELECT INTO: the query names the new columns
            if cols is not None and len(cols) == len(outputs) and "*" not in names:
                return [(c, lin) for c, (_, lin) in zip(cols, outputs, strict=False)], 1.0
            return outputs, 1.0
        if cols is None and known is not None:
            cols = [c for c in known if c not in plan.static_partitions]
            cols += [c for c in plan.dynamic_partitions if c not in cols]
        if "*" not in names and cols is not None:
            if len(cols) == len(outputs):
                return [(c, lin) for c, (_, lin) in zip(cols, outputs, strict=False)], 1.0
            if plan.columns is None and len(outputs) < len(cols):
                return [(c, lin) for c, (_, lin) in zip(cols, outputs, strict=False)], 1.0
        return outputs, POSITIONAL_GUESS

    def _query(self, query: exp.Expr, tolerant: int) -> ScopeLineage:
        if self.variables:
            unbind_variables(query, self.variables, self._has_column)
        if self.federated:
            external_queries(query, self.dialect_name)
        if self.streaming:
            streams(query)
        names, columns, qcols = self._rename(query)
        qschema = qualify_schema(self.dialect, qcols)
        qualified = qualify(
            query,
            dialect=self.dialect,
            schema=qschema,
            qualify_columns=tolerant < 2,
            allow_partial_qualification=tolerant == 1,
            quote_identifiers=False,
            validate_qualify_columns=False,
            identify=False,
        )
        root = build_scope(qualified)
        if root is None:
            return ScopeLineage()
        return Walker(names, self.temps, columns).run(root)

    def _name(self, table: exp.Table) -> str:
        """The canonical name of a table as written (BigQuery shards and decorators folded)."""
        name = table_name(table, self.default)
        return bigquery_table(name) if self.bigquery else name

    def _has_column(self, table: str, column: str) -> bool:
        key = self.schema.find(self._name(exp.to_table(table)))
        return key is not None and column in self.schema.columns(key)

    def _rename(self, query: exp.Expr):
        """Rename physical tables to quoted placeholders; collect sources and qualify schema."""
        ctes = set()
        tables = []
        for node in query.walk():
            if isinstance(node, exp.Table):
                tables.append(node)
            elif isinstance(node, exp.CTE):
                ctes.add(node.alias_or_name.lower())
        placeholders: dict[str, str] = {}
        names: dict[str, str] = {}
        columns: dict[str, set[str]] = {}
        qcols: dict[str, list[tuple[str, str]]] = {}
        for table in tables:
            ident = table.this
            if not isinstance(ident, exp.Identifier):
                continue
            if not table.args.get("db") and ident.name.lower() in ctes:
                continue
            canon = self._name(table)
            ph = placeholders.get(canon)
            if ph is None:
                ph = placeholders[canon] = f"__lt{len(placeholders)}"
                names[ph] = canon
                temp = self.temps.get(canon)
                if temp is not None:
                    self.temps_read.add(canon)
                    self.sources.update(self.temp_sources.get(canon, ()))
                    cols = [(n, "UNKNOWN") for n, _ in temp.outputs if n != "*"]
                    if cols and not temp.star:
                        qcols[ph] = cols
                        columns[canon] = {c for c, _ in cols}
                else:
                    self.sources.add(canon)
                    key = self.schema.find(canon)
                    if key is not None:
                        qcols[ph] = self.schema.tables[key]
                        columns[canon] = set(self.schema.columns(key))
            if not table.args.get("alias"):
                table.set("alias", exp.TableAlias(this=exp.Identifier(this=ident.name)))
            table.set("this", exp.Identifier(this=ph, quoted=True))
            table.set("db", None)
            table.set("catalog", None)
        return names, columns, qcols

    def _emit(self, target: str | None, outputs: list[tuple[str, Lin]], dataset: Lin) -> None:
        edges = self.edges
        for name, lin in outputs:
            if ignored_output(name):
                continue
            for (t, c, k), (r, m, cf) in lin.items():
                key = (t, c, target, name, k)
                _merge_edge(edges, key, r, m, cf)
        if target is not None:
            for (t, c, k), (_, _, cf) in dataset.items():
                _merge_edge(edges, (t, c, target, None, k), 0, False, cf)

    def _result(self) -> LineageResult:
        out = []
        for (t, c, tt, tc, k), (r, m, cf) in self.edges.items():
            direct = k == D
            out.append(
                ColumnEdge(
                    t,
                    c,
                    tt,
                    tc,
                    "DIRECT" if direct else "INDIRECT",
                    RANKS[r] if direct else k,
                    m if direct else False,
                    cf if cf == 1.0 else round(cf, 6),
                )
            )
        out.sort(
            key=lambda e: (e.target_table or "", e.target_column or "", e.source, e.type, e.subtype)
        )
        return LineageResult(
            set(self.sources),
            set(self.targets),
            out,
            dict(self.target_columns),
            self.declared,
            self.events,
        )


def _scaled(lin: Lin, factor: float) -> Lin:
    return {k: (r, m, cf * factor) for k, (r, m, cf) in lin.items()}


def _merge_edge(edges: dict, key: tuple, rank: int, mask: bool, conf: float) -> None:
    old = edges.get(key)
    if old is None:
        edges[key] = (rank, mask, conf)
    else:
        edges[key] = (max(old[0], rank), old[1] and mask, max(old[2], conf))
