"""Deterministic writers for the demo inputs: JSON Lines (optionally gzip) and YAML.

Every writer records what it wrote (lines, injected bad lines with their 1-based line numbers), so
the ground truth can state counts and fault locations exactly.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml


def dumps(obj: Any) -> str:
    """The one deterministic JSON serialisation used for every input line (sorted keys)."""
    return json.dumps(obj, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)


def without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of ``obj`` with ``key`` left out (order kept)."""
    return {k: v for k, v in obj.items() if k != key}


def truncated(obj: Any, parts: int = 2) -> str:
    """The first ``1/parts`` of ``obj``'s JSON (sorted keys): a line cut in the middle."""
    text = json.dumps(obj, sort_keys=True)
    return text[: len(text) // parts]


def iso(ts: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix and seconds precision."""
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts: datetime) -> str:
    """ISO-8601 UTC with milliseconds (OpenLineage style)."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


@dataclass
class BadLine:
    """A line injected on purpose that landing must reject."""

    raw: str
    reason: str
    detail: str


@dataclass
class JsonlFile:
    """Lines of one JSONL input file, good and bad, written at the end in one go.

    Attributes:
        kind: input kind (``query_logs``...).
        name: file name under ``inputs/<kind>/``.
        gz: write gzip-compressed (deterministic: no mtime, no file name in the header).
    """

    kind: str
    name: str
    gz: bool = False
    lines: list[str | BadLine] = field(default_factory=list)

    def add(self, obj: dict[str, Any]) -> int:
        """Append a good record; returns its 1-based line number."""
        self.lines.append(dumps(obj))
        return len(self.lines)

    def inject(self, rng: random.Random, raw: str, reason: str, detail: str) -> None:
        """Insert a bad line at a random position (positions are fixed at write time)."""
        self.lines.insert(rng.randint(0, len(self.lines)), BadLine(raw, reason, detail))

    def inject_all(self, rng: random.Random, faults: Iterable[tuple[Any, str, str]]) -> None:
        """Insert bad lines in order, each ``(bad, reason, detail)``.

        ``bad`` is the raw text, or a record written as ``json.dumps(bad, sort_keys=True)``.
        """
        for bad, reason, detail in faults:
            self.inject_json(rng, bad, reason, detail)

    def inject_json(self, rng: random.Random, bad: Any, reason: str, detail: str) -> None:
        """Insert one bad line: ``bad`` as raw text, or a record as JSON (sorted keys)."""
        raw = bad if isinstance(bad, str) else json.dumps(bad, sort_keys=True)
        self.inject(rng, raw, reason, detail)

    @property
    def rel(self) -> str:
        """Path relative to the output root."""
        return f"inputs/{self.kind}/{self.name}"

    def write(self, out: Path) -> dict[str, Any]:
        """Write the file; returns its summary with bad line locations."""
        path = out / self.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text_lines: list[str] = []
        bad: list[dict[str, Any]] = []
        for i, line in enumerate(self.lines, start=1):
            if isinstance(line, BadLine):
                text_lines.append(line.raw)
                bad.append(
                    {"file": self.rel, "line": i, "reason": line.reason, "detail": line.detail}
                )
            else:
                text_lines.append(line)
        data = ("\n".join(text_lines) + "\n").encode("utf-8")
        if self.gz:
            buf = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as fh:
                fh.write(data)
            data = buf.getvalue()
        path.write_bytes(data)
        return {"file": self.rel, "lines": len(self.lines), "bad_lines": len(bad), "bad": bad}


class Flow(dict):  # type: ignore[type-arg]
    """A mapping written in YAML flow style on one line (``{name: a, type: int}``)."""


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _flow_mapping(dumper: Any, data: Flow) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


yaml.add_representer(Flow, _flow_mapping, Dumper=_DUMPER)


def write_yaml(path: Path, obj: Any, header: str = "") -> None:
    """Write YAML deterministically (insertion order kept, block style except :class:`Flow`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(
        obj,
        Dumper=_DUMPER,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=200,
    )
    path.write_text(header + text, encoding="utf-8")
