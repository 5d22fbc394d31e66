"""SQL rendering of the flow specs in several dialects, and their true column lineage.

The true lineage follows the semantics the product documents (DESIGN.md section 6/7, issue 3):

* every projected column gives a DIRECT edge from each column it reads to the target column, with
  subtype IDENTITY (bare column, renamed or not), TRANSFORMATION (scalar function) or AGGREGATION,
  and ``masking`` for hashes and counts;
* columns in JOIN conditions, WHERE filters and GROUP BY give INDIRECT edges (JOIN, FILTER,
  GROUP_BY) to the target *table* (``target_column`` None), also when the column is projected too;
* ``count(*)`` reads no column; in a MERGE both sides of the ON clause are INDIRECT JOIN edges,
  including the target's own key (a self-edge of the target table).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.demo.model import AGGREGATES, FUNCTIONS, Expr, Pipeline, Statement


@dataclass(frozen=True, order=True)
class Flow:
    """A true column flow: ``source``/``target`` are ``schema.table.column`` (target may be a table)."""

    source: str
    target: str
    type: str
    subtype: str
    masking: bool

    def as_dict(self) -> dict[str, object]:
        """JSON form for the ground truth."""
        return {
            "source": self.source,
            "target": self.target,
            "type": self.type,
            "subtype": self.subtype,
            "masking": self.masking,
        }


def statement_flows(st: Statement) -> list[Flow]:
    """The true column flows of one statement (deduplicated, sorted)."""
    flows: set[Flow] = set()

    def col(alias: str, name: str) -> str:
        return f"{st.table_of(alias)}.{name}"

    for e in st.exprs:
        subtype, masking = FUNCTIONS[e.func]
        for alias, name in e.refs:
            flows.add(Flow(col(alias, name), f"{st.target}.{e.target}", "DIRECT", subtype, masking))
    for j in st.joins:
        for alias, name in (j.left, j.right):
            flows.add(Flow(col(alias, name), st.target, "INDIRECT", "JOIN", False))
    if st.merge_key:
        flows.add(Flow(col(st.alias, st.merge_key), st.target, "INDIRECT", "JOIN", False))
        flows.add(Flow(f"{st.target}.{st.merge_key}", st.target, "INDIRECT", "JOIN", False))
    for branch in st.union:
        flows.update(statement_flows(branch))
    for alias, name, _ in st.filters:
        flows.add(Flow(col(alias, name), st.target, "INDIRECT", "FILTER", False))
    if st.aggregated:
        for e in st.exprs:
            if e.func not in AGGREGATES:
                for alias, name in e.refs:
                    flows.add(Flow(col(alias, name), st.target, "INDIRECT", "GROUP_BY", False))
    return sorted(flows)


def _q(name: str, dialect: str, default_schema: str | None) -> str:
    """Render a qualified table name: unqualified in the default schema, quoted when hostile."""
    schema, table = name.split(".", 1)
    if not table.replace("_", "").isalnum():
        table = f'"{table}"' if dialect in ("trino", "presto") else f"`{table}`"
    if default_schema and schema == default_schema:
        return table
    return f"{schema}.{table}"


def render_expr(e: Expr, dialect: str) -> str:
    """Render one projected expression (without its alias)."""
    args = [f"{a}.{c}" for a, c in e.refs]
    x = args[0] if args else "*"
    f = e.func
    string_type = "VARCHAR" if dialect in ("trino", "presto") else "STRING"
    if f is None:
        return x
    if f == "lower_trim":
        return f"lower(trim({x}))"
    if f == "concat":
        return "concat(" + ", ' ', ".join(args) + ")"
    if f == "coalesce0":
        return f"coalesce({x}, 0)"
    if f == "round2":
        return f"round({x}, 2)"
    if f == "cast_string":
        return f"CAST({x} AS {string_type})"
    if f == "cast_date":
        return f"CAST({x} AS DATE)"
    if f == "month_trunc":
        if dialect == "hive":
            return f"trunc({x}, 'MM')"
        return f"date_trunc('month', {x})"
    if f == "sha2":
        if dialect in ("trino", "presto"):
            raise ValueError("sha2 is only rendered for spark/hive")
        return f"sha2({x}, 256)"
    if f == "count_distinct":
        return f"count(DISTINCT {x})"
    return f"{f}({x})"


def _filter(alias: str, name: str, kind: str, run_date: str) -> str:
    if kind == "date":
        return f"{alias}.{name} >= DATE '{run_date}'"
    if kind == "true":
        return f"{alias}.{name} = TRUE"
    return f"{alias}.{name} = '{kind.split(':', 1)[1]}'"


def _select(st: Statement, dialect: str, ds: str | None, run_date: str) -> str:
    cols = ",\n  ".join(f"{render_expr(e, dialect)} AS {e.target}" for e in st.exprs)
    if st.cte:
        needed = sorted(
            {c for e in st.exprs for a, c in e.refs if a == st.alias}
            | {c for a, c, _ in st.filters if a == st.alias}
            | {j.left[1] for j in st.joins if j.left[0] == st.alias}
        )
        inner_cols = ", ".join(f"{st.alias}.{c}" for c in needed)
        where = " AND ".join(_filter(a, c, k, run_date) for a, c, k in st.filters)
        sql = (
            f"WITH base AS (\n  SELECT {inner_cols}\n  FROM {_q(st.source, dialect, ds)} "
            f"{st.alias}" + (f"\n  WHERE {where}" if where else "") + "\n)\n"
            f"SELECT\n  {cols}\nFROM base {st.alias}"
        )
        filters = ""
    else:
        sql = f"SELECT\n  {cols}\nFROM {_q(st.source, dialect, ds)} {st.alias}"
        filters = " AND ".join(_filter(a, c, k, run_date) for a, c, k in st.filters)
    for j in st.joins:
        sql += (
            f"\n{j.how} JOIN {_q(j.table, dialect, ds)} {j.alias} "
            f"ON {j.left[0]}.{j.left[1]} = {j.right[0]}.{j.right[1]}"
        )
    if filters:
        sql += f"\nWHERE {filters}"
    if st.aggregated:
        groups = [render_expr(e, dialect) for e in st.exprs if e.func not in AGGREGATES]
        if groups:
            sql += "\nGROUP BY " + ", ".join(groups)
    return sql


def render_statement(
    st: Statement, dialect: str, run_date: str, default_schema: str | None = None
) -> str:
    """Render one statement in ``dialect`` for the nightly run of ``run_date`` (YYYY-MM-DD)."""
    ds = default_schema
    target = _q(st.target, dialect, ds)
    trino = dialect in ("trino", "presto")
    if st.kind == "merge":
        src = _q(st.source, dialect, ds)
        key = st.merge_key
        sets = ", ".join(
            f"{e.target} = {render_expr(e, dialect)}" for e in st.exprs if e.target != key
        )
        cols = ", ".join(e.target for e in st.exprs)
        vals = ", ".join(render_expr(e, dialect) for e in st.exprs)
        return (
            f"MERGE INTO {target} AS t\nUSING {src} AS {st.alias}\n"
            f"ON t.{key} = {st.alias}.{key}\nWHEN MATCHED THEN UPDATE SET {sets}\n"
            f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
        )
    select = _select(st, dialect, ds, run_date)
    for branch in st.union:
        select += "\nUNION ALL\n" + _select(branch, dialect, ds, run_date)
    if st.kind == "view":
        return f"CREATE OR REPLACE VIEW {target} AS\n{select}"
    if st.kind == "ctas":
        if dialect == "hive":
            return (
                f"DROP TABLE IF EXISTS {target};\n"
                f"CREATE TABLE {target} STORED AS PARQUET AS\n{select}"
            )
        if dialect == "spark":
            return f"CREATE OR REPLACE TABLE {target} USING delta AS\n{select}"
        return f"CREATE OR REPLACE TABLE {target} AS\n{select}"
    collist = ""
    if st.column_list:
        collist = " (" + ", ".join(e.target for e in st.exprs) + ")"
    if st.kind == "insert_overwrite" and not trino:
        return f"INSERT OVERWRITE TABLE {target}{collist}\n{select}"
    if dialect == "hive":
        return f"INSERT INTO TABLE {target}{collist}\n{select}"
    return f"INSERT INTO {target}{collist}\n{select}"


def pipeline_flows(p: Pipeline) -> list[Flow]:
    """All true column flows of a pipeline's statements."""
    out: set[Flow] = set()
    for st in p.statements:
        out.update(statement_flows(st))
    return sorted(out)


# Statements injected into the query logs that no SQL parser should accept.
UNPARSEABLE_SQL: tuple[tuple[str, str], ...] = (
    (
        "trino",
        "INSERT INTO analytics.country_kpis SELECT country,, count( FROM analytics.customer_360",
    ),
    ("spark", "SELECT FROM WHERE GROUP BY ((("),
    (
        "hive",
        "INSERT OVERWRITE TABLE staging.crm_notes SELECT * FROM crm.notes WHERE (created_at >",
    ),
    ("presto", "CREATE TABLE analytics.tmp AS SELECT a.x FROM (SELECT 1"),
)
