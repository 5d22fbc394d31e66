"""The result types of :func:`lineage.sql.extract.extract_lineage` (re-exported there)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class ColumnEdge:
    """One column-level flow found in SQL."""

    source_table: str
    """Table read, lower case, qualified as written (``db.tbl`` or ``tbl``)."""
    source_column: str
    """Column read, lower case; ``*`` for an unexpanded star."""
    target_table: str | None
    """Table written, or None for a statement that writes nothing (a plain SELECT)."""
    target_column: str | None
    """Column written, or None for an INDIRECT edge into the whole target table."""
    type: str
    """``DIRECT`` (the value flows) or ``INDIRECT`` (the value influences)."""
    subtype: str
    """IDENTITY, TRANSFORMATION, AGGREGATION (DIRECT); JOIN, GROUP_BY, FILTER, SORT, WINDOW,
    CONDITIONAL (INDIRECT)."""
    masking: bool = False
    """The transformation hides the value (hashes, counts)."""
    confidence: float = 1.0
    """1.0 normally; ``1 / candidates`` for an unqualified column that could come from several;
    times :data:`lineage.sql.extract.POSITIONAL_GUESS` for a positional INSERT into a table of unknown columns."""

    @property
    def source(self) -> str:
        """``table.column`` of the source."""
        return f"{self.source_table}.{self.source_column}"

    @property
    def target(self) -> str:
        """``table.column`` of the target, ``table`` for a table-wide edge, ``column`` for SELECT."""
        if self.target_column is None:
            return self.target_table or ""
        if self.target_table is None:
            return self.target_column
        return f"{self.target_table}.{self.target_column}"


@dataclass(frozen=True, slots=True)
class SchemaEvent:
    """A change of a table's shape found in SQL (DDL), in statement order."""

    kind: str
    """``create_table``, ``drop_table``, ``rename_table``, ``add_column``, ``drop_column``,
    ``rename_column``."""
    table: str
    """The table changed (lower case, as written; for a rename, the old name)."""
    column: str | None = None
    """The column changed (the old name for a rename), None for a table event."""
    detail: str | None = None
    """The new name of a rename, the type of an added column, else None."""


@dataclass(frozen=True)
class LineageResult:
    """The lineage of one SQL text (all its statements)."""

    sources: set[str] = field(default_factory=set)
    """Tables read, lower case, qualified as written (temporary views are linked through)."""
    targets: set[str] = field(default_factory=set)
    """Tables written (temporary views and tables are not reported)."""
    column_edges: list[ColumnEdge] = field(default_factory=list)
    """Column edges, sorted, deduplicated."""
    target_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Ordered output columns per target table (as far as known)."""
    declared_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Columns of tables created by the text (``CREATE TABLE t (a INT)``, CTAS, CREATE VIEW), and
    of known tables it alters (``ALTER TABLE t ADD / DROP / RENAME COLUMN``), after the text."""
    schema_events: list[SchemaEvent] = field(default_factory=list)
    """DDL of the text: tables created, dropped, renamed; columns added, dropped, renamed."""
