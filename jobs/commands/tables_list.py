"""``compliance tables`` without Spark: each product table's version, live files and rows.

The listing only needs the Delta logs: the version, the live data files and their ``numRecords``
statistics are read with delta-rs. A table whose files carry no row statistics is counted with one
``count(*)`` in delta-rs (DataFusion). The folders are walked with the same rule as the Spark path
(:meth:`jobs.store.backend.HadoopFs.find_tables`): a folder holding ``_delta_log`` is a table,
at most three levels deep, names starting with ``_``, ``.`` or ``part-`` skipped.

:class:`~jobs.commands.answers.Fallback` (the CLI then answers with Spark, saying why) for a
warehouse that is not a local folder, ``storage.engine: spark`` (its jar checks and its engine
belong to a Spark session), a non-local master, or a table delta-rs cannot read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jobs.commands.answers import DeltaReader, Fallback, _setup

DEPTH = 3


def local_tables(root: Path, depth: int = DEPTH) -> list[str]:
    """Dotted names of the Delta tables under ``root``, sorted (see the module docstring)."""
    found: list[str] = []

    def walk(folder: Path, rel: tuple[str, ...]) -> None:
        children = [p for p in folder.iterdir() if p.is_dir()]
        if rel and any(p.name == "_delta_log" for p in children):
            found.append(".".join(rel))
            return
        if len(rel) >= depth:
            return
        for p in children:
            if not p.name.startswith(("_", ".", "part-")):
                walk(p, (*rel, p.name))

    if root.is_dir():
        walk(root, ())
    return sorted(found)


def _rows(reader: DeltaReader, dt: Any) -> int:
    import pyarrow as pa

    actions = pa.table(dt.get_add_actions(flatten=True))
    counts = (
        actions.column("num_records").to_pylist()
        if "num_records" in actions.column_names
        else [None]
    )
    if actions.num_rows and all(n is not None for n in counts):
        return int(sum(counts))
    if not actions.num_rows:
        return 0
    result = reader._dl.QueryBuilder().register("t", dt).execute("SELECT count(*) AS n FROM t")
    return int(pa.RecordBatchReader.from_stream(result).read_all().column("n")[0].as_py())


def tables(args: Any) -> str:
    """The text of ``compliance tables``, as the Spark path prints it for the delta-rs engine."""
    cfg, reader, _ = _setup(args)
    from jobs import delta_jars
    from jobs.store.masters import resolve_master

    delta_jars.session_conf(cfg.spark.conf)  # jars of another version: the same one-line error
    master = resolve_master(cfg.spark.master, getattr(args, "master", None))
    if cfg.storage.engine == "spark":
        raise Fallback("storage.engine is spark")
    if not master.startswith("local"):
        raise Fallback(f"the master is {master}")
    scheme = urlparse(cfg.warehouse).scheme.lower()
    if len(scheme) > 1 and scheme != "file":
        raise Fallback(f"the warehouse {cfg.warehouse} is not a local folder")
    root = Path(urlparse(cfg.warehouse).path if scheme == "file" else cfg.warehouse)
    names = local_tables(root)
    if not names:
        return f"no tables yet under {cfg.warehouse}; run `compliance nightly` first"
    lines = [
        f"{'table':32} {'version':>7} {'files':>6} {'rows':>10}   ({cfg.warehouse}, engine delta-rs)"
    ]
    for name in names:
        dt = reader.table(name)
        if dt is None:
            raise Fallback(f"delta-rs does not see a table at {reader.path(name)}")
        files = len(dt.file_uris())
        lines.append(f"{name:32} {dt.version():>7} {files:>6} {_rows(reader, dt):>10}")
    return "\n".join(lines)
