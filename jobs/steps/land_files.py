"""Which files tonight's landing reads, and what it records of them.

Files are known by content: ``landed_files`` (the ledger) keeps per file its SHA-256, size,
counts and the last line read. Each night every listed file is fingerprinted and compared with
the ledger: new, changed (re-landed whole), appended (only the new lines), held lines whose
window has come, or unchanged (skipped). After a kind lands, its ledger rows are computed from
the landing's counts.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from audits.inputs import InputKind
from jobs.context import JobContext
from jobs.store.files import InputFile

LEDGER_SCHEMA = (
    "source string, kind string, size bigint, mtime bigint, run_date date, "
    "lines bigint, accepted bigint, rejected bigint, held bigint, held_until timestamp, "
    "last_line bigint, sha256 string, skipped bigint"
)


@dataclass(frozen=True)
class FilePlan:
    """What tonight's landing does with one listed file."""

    file: InputFile
    sha256: str
    status: str
    """``new``, ``changed`` (content differs: re-landed whole), ``appended`` (the landed content
    is a prefix: only the new lines), ``held`` (unchanged, with held lines whose window has
    come) or ``unchanged``."""
    after_line: int
    """Lines numbered up to this one were read by an earlier run."""
    prev: dict | None


def fingerprints(
    ctx: JobContext, files: list[InputFile], prev: dict[str, dict]
) -> dict[str, tuple]:
    """Per file: (sha256 of its content, sha256 of its first ``prev size`` bytes when it grew,
    whether that prefix ends with a newline).

    Each file is read once, as listed (``f.size``), through the JVM's SHA-256 where Spark itself
    reads it (its Hadoop file system: local, HDFS or ``s3a://``), a few files at a time; a grown
    file's prefix digest is taken on the way; no bytes cross into Python
    and no Spark job is started (one job per kind cost seconds a night on small inputs), and a
    file of any size is hashed, where a ``binaryFile`` row stops at 2 GiB. A file that cannot be
    opened raises here as a Spark read would (``land_kind`` then names it).
    """
    jvm = ctx.spark.sparkContext._jvm  # type: ignore[attr-defined]
    conf = ctx.spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    codec = jvm.org.apache.commons.codec

    def one(f: InputFile) -> tuple[str, tuple]:
        path = jvm.org.apache.hadoop.fs.Path(f.path)
        before = int((prev.get(f.path) or {}).get("size") or 0)
        grown = 0 < before < f.size
        md = jvm.java.security.MessageDigest.getInstance("SHA-256")
        prefix, newline = None, False
        stream = path.getFileSystem(conf).open(path)
        try:  # one pass: the prefix landed before, its digest kept, then the rest
            if grown:
                codec.digest.DigestUtils.updateDigest(
                    md, jvm.org.apache.commons.io.input.BoundedInputStream(stream, before)
                )
                prefix = str(codec.binary.Hex.encodeHexString(md.clone().digest()))
                stream.seek(before - 1)
                newline = stream.read() == 0x0A  # the stream is back at ``before``
            codec.digest.DigestUtils.updateDigest(md, stream)
        finally:
            stream.close()
        return f.path, (str(codec.binary.Hex.encodeHexString(md.digest())), prefix, newline)

    with ThreadPoolExecutor(max_workers=min(8, len(files))) as pool:
        return dict(pool.map(one, files))


def read_ledger(ctx: JobContext) -> dict[str, dict[str, dict]]:
    """``landed_files`` as ``{kind: {source: row}}``, read once for a whole landing step (each
    kind changes only its own rows); empty before the first landing."""
    if not ctx.store.exists("landed_files"):
        return {}
    # a ledger written before files were known by content gains the columns (NULL: re-landed)
    ctx.store.add_columns(
        "landed_files", dict((c.split()[0], c.split()[1]) for c in LEDGER_SCHEMA.split(", "))
    )
    out: dict[str, dict[str, dict]] = {}
    for r in ctx.store.read("landed_files").collect():  # one row per input file: small
        out.setdefault(r.kind, {})[r.source] = r.asDict()
    return out


def plan_files(
    ctx: JobContext,
    kind: str,
    files: list[InputFile],
    *,
    documents: bool,
    ledger: dict[str, dict[str, dict]] | None = None,
) -> list[FilePlan]:
    """Decide per file, by content: new, changed, appended, held lines to retry, or unchanged."""
    if not files:
        return []
    prev = (read_ledger(ctx) if ledger is None else ledger).get(kind, {})
    prints = fingerprints(ctx, files, prev)
    plans = []
    for f in files:
        p = prev.get(f.path)
        sha, prefix, newline = prints.get(f.path, ("", None, False))
        if p is None:
            status, after = "new", 0
        elif p["sha256"] == sha:
            due = p["held"] and p["held_until"] is not None and p["held_until"] <= ctx.cutoff
            status, after = ("held" if due else "unchanged"), int(p["last_line"] or 0)
        elif not documents and not f.path.endswith(".gz") and prefix == p["sha256"] and newline:
            status, after = "appended", int(p["last_line"] or 0)
        else:
            status, after = "changed", 0
        plans.append(FilePlan(f, sha, status, after, p))
    return plans


def ledger_rows(
    ctx: JobContext, kind: InputKind, plans: list[FilePlan], counts: dict
) -> list[tuple]:
    rows = []
    for p in plans:

        def n(outcome: str, new: bool | None = None, path: str = p.file.path) -> int:
            return sum(
                v[0]
                for (src, out, nw), v in counts.items()
                if src == path and out == outcome and (new is None or nw == new)
            )

        keep = p.status in ("appended", "held") and p.prev is not None
        prev = p.prev if keep else {}
        last = max(
            [int(prev.get("last_line") or 0)]
            + [v[1] for (src, _o, _n), v in counts.items() if src == p.file.path]
        )
        new_lines = sum(n(o, True) for o in ("accepted", "rejected", "held"))
        rows.append(
            (
                p.file.path,
                kind.name,
                p.file.size,
                p.file.mtime,
                ctx.run_date,
                int(prev.get("lines") or 0) + new_lines,
                int(prev.get("accepted") or 0) + n("accepted"),
                int(prev.get("rejected") or 0) + n("rejected"),
                n("held"),
                min(
                    (
                        v[2]
                        for (src, out, _n), v in counts.items()
                        if src == p.file.path and out == "held"
                    ),
                    default=None,
                ),
                last,
                p.sha256,
                int(prev.get("skipped") or 0) + n("skipped"),
            )
        )
    return rows
