"""Statements that move data without a plain query: exports, loads, clones, renames, DDL.

Each is planned into the same :class:`~lineage.sql.statements.Plan` as an INSERT, following the
engines' documented semantics:

- exports write a *path dataset* named by its location (lower case, no trailing ``/``) with the
  query's column names: Hive/Spark ``INSERT OVERWRITE [LOCAL] DIRECTORY`` (also Spark's
  ``USING <format> [OPTIONS (path ...)]`` form), BigQuery ``EXPORT DATA OPTIONS (uri=...) AS``,
  Snowflake ``COPY INTO <location> FROM <table | (query)>``, Postgres ``COPY <table | (query)>
  TO 'file'``, Redshift ``UNLOAD ('query') TO 's3://...'``;
- loads copy a location into a table as ``location.* -> table.*``: Snowflake ``COPY INTO <table>
  FROM <stage>``, Postgres / Redshift ``COPY t FROM``, BigQuery / Hive ``LOAD DATA``;
- table copies are ``src.c -> dst.c`` for every known column of ``src`` (``src.* -> dst.*`` when
  unknown): Snowflake / BigQuery / Databricks ``CREATE TABLE t2 [SHALLOW|DEEP] CLONE|COPY t1``,
  ``ALTER TABLE t1 RENAME TO t2`` (Hive, Spark, Trino, Postgres, Snowflake, BigQuery) and
  Snowflake ``ALTER TABLE a SWAP WITH b`` (both ways);
- schema events change the known columns and are reported: ``CREATE TABLE t2 LIKE t1`` (columns
  only, no data), ``ALTER TABLE ADD|DROP|RENAME COLUMN`` (a rename is ``t.a -> t.b``), ``DROP``.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from lineage.sql.guard import SqlLineageError, get_dialect, parse_statements
from lineage.sql.statements import Plan, queries_of

# Spark: INSERT OVERWRITE [LOCAL] DIRECTORY [path] USING format [OPTIONS (...)] query
_SPARK_DIRECTORY = re.compile(
    r"(INSERT\s+OVERWRITE\s+(?:LOCAL\s+)?DIRECTORY)\s*('(?:[^'\\]|\\.)*')?\s*"
    r"USING\s+[\w.]+\s*(OPTIONS\s*\((?:[^()']|'(?:[^'\\]|\\.)*')*\))?",
    re.IGNORECASE,
)
_OPTION_PATH = re.compile(r"""['"`]?path['"`]?\s*=?\s*'((?:[^'\\]|\\.)*)'""", re.IGNORECASE)
_UNLOAD = re.compile(r"^\s*\(\s*'((?:[^'\\]|\\.|'')*)'\s*\)\s*TO\s+'([^']*)'", re.IGNORECASE)
_CLONE = re.compile(
    r"^\s*(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.`\"\[\]-]+)\s+"
    r"(?:DEEP\s+|SHALLOW\s+)?CLONE\s+([\w.`\"\[\]-]+)",
    re.IGNORECASE,
)


def plan_move(stmt: exp.Expr) -> Plan | None:
    """The plan of a data-moving or schema statement, or None for any other statement."""
    if isinstance(stmt, exp.Insert) and isinstance(stmt.this, exp.Directory):
        return plan_directory(stmt)
    if isinstance(stmt, exp.Create) and isinstance(stmt.args.get("clone"), exp.Clone):
        return plan_clone(stmt, stmt.args["clone"])
    if isinstance(stmt, exp.Copy):
        return plan_copy(stmt)
    if isinstance(stmt, exp.Export):
        return plan_export(stmt)
    if isinstance(stmt, exp.LoadData):
        return plan_load(stmt)
    if isinstance(stmt, exp.Alter):
        return plan_alter(stmt)
    return None


