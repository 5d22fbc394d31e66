"""Ship the product's own code to the executors of a cluster.

The executors of a cluster have the third-party packages (pyspark, pyarrow, pandas, sqlglot, ...)
but not this product: the driver builds one zip of its packages (``core``, ``lineage``,
``audits``, ``reports``, ``jobs``) per content hash, cached under
``$COMPLIANCE_PYFILES_CACHE`` (default ``~/.cache/compliance/pyfiles``), and adds it to the
session with ``SparkContext.addPyFile`` when the master is not local. Spark copies it to every
executor and puts it on the Python workers' ``sys.path``, so a UDF, ``mapInPandas`` or
``mapPartitions`` function importing ``lineage`` or ``jobs`` works there.

``python -m jobs.store.shipping DIR`` writes a two-line entry script to DIR for
``spark-submit DIR/compliance_main.py COMMAND ...`` (client mode): the driver runs the installed
product and its session ships the zip as above. (Not ``--py-files`` with the zip: the driver would
then import the product from the zip, where the configuration defaults beside it are not.)
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import zipfile
from pathlib import Path

#: The product's top-level packages, as pyproject.toml's package list names them.
PACKAGES = ("core", "lineage", "audits", "reports", "jobs")

#: What spark-submit runs on the driver: the CLI, from the installed product or the zip.
ENTRY = "import sys\n\nfrom jobs.cli import main\n\nsys.exit(main())\n"

_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Where built zips are kept (``$COMPLIANCE_PYFILES_CACHE`` or ``~/.cache/compliance/pyfiles``)."""
    env = os.environ.get("COMPLIANCE_PYFILES_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "compliance" / "pyfiles"


def _files(root: Path = _ROOT) -> list[tuple[str, Path]]:
    """Every file of the packages (no bytecode), as (name in the zip, path), sorted."""
    out = []
    for package in PACKAGES:
        base = root / package
        if not (base / "__init__.py").is_file():
            raise FileNotFoundError(f"package {package!r} not found as a folder under {root}")
        for path in base.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                out.append((path.relative_to(root).as_posix(), path))
    return sorted(out)


def code_digest(root: Path = _ROOT) -> str:
    """SHA-256 over the names and bytes of every file of the packages (12 hex digits)."""
    digest = hashlib.sha256()
    for name, path in _files(root):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def shippable() -> bool:
    """Whether the running code is a folder tree that can be zipped (not itself from a zip)."""
    return all((_ROOT / p / "__init__.py").is_file() for p in PACKAGES)


def package_zip(root: Path = _ROOT, where: Path | None = None) -> Path:
    """The zip of the packages for their current content, built once per content hash.

    Written to a temporary file and renamed, so two drivers building it at once both end with a
    whole zip. Entries carry a fixed timestamp: the same code gives the same bytes.
    """
    from jobs.context import VERSION

    where = where or cache_dir()
    target = where / f"compliance_jobs-{VERSION}-{code_digest(root)}.zip"
    if target.is_file():
        return target
    where.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=where, suffix=".zip.tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, path in _files(root):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, path.read_bytes())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def ship(spark, master: str) -> Path | None:
    """Add the packages' zip to ``spark`` when ``master`` is not local; returns the zip added.

    Nothing is added in local mode (the executors are the driver's own Python), nor when the code
    runs from a zip or wheel already (spark-submit ``--py-files`` ships it then).
    """
    if master.startswith("local") or not shippable():
        return None
    path = package_zip()
    spark.sparkContext.addPyFile(str(path))
    return path


def write_submit_files(out: Path) -> Path:
    """Write ``compliance_main.py`` (the entry script for spark-submit) to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    main = out / "compliance_main.py"
    main.write_text(ENTRY, encoding="utf-8")
    return main


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    if len(sys.argv) != 2:
        print("usage: python -m jobs.store.shipping DIR", file=sys.stderr)
        sys.exit(2)
    print(write_submit_files(Path(sys.argv[1])))
