"""Data-driven lineage fixtures: ``tests/fixtures/lineage/*.sql``, input and expected side by side.

File format (in the spirit of sqlglot's fixture files)::

    # dialect: trino                      <- lines before the first case: file defaults
    # schema: {"s": ["a", "b"]}

    # title: what the case shows          <- starts a case
    # dialect: spark                      <- optional overrides: dialect, schema (JSON),
    # sources: s, r                          default_schema; optional checks: sources, targets
    # targets: t                             (comma-separated, "-" for none)
    INSERT INTO t SELECT a FROM s         <- SQL, any number of lines
    --                                    <- separator
    s.a -> t.a IDENTITY                   <- expected edges, exactly (or "(none)")
    s.c -> [t] FILTER                     <- [t]: INDIRECT edge into the whole table t
    s.a -> .a IDENTITY                    <- .a: output column a of a plain SELECT
    s.b -> t.h TRANSFORMATION masked @0.5 <- masking flag and confidence when not 1.0
    s.`addr.city` -> t.city IDENTITY      <- a column with a dot (a struct field path) in backticks

The edge type (DIRECT / INDIRECT) follows from the subtype.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lineage.sql.extract import ColumnEdge, extract_lineage

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lineage"
DIRECT = {"IDENTITY", "TRANSFORMATION", "AGGREGATION"}


@dataclass
class Case:
    file: str
    line: int
    title: str
    sql: str
    options: dict = field(default_factory=dict)
    edges: list[ColumnEdge] = field(default_factory=list)
    sources: set[str] | None = None
    targets: set[str] | None = None

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.title}"


def parse_edge(text: str) -> ColumnEdge:
    """Parse ``src.col -> tgt.col SUBTYPE [masked] [@conf]``."""
    left, right = (part.strip() for part in text.split("->"))
    words = right.split()
    target, subtype, flags = words[0], words[1], words[2:]
    masking = "masked" in flags
    confidence = next((float(f[1:]) for f in flags if f.startswith("@")), 1.0)
    source_table, source_column = _split(left)
    if target.startswith("["):
        target_table, target_column = target.strip("[]"), None
    elif target.startswith("."):
        target_table, target_column = None, target[1:]
    else:
        target_table, target_column = _split(target)
    kind = "DIRECT" if subtype in DIRECT else "INDIRECT"
    return ColumnEdge(
        source_table, source_column, target_table, target_column, kind, subtype, masking, confidence
    )


def _split(name: str) -> tuple[str, str]:
    """``table.column`` or ``table.`field.path``` into table and column."""
    if name.endswith("`"):
        table, column = name[:-1].rsplit(".`", 1)
        return table, column
    table, column = name.rsplit(".", 1)
    return table, column


def _ref(table: str | None, column: str) -> str:
    quoted = f"`{column}`" if "." in column else column
    return f"{table}.{quoted}" if table is not None else f".{quoted}"


def _names(value: str) -> set[str]:
    return set() if value.strip() == "-" else {v.strip() for v in value.split(",") if v.strip()}


def load(path: Path) -> list[Case]:
    """Read every case of one fixture file."""
    defaults: dict = {}
    cases: list[Case] = []
    case: Case | None = None
    sql_lines: list[str] = []
    in_edges = False
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.rstrip()
        if line.startswith("# title:"):
            case = Case(path.name, number, line.split(":", 1)[1].strip(), "", dict(defaults))
            cases.append(case)
            sql_lines, in_edges = [], False
            continue
        if line.startswith("# ") and ":" in line and not in_edges and not sql_lines:
            key, value = (p.strip() for p in line[2:].split(":", 1))
            target = case.options if case is not None else defaults
            if key == "schema":
                target["schema"] = json.loads(value)
            elif key in {"dialect", "default_schema"}:
                target[key] = value
            elif key in {"sources", "targets"} and case is not None:
                setattr(case, key, _names(value))
            continue
        if case is None or (not line.strip() and not in_edges and not sql_lines):
            continue
        if not in_edges:
            if line.strip() == "--":
                case.sql = "\n".join(sql_lines)
                in_edges = True
            else:
                sql_lines.append(raw)
            continue
        if not line.strip():
            case = None
            continue
        if line.strip() != "(none)":
            case.edges.append(parse_edge(line))
    return cases


def _all_cases() -> list[Case]:
    return [case for path in sorted(FIXTURES.glob("*.sql")) for case in load(path)]


CASES = _all_cases()


def test_there_are_several_hundred_cases() -> None:
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture(case: Case) -> None:
    result = extract_lineage(case.sql, **case.options)
    actual = sorted(_show(e) for e in result.column_edges)
    expected = sorted(_show(e) for e in case.edges)
    assert actual == expected
    if case.sources is not None:
        assert result.sources == case.sources
    if case.targets is not None:
        assert result.targets == case.targets


def _show(e: ColumnEdge) -> str:
    """An edge as the fixture writes it, table and column told apart."""
    target = (
        f"[{e.target_table}]" if e.target_column is None else _ref(e.target_table, e.target_column)
    )
    flags = (" masked" if e.masking else "") + (f" @{e.confidence:g}" if e.confidence != 1 else "")
    return f"{_ref(e.source_table, e.source_column)} -> {target} {e.type} {e.subtype}{flags}"