def rewrite_text(text: str, dialect_name: str | None = None) -> str:
    """Rewrite syntax sqlglot does not parse into an equivalent form it does.

    Spark's ``INSERT OVERWRITE DIRECTORY ... USING <format> [OPTIONS (...)]`` becomes the Hive
    form ``INSERT OVERWRITE DIRECTORY '<path>'`` (the path from the options when not given).
    Teradata column attributes ``(TITLE 'x')`` are blanked and ``(NAMED x)`` becomes ``AS x``
    (Teradata SQL Data Manipulation Language docs); MySQL ``REPLACE INTO`` is read as ``INSERT
    INTO``; a Postgres ``WITH [NO] DATA`` suffix is blanked; every other character stays.
    """
    name = (dialect_name or "").lower()
    if name == "teradata" and "(" in text:
        text = _TERADATA_ATTR.sub(_teradata_attr, text)
    elif name in ("mysql", "sqlite") and "replace" in text.lower():
        # REPLACE works exactly like INSERT, deleting old rows of the same key first (MySQL docs)
        text = _REPLACE_INTO.sub(lambda m: m.group(1) + "INSERT " + m.group(2), text)
    elif name == "postgres" and "data" in text.lower():
        # CREATE [MATERIALIZED VIEW | TABLE] ... AS query WITH [NO] DATA (Postgres docs)
        text = _WITH_DATA.sub(lambda m: " " * len(m.group(0)), text)
    if "irectory" not in text and "IRECTORY" not in text:
        return text

    def fix(m: re.Match) -> str:
        path = m.group(2)
        if path is None and m.group(3):
            found = _OPTION_PATH.search(m.group(3))
            path = f"'{found.group(1)}'" if found else None
        if path is None:
            raise SqlLineageError("INSERT OVERWRITE DIRECTORY without a path", kind="unsupported")
        return f"{m.group(1)} {path} "

    return _SPARK_DIRECTORY.sub(fix, text)


_TERADATA_ATTR = re.compile(
    r"\(\s*(TITLE|NAMED)\s+('(?:[^']|'')*'|\"[^\"]*\"|\w+)\s*\)", re.IGNORECASE
)


_REPLACE_INTO = re.compile(r"((?:^|;)\s*)REPLACE(\s+INTO\b)", re.IGNORECASE)
_WITH_DATA = re.compile(r"\bWITH\s+(?:NO\s+)?DATA(?=\s*(?:;|$))", re.IGNORECASE)


def _teradata_attr(m: re.Match) -> str:
    width = len(m.group(0))
    if m.group(1).upper() == "TITLE":
        return " " * width
    name = m.group(2)
    if name.startswith("'"):
        name = '"' + name[1:-1].replace("''", "'").replace('"', "") + '"'
    return f" AS {name}".ljust(width)


def external_queries(query: exp.Expr, dialect_name: str | None) -> None:
    """Replace federated pass-through table functions, in place, by their inner query as a
    derived table.

    BigQuery ``EXTERNAL_QUERY('connection', 'inner SQL')``: the tables are those of the
    connection's database, named as written; read as MySQL when it uses backticks, else as
    Postgres (BigQuery Cloud SQL federated queries docs). Trino ``TABLE(cat.system.query(query =>
    'inner SQL'))``: the connector's native SQL, read as Postgres, tables prefixed with the
    catalog ``cat`` (Trino table functions docs), as Trino itself names them.
    """
    for table in list(query.find_all(exp.Table)):
        fn = table.this
        if not isinstance(fn, exp.Anonymous):
            continue
        catalog = None
        if fn.name.upper() == "EXTERNAL_QUERY":
            args = fn.expressions
            literal = args[1] if len(args) > 1 else None
            label = "EXTERNAL_QUERY"
        elif fn.name.upper() == "TABLE" and fn.expressions:
            literal, catalog = _system_query(fn.expressions[0])
            label = "system.query"
        else:
            continue
        if not (isinstance(literal, exp.Literal) and literal.is_string):
            continue
        inner = literal.this
        read = "mysql" if "`" in inner else "postgres"
        try:
            statements = parse_statements(inner, get_dialect(read), read, 256)
        except SqlLineageError as err:
            raise SqlLineageError(
                f"{label} query is not {read} SQL: {err.reason}",
                kind=err.kind,
                dialect=dialect_name,
                line=err.line,
                col=err.col,
            ) from None
        planned = queries_of(statements[0]) if len(statements) == 1 else []
        if not planned:
            raise SqlLineageError(
                f"{label} query is not one SELECT", kind="unsupported", dialect=dialect_name
            )
        inner_query = planned[0][0]
        if catalog is not None:
            for t in inner_query.find_all(exp.Table):
                if isinstance(t.this, exp.Identifier) and not t.args.get("catalog"):
                    if t.args.get("db"):
                        t.set("catalog", exp.to_identifier(catalog))
                    else:
                        t.set("db", exp.to_identifier(catalog))
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier("external_query"))
        table.replace(exp.Subquery(this=inner_query, alias=alias))


