"""Statement planning for SQL lineage: what a statement writes and which queries produce it.

Every write statement is reduced to a target table plus one or more plain queries whose outputs
feed the target's columns, so that one scope walker handles them all:

- ``INSERT [INTO|OVERWRITE] t [(cols)] <query>``, ``CREATE [TEMP] TABLE|VIEW t [(cols)] AS <query>``,
  ``CACHE TABLE t AS <query>`` and ``SELECT ... INTO t`` map the query's outputs to ``t``;
- ``UPDATE t SET c = e [FROM s] [WHERE p]`` becomes ``SELECT e AS c FROM t, s WHERE p``;
- ``MERGE INTO t USING s ON p WHEN ...`` becomes one query per WHEN clause:
  ``SELECT <assigned values> FROM t JOIN s ON p [WHERE <clause condition>]``;
- ``DELETE FROM t WHERE p`` becomes ``SELECT 1 FROM t WHERE p`` (only its INDIRECT edges count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

Kind = Literal["write", "ddl", "use", "drop", "select", "copy", "alter", "other"]
Mapping_ = Literal["position", "name"]

_IGNORED_OUTPUT = "__lineage_ignored__"


@dataclass
class Plan:
    """What one statement does, for lineage.

    Attributes:
        kind: ``write`` (has a target), ``select`` (reads only), ``ddl`` (declares columns only),
            ``use`` (changes the default schema), ``drop`` (drops a table), ``other``.
        target: The table written (or declared, used, dropped), or None.
        queries: (query, how its outputs map to the target columns) pairs.
        columns: Explicit target column list (INSERT column list, CREATE t (cols) AS ...).
        static_partitions: Partition columns given a constant value (not fed by the query).
        dynamic_partitions: Partition columns without a value (Hive: fed by the last outputs).
        temporary: The target is a temporary view/table (linked through, not reported).
        reads_target: The target is read by the planned queries only as the thing written
            (UPDATE, MERGE, DELETE): it is not reported as a source.
        declared: Columns declared by a plain ``CREATE TABLE t (a INT, ...)``.
        created: The statement creates the target (CTAS, CREATE VIEW, SELECT INTO).
        dropped: Tables dropped by a DROP statement.
        location: The statement writes a path dataset of this name (an export), not ``target``.
        copies: (source, target) pairs of a table copy (a table or a location name as source).
        renamed: The copies move the tables (ALTER TABLE RENAME / SWAP), not duplicate them.
        column_changes: (``add_column`` | ``drop_column`` | ``rename_column``, column, type or new
            name) of an ALTER TABLE.
        like: The table whose columns a ``CREATE TABLE t LIKE s`` copies (no data).
    """

    kind: Kind
    target: exp.Table | None = None
    queries: list[tuple[exp.Expr, Mapping_]] = field(default_factory=list)
    columns: list[str] | None = None
    static_partitions: set[str] = field(default_factory=set)
    dynamic_partitions: list[str] = field(default_factory=list)
    temporary: bool = False
    reads_target: bool = False
    declared: list[tuple[str, str]] | None = None
    created: bool = False
    dropped: list[exp.Table] = field(default_factory=list)
    location: str | None = None
    copies: list[tuple[exp.Table | str, exp.Table]] = field(default_factory=list)
    renamed: bool = False
    column_changes: list[tuple[str, str, str | None]] = field(default_factory=list)
    like: exp.Table | None = None


def ignored_output(name: str) -> bool:
    """Whether an output column is a planning artefact to be left out of the lineage."""
    return name == _IGNORED_OUTPUT


def expand_statement(stmt: exp.Expr) -> list[exp.Expr]:
    """A multi-table insert as one INSERT per target; any other statement as itself.

    Hive ``FROM s INSERT OVERWRITE TABLE t1 SELECT ... INSERT ... SELECT ...`` (Hive DML
    multiple inserts): every SELECT reads ``s``. Snowflake ``INSERT ALL | FIRST [WHEN c THEN]
    INTO t [(cols)] [VALUES (...)] ... <query>`` (Snowflake multi-table INSERT docs): every INTO
    selects its VALUES (or every column) from the query, filtered by its WHEN condition; an
    ELSE branch by the negation of the others.
    """
    if not isinstance(stmt, exp.MultitableInserts):
        return [stmt]
    source = stmt.args.get("source")
    out: list[exp.Expr] = []
    conditions: list[exp.Expr] = []
    for item in stmt.expressions:
        insert = item.this if isinstance(item, exp.ConditionalInsert) else item
        if not isinstance(insert, exp.Insert):
            continue
        query = insert.expression
        if isinstance(source, exp.Select):  # Snowflake: INTO ... VALUES over the query
            derived = exp.Subquery(
                this=source.copy(), alias=exp.TableAlias(this=exp.to_identifier("__multi_insert"))
            )
            values = query.expressions[0].expressions if isinstance(query, exp.Values) else None
            select = exp.Select(
                expressions=[v.copy() for v in values] if values else [exp.Star()],
                from_=exp.From(this=derived),
            )
            condition = (
                item.args.get("expression") if isinstance(item, exp.ConditionalInsert) else None
            )
            if condition is not None:
                conditions.append(condition)
                select.set("where", exp.Where(this=condition.copy()))
            elif isinstance(item, exp.ConditionalInsert) and item.args.get("else_") and conditions:
                negated = exp.and_(*(exp.not_(c.copy()) for c in conditions))
                select.set("where", exp.Where(this=negated))
            query = select
        elif isinstance(query, exp.Select) and source is not None and not query.args.get("from_"):
            query = query.copy()
            query.set("from_", exp.From(this=source.copy()))
        out.append(
            exp.Insert(
                this=insert.this.copy(), expression=query, overwrite=insert.args.get("overwrite")
            )
        )
    return out


def plan_statement(stmt: exp.Expr) -> Plan:
    """Plan one parsed statement (the tree is reused and mutated by later steps)."""
    if isinstance(stmt, exp.Insert):
        return _insert(stmt)
    if isinstance(stmt, exp.Create):
        return _create(stmt)
    if isinstance(stmt, exp.Cache):
        query = stmt.args.get("expression")
        return Plan("write", stmt.this, queries_of(query), temporary=True, created=True)
    if isinstance(stmt, exp.Update):
        return _update(stmt)
    if isinstance(stmt, exp.Merge):
        return _merge(stmt)
    if isinstance(stmt, exp.Delete):
        table = stmt.this
        query = exp.Select(expressions=[_ignored()], from_=exp.From(this=table.copy()))
        if stmt.args.get("where") is not None:
            query.set("where", stmt.args["where"])
        return Plan("write", table, [(query, "name")], reads_target=True)
    if isinstance(stmt, exp.Use):
        return Plan("use", stmt.this if isinstance(stmt.this, exp.Table) else None)
    if isinstance(stmt, exp.Drop):
        tables = stmt.args.get("tables") or [stmt.this]
        return Plan("drop", dropped=[t for t in tables if isinstance(t, exp.Table)])
    if isinstance(stmt, (exp.Select, exp.SetOperation, exp.Subquery)):
        into = stmt.args.get("into") if isinstance(stmt, exp.Select) else None
        if into is not None and isinstance(into.this, exp.Table):
            stmt.set("into", None)
            temporary = bool(into.args.get("temporary"))
            return Plan("write", into.this, [(stmt, "position")], temporary=temporary, created=True)
        return Plan("select", None, queries_of(stmt))
    return Plan("other")


def _insert(stmt: exp.Insert) -> Plan:
    target = stmt.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = [c.name.lower() for c in target.expressions]
        target = target.this
    if not isinstance(target, exp.Table):  # INSERT OVERWRITE DIRECTORY ...
        return Plan("select", None, queries_of(stmt.expression, stmt.args.get("with_")))
    static = set()
    dynamic = []
    partition = target.args.get("partition") or stmt.args.get("partition")
    if isinstance(partition, exp.Partition):
        for part in partition.expressions:
            if isinstance(part, exp.EQ) and isinstance(part.this, exp.Column):
                static.add(part.this.name.lower())
            elif isinstance(part, (exp.Column, exp.Identifier)):
                dynamic.append(part.name.lower())
    mode: Mapping_ = "name" if stmt.args.get("by_name") else "position"
    queries = queries_of(stmt.expression, stmt.args.get("with_"), mode)
    return Plan(
        "write",
        target,
        queries,
        columns=columns,
        static_partitions=static,
        dynamic_partitions=dynamic,
    )


def _create(stmt: exp.Create) -> Plan:
    kind = (stmt.args.get("kind") or "").upper()
    target = stmt.this
    if "TABLE" not in kind and "VIEW" not in kind:
        return Plan("other")
    columns = None
    declared = None
    if isinstance(target, exp.Schema):
        declared = []
        for col in target.expressions:
            if isinstance(col, (exp.ColumnDef, exp.Identifier)):
                typ = col.args.get("kind") if isinstance(col, exp.ColumnDef) else None
                declared.append((col.name.lower(), typ.sql() if typ is not None else "UNKNOWN"))
        columns = [c for c, _ in declared] or None
        target = target.this
    if not isinstance(target, exp.Table):
        return Plan("other")
    props = stmt.args.get("properties")
    temporary = props is not None and any(
        isinstance(p, (exp.TemporaryProperty, exp.VolatileProperty)) for p in props.expressions
    )
    query = stmt.args.get("expression")
    if query is None:
        props_list = props.expressions if props is not None else []
        like = next((p.this for p in props_list if isinstance(p, exp.LikeProperty)), None)
        if isinstance(like, exp.Table):  # CREATE TABLE t LIKE s: columns, no data
            return Plan("ddl", target, temporary=temporary, like=like)
        return Plan("ddl", target, declared=declared or None, temporary=temporary)
    return Plan(
        "write", target, queries_of(query), columns=columns, temporary=temporary, created=True
    )


def _update(stmt: exp.Update) -> Plan:
    target = stmt.this
    from_ = stmt.args.get("from_")
    aliased = _aliased_target(target, from_, stmt.args.get("joins") or [])
    if aliased is not None:
        # T-SQL UPDATE alias SET ... FROM db.t alias JOIN ...: the alias names a FROM table
        return _update_from(stmt, aliased, from_)
    projections = []
    for eq in stmt.expressions:
        if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column):
            projections.append(exp.alias_(eq.expression, eq.this.name, copy=False))
    select = exp.Select(expressions=projections or [_ignored()], from_=exp.From(this=target.copy()))
    joins = []
    if from_ is not None:
        joins.append(exp.Join(this=from_.this))
        joins.extend(_nested_joins(from_.this))
    joins.extend(stmt.args.get("joins") or [])
    if joins:
        select.set("joins", joins)
    if stmt.args.get("where") is not None:
        select.set("where", stmt.args["where"])
    # an UPDATE reads the rows it rewrites (its SET values and WHERE see the old row)
    return Plan("write", target, [(select, "name")])


def _aliased_target(target: exp.Expr, from_: exp.From | None, joins: list) -> exp.Table | None:
    if not isinstance(target, exp.Table) or target.args.get("db") or from_ is None:
        return None
    name = target.name.lower()
    first = from_.this
    candidates = [
        first,
        *(j.this for j in (first.args.get("joins") or [])),
        *(j.this for j in joins),
    ]
    for table in candidates:
        if isinstance(table, exp.Table) and table.alias and table.alias.lower() == name:
            return table
    return None


def _update_from(stmt: exp.Update, target: exp.Table, from_: exp.From) -> Plan:
    projections = []
    for eq in stmt.expressions:
        if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column):
            projections.append(exp.alias_(eq.expression, eq.this.name, copy=False))
    select = exp.Select(expressions=projections or [_ignored()], from_=from_)
    joins = _nested_joins(from_.this) + list(stmt.args.get("joins") or [])
    if joins:
        select.set("joins", joins)
    if stmt.args.get("where") is not None:
        select.set("where", stmt.args["where"])
    plan_target = exp.Table(
        this=target.this.copy(), db=target.args.get("db"), catalog=target.args.get("catalog")
    )
    return Plan("write", plan_target, [(select, "name")])


def _nested_joins(table: exp.Expr) -> list[exp.Join]:
    """Joins sqlglot keeps on the first FROM table of an UPDATE (T-SQL), moved off it."""
    joins = list(table.args.get("joins") or [])
    if joins:
        table.set("joins", None)
    return joins


def _merge(stmt: exp.Merge) -> Plan:
    target = stmt.this
    using = stmt.args.get("using")
    on = stmt.args.get("on")
    source_alias = using.alias_or_name if using is not None else ""
    queries: list[tuple[exp.Expr, Mapping_]] = []
    whens = stmt.args.get("whens")
    for when in whens.expressions if whens is not None else ():
        then = when.args.get("then")
        projections: list[exp.Expr] = []
        if isinstance(then, exp.Update):
            for eq in then.expressions:
                if isinstance(eq, exp.Star):
                    projections.append(_source_star(source_alias))
                elif isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column):
                    projections.append(exp.alias_(eq.expression.copy(), eq.this.name))
        elif isinstance(then, exp.Insert):
            cols, values = then.this, then.expression
            if isinstance(cols, exp.Star) or cols is None:
                projections.append(_source_star(source_alias))
            elif isinstance(values, exp.Tuple):
                names = [c.name for c in cols.expressions]
                for name, value in zip(names, values.expressions, strict=False):
                    projections.append(exp.alias_(value.copy(), name))
        select = exp.Select(
            expressions=projections or [_ignored()], from_=exp.From(this=target.copy())
        )
        if using is not None:
            select.set("joins", [exp.Join(this=using.copy(), on=on.copy() if on else None)])
        condition = when.args.get("condition")
        if condition is not None:
            select.set("where", exp.Where(this=condition.copy()))
        queries.append((select, "name"))
    return Plan("write", target, queries, reads_target=True)


def queries_of(
    query: exp.Expr | None, with_: exp.With | None = None, mode: Mapping_ = "position"
) -> list[tuple[exp.Expr, Mapping_]]:
    """The plain query of a statement part (unwrapping parentheses), as (query, mode) pairs."""
    while (
        isinstance(query, (exp.Subquery, exp.Paren))
        and isinstance(query.this, (exp.Select, exp.SetOperation, exp.Subquery, exp.Paren))
        and not query.args.get("with_")
    ):
        query = query.this
    if not isinstance(query, (exp.Select, exp.SetOperation)):
        return []  # VALUES, nothing, or an unsupported source: no column lineage
    if with_ is not None and not query.args.get("with_"):
        query.set("with_", with_)
    return [(query, mode)]


def _source_star(alias: str) -> exp.Column:
    return exp.Column(this=exp.Star(), table=exp.to_identifier(alias)) if alias else exp.Star()


def _ignored() -> exp.Alias:
    return exp.alias_(exp.Literal.number(1), _IGNORED_OUTPUT)
