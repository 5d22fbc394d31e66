"""Finding texts built in Spark from one template, e.g. ``"{n} row(s) in {asset}.{column}"``."""

from __future__ import annotations

from string import Formatter

from pyspark.sql import Column
from pyspark.sql import functions as F


def message(template: str, **columns: Column) -> Column:
    """``template`` with each ``{name}`` replaced by a column's value as a string.

    ``name`` is a column given as ``name=...``, else the column of that name (a dotted name is a
    struct field). Like ``F.concat``, the text is null when one of its columns is null.
    """
    parts: list[Column] = []
    for text, name, _spec, _conversion in Formatter().parse(template):
        if text:
            parts.append(F.lit(text))
        if name is not None:
            parts.append((columns[name] if name in columns else F.col(name)).cast("string"))
    return F.concat(*parts)


__all__ = ["message"]