def _system_query(arg: exp.Expr) -> tuple[exp.Expr | None, str | None]:
    """The query literal and catalog of ``cat.system.query(query => '...')``."""
    if not (isinstance(arg, exp.Dot) and isinstance(arg.expression, exp.Anonymous)):
        return None, None
    call = arg.expression
    if call.name.lower() != "query" or not call.expressions:
        return None, None
    first = call.expressions[0]
    literal = first.expression if isinstance(first, exp.Kwarg) else first
    parts = [p.name for p in arg.this.flatten()] if isinstance(arg.this, exp.Dot) else []
    catalog = parts[0].lower() if len(parts) == 2 and parts[1].lower() == "system" else None
    return literal, catalog


def streams(query: exp.Expr) -> None:
    """Databricks ``STREAM(t)`` / ``STREAM t`` (Delta Live Tables) reads the table ``t``."""
    for node in list(query.find_all(exp.Stream)):
        inner = node.this
        if isinstance(inner, exp.Subquery) and isinstance(inner.this, exp.Table):
            table = inner.this.copy()
            if inner.args.get("alias") is not None:
                table.set("alias", inner.args["alias"].copy())
            node.replace(table)
        elif isinstance(inner, exp.Table):
            node.replace(inner.copy())


def location_name(node: exp.Expr | str | None) -> str | None:
    """The dataset name of a location (file, URL, stage), or None when ``node`` is not one."""
    if isinstance(node, str):
        text = node
    elif isinstance(node, exp.Literal) and node.is_string:
        text = node.this
    elif isinstance(node, exp.Table) and isinstance(node.this, (exp.Var, exp.Literal)):
        text = node.this.this if isinstance(node.this, exp.Literal) else node.this.name
    elif isinstance(node, exp.Directory):
        return location_name(node.this)
    else:
        return None
    text = str(text).strip().lower()
    return text.rstrip("/") or text or None


def plan_directory(stmt: exp.Insert) -> Plan:
    """``INSERT OVERWRITE [LOCAL] DIRECTORY 'path' query``: the path gets the query's columns."""
    loc = location_name(stmt.this)
    queries = queries_of(stmt.expression, stmt.args.get("with_"), "name")
    return Plan("write", queries=queries, location=loc)


def plan_export(stmt: exp.Export) -> Plan:
    """BigQuery ``EXPORT DATA OPTIONS (uri = '...') AS query``."""
    uri = None
    options = stmt.args.get("options")
    for prop in options.expressions if options is not None else ():
        if isinstance(prop, exp.Property) and prop.name.lower() == "uri":
            uri = location_name(prop.args.get("value"))
    return Plan("write", queries=queries_of(stmt.this, None, "name"), location=uri or "export")


def plan_copy(stmt: exp.Copy) -> Plan:
    """Snowflake / Postgres / Redshift ``COPY``: an export to or a load from a location."""
    this = stmt.this
    files = stmt.args.get("files") or []
    table = this.this if isinstance(this, exp.Schema) else this
    columns = [c.name.lower() for c in this.expressions] if isinstance(this, exp.Schema) else None
    if isinstance(table, exp.Table) and location_name(table) is not None:
        # Snowflake COPY INTO <location> FROM <table | (query)>
        src = files[0] if files else None
        return _export_from(src, location_name(table))
    if not stmt.args.get("kind"):
        # Postgres COPY <table [(cols)] | (query)> TO 'file'
        loc = location_name(files[0]) if files else None
        if isinstance(this, exp.Subquery):
            return _export_from(this, loc)
        return _export_from(table, loc, columns)
    # a load: COPY [INTO] t FROM <location | (SELECT ... FROM @stage)>
    sources = []
    for f in files:
        name = location_name(f)
        if name is None and isinstance(f, exp.Subquery):
            name = next((location_name(t) for t in f.find_all(exp.Table) if location_name(t)), None)
        if name is not None:
            sources.append(name)
    return Plan("copy", target=table, copies=[(s, table) for s in sources])


def plan_load(stmt: exp.LoadData) -> Plan:
    """BigQuery ``LOAD DATA INTO t FROM FILES (uris = [...])``, Hive ``LOAD DATA INPATH``."""
    table = stmt.this
    sources = []
    for node in stmt.walk():
        if isinstance(node, exp.Literal) and node.is_string and "/" in node.this:
            sources.append(location_name(node))
    return Plan("copy", target=table, copies=[(s, table) for s in sources if s])


