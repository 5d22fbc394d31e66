"""Procedure variables in the statements of a flattened procedure are values, not columns."""

from __future__ import annotations

from sqlglot import exp


def unbind_variables(query: exp.Expr, variables: set[str], has_column) -> None:
    """Replace references to procedure variables in a parsed statement by NULL, in place.

    A bare name is a variable unless a table of the statement is known to have such a column
    (columns win over PL/SQL variables, Oracle PL/SQL name resolution docs); ``rec.field`` is a
    variable when ``rec`` is no table or alias of the statement (a FOR loop record).

    Args:
        query: The statement.
        variables: Lower-case variable names.
        has_column: ``(table name as written, column) -> bool`` from the known schema.
    """
    tables = [t for t in query.find_all(exp.Table)]
    aliases = {t.alias_or_name.lower() for t in tables}
    aliases |= {a.alias_or_name.lower() for a in query.find_all(exp.Subquery, exp.CTE)}
    names = [".".join(p.name for p in t.parts).lower() for t in tables]
    for col in list(query.find_all(exp.Column)):
        table = col.table.lower()
        if table:
            if table in variables and table not in aliases:
                col.replace(exp.Null())
        elif (
            col.name.lower() in variables
            and isinstance(col.this, exp.Identifier)
            and not any(has_column(t, col.name.lower()) for t in names)
        ):
            col.replace(exp.Null())