def plan_clone(stmt: exp.Create, clone: exp.Clone) -> Plan:
    """``CREATE TABLE t2 [SHALLOW] CLONE|COPY t1``: every column of t1 flows to t2."""
    source = clone.this
    if not isinstance(source, exp.Table) or not isinstance(stmt.this, exp.Table):
        return Plan("other")
    return Plan("copy", target=stmt.this, copies=[(source, stmt.this)], created=True)


def plan_alter(stmt: exp.Alter) -> Plan:
    """ALTER TABLE: RENAME TO and SWAP WITH copy the data; column changes are schema events."""
    table = stmt.this
    if not isinstance(table, exp.Table) or (stmt.args.get("kind") or "").upper() != "TABLE":
        return Plan("other")
    plan = Plan("alter", target=table)
    for action in stmt.args.get("actions") or ():
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            new = action.this
            if not new.args.get("db") and table.args.get("db"):
                # Hive, Spark, Snowflake, BigQuery: an unqualified new name stays in the schema
                new = exp.Table(
                    this=new.this, db=table.args["db"], catalog=table.args.get("catalog")
                )
            plan.copies.append((table, new))
            plan.renamed = True
        elif isinstance(action, exp.SwapTable) and isinstance(action.this, exp.Table):
            plan.copies.extend([(table, action.this), (action.this, table)])
            plan.renamed = True
        elif isinstance(action, exp.RenameColumn):
            old, to = action.this, action.args.get("to")
            if old is not None and to is not None:
                plan.column_changes.append(("rename_column", old.name.lower(), to.name.lower()))
        elif isinstance(action, exp.ColumnDef):
            plan.column_changes.append(("add_column", action.name.lower(), _type(action)))
        elif isinstance(action, exp.Schema):  # Spark / Hive ADD COLUMNS (c INT, ...)
            for col in action.expressions:
                if isinstance(col, exp.ColumnDef):
                    plan.column_changes.append(("add_column", col.name.lower(), _type(col)))
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for col in action.args.get("tables") or [action.this]:
                if isinstance(col, (exp.Column, exp.Identifier)):
                    plan.column_changes.append(("drop_column", col.name.lower(), None))
    return plan


def plan_command(stmt: exp.Command, dialect: Dialect, dialect_name: str | None) -> Plan | None:
    """Plans for statements sqlglot keeps as an opaque Command; None when not one of them."""
    word = str(stmt.this).upper()
    expression = stmt.expression
    rest = expression.name if isinstance(expression, exp.Expr) else str(expression or "")
    if word == "UNLOAD":
        m = _UNLOAD.match(rest)
        if m is None:
            raise SqlLineageError(
                "UNLOAD without ('query') TO 'location'", kind="unsupported", dialect=dialect_name
            )
        inner = m.group(1).replace("''", "'").replace("\\'", "'")
        try:
            statements = parse_statements(inner, dialect, dialect_name, 256)
        except SqlLineageError as err:
            raise SqlLineageError(
                f"UNLOAD query: {err.reason}",
                kind=err.kind,
                dialect=dialect_name,
                line=err.line,
                col=err.col,
            ) from None
        if len(statements) != 1 or not queries_of(statements[0]):
            raise SqlLineageError(
                "UNLOAD query is not one SELECT", kind="unsupported", dialect=dialect_name
            )
        return Plan(
            "write",
            queries=queries_of(statements[0], None, "name"),
            location=location_name(m.group(2)),
        )
    if word == "CREATE":
        m = _CLONE.match(rest)
        if m is not None:
            source = exp.to_table(m.group(2), dialect=dialect)
            target = exp.to_table(m.group(1), dialect=dialect)
            return Plan("copy", target=target, copies=[(source, target)], created=True)
    return None


def _export_from(src: exp.Expr | None, loc: str | None, columns: list[str] | None = None) -> Plan:
    if isinstance(src, exp.Table) and location_name(src) is None:
        select = exp.select(*(columns or ["*"])).from_(src.copy())
        return Plan("write", queries=queries_of(select, None, "name"), location=loc or "export")
    if isinstance(src, exp.Subquery):
        return Plan("write", queries=queries_of(src, None, "name"), location=loc or "export")
    return Plan("other")


def _type(col: exp.ColumnDef) -> str:
    kind = col.args.get("kind")
    return kind.sql() if kind is not None else "UNKNOWN"
