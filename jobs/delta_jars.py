"""The Delta Lake jars that match the installed ``delta-spark`` Python package.

The delta-spark engine needs two jars on Spark's classpath, of exactly the version of the
``delta-spark`` package (Scala 2.13 for Spark 4): ``io.delta:delta-spark_2.13`` and
``io.delta:delta-storage`` (Spark already ships their other runtime dependency, antlr4-runtime).

They are fetched once from Maven Central with Spark's own package resolution (Ivy, as
``spark.jars.packages`` and ``delta.pip_utils.configure_spark_with_delta_pip`` do), into Ivy's
``jars`` folder; ``mvn dependency:get -Dartifact=io.delta:delta-spark_2.13:VERSION`` into the
local Maven repository works too and is found the same way. Sessions then load the jars from
disk with ``spark.jars`` (no network at start-up). Without them, ``engine: auto`` uses delta-rs.

Run ``python -m jobs.delta_jars`` to fetch them; it prints one line and exits 0 when offline
(delta-rs is used then), or 3 with ``--require``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

from jobs.errors import ConfigError

SCALA = "2.13"
ARTIFACTS = (f"delta-spark_{SCALA}", "delta-storage")
EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
#: A folder of jars that wins over the caches (e.g. jars shipped with an air-gapped install).
ENV_DIR = "COMPLIANCE_DELTA_JARS"
_DELTA_JAR = re.compile(r"delta-spark_(\d+\.\d+)-(\d+\.\d+\.\d+[^/]*?)\.jar$")
_DELTA_PKG = re.compile(r"io\.delta:delta-spark_(\d+\.\d+):([^,\s]+)")


def delta_version() -> str:
    """The version of the installed ``delta-spark`` Python package (e.g. ``4.0.1``)."""
    return metadata.version("delta-spark")


def coordinates(version: str | None = None) -> list[str]:
    """Maven coordinates of the jars for ``version`` (default: the installed package)."""
    v = version or delta_version()
    return [f"io.delta:{a}:{v}" for a in ARTIFACTS]


def ivy_dir() -> Path:
    """Spark 4's default Ivy folder (``spark.jars.ivy``), where fetched jars are copied."""
    return Path.home() / ".ivy2.5.2"


def _candidates(artifact: str, version: str, ivy: Path) -> list[Path]:
    out = []
    if os.environ.get(ENV_DIR):
        out.append(Path(os.environ[ENV_DIR]) / f"{artifact}-{version}.jar")
        out.append(Path(os.environ[ENV_DIR]) / f"io.delta_{artifact}-{version}.jar")
    out.append(ivy / "jars" / f"io.delta_{artifact}-{version}.jar")
    out.append(
        Path.home()
        / ".m2"
        / "repository"
        / "io"
        / "delta"
        / artifact
        / version
        / f"{artifact}-{version}.jar"
    )
    return out


def find_jars(version: str | None = None, *, ivy: Path | None = None) -> list[Path] | None:
    """Local paths of the matching jars, or None when any is missing."""
    v = version or delta_version()
    found = []
    for artifact in ARTIFACTS:
        hit = next((p for p in _candidates(artifact, v, ivy or ivy_dir()) if p.is_file()), None)
        if hit is None:
            return None
        found.append(hit)
    return found


def session_conf(user_conf: Mapping[str, str], *, ivy: Path | None = None) -> dict[str, str]:
    """The Spark settings that load delta-spark, merged with the user's; {} without jars.

    A user who already names Delta jars or packages keeps them (their versions are checked);
    otherwise the local jars of the installed version are added with ``spark.jars``.

    Raises:
        ConfigError: the configured jars or packages name a delta-spark of another version or
            Scala build than the installed ``delta-spark`` package.
    """
    want = delta_version()
    named = [
        (m.group(1), m.group(2))
        for m in _DELTA_PKG.finditer(user_conf.get("spark.jars.packages", ""))
    ]
    named += [
        (m.group(1), m.group(2))
        for j in user_conf.get("spark.jars", "").split(",")
        if (m := _DELTA_JAR.search(j.strip()))
    ]
    for scala, version in named:
        if (scala, version) != (SCALA, want):
            raise ConfigError(
                f"spark conf names delta-spark_{scala} {version} but the installed delta-spark "
                f"package is {want} (Scala {SCALA}): use io.delta:delta-spark_{SCALA}:{want}"
            )
    out: dict[str, str] = {}
    if not named:
        jars = find_jars(want, ivy=ivy)
        if jars is None:
            return {}
        existing = user_conf.get("spark.jars", "")
        out["spark.jars"] = ",".join([existing] * bool(existing) + [str(p) for p in jars])
    extensions = user_conf.get("spark.sql.extensions", "")
    if EXTENSION not in extensions:
        out["spark.sql.extensions"] = ",".join([extensions] * bool(extensions) + [EXTENSION])
    out.setdefault(
        "spark.sql.catalog.spark_catalog", user_conf.get("spark.sql.catalog.spark_catalog", CATALOG)
    )
    return out


def loaded_version(spark: object) -> str | None:
    """The delta-spark version whose classes the session loaded (from the jar manifest)."""
    from jobs.store.spark_tables import delta_class

    cls = delta_class(spark)  # type: ignore[arg-type]
    return None if cls is None else cls.getPackage().getImplementationVersion()


def fetch(
    version: str | None = None, *, ivy: Path | None = None, timeout: float = 300
) -> list[Path]:
    """Download the jars with Spark's package resolution (Ivy) unless they are already here.

    Raises:
        ConfigError: Maven Central could not be reached or does not have the version.
    """
    v = version or delta_version()
    ivy = ivy or ivy_dir()
    return fetch_once(
        lambda: find_jars(v, ivy=ivy),
        coordinates(v),
        ivy=ivy,
        timeout=timeout,
        what=f"the delta-spark {v} jars",
        named=f"io.delta:delta-spark_{SCALA}:{v}",
    )


def fetch_once(
    find: Callable[[], list[Path] | None],
    coords: list[str],
    *,
    ivy: Path,
    timeout: float,
    what: str,
    named: str,
) -> list[Path]:
    """The jars ``find`` finds; when it finds none, ``coords`` resolved with Spark's Ivy first.

    Raises:
        ConfigError: Maven Central could not be reached or does not have ``named``.
    """
    jars = find()
    if jars:
        return jars
    done = ivy_resolve(coords, ivy=ivy, timeout=timeout, what=what)
    jars = find()
    if done.returncode != 0 or not jars:
        reason = (
            "Maven Central unreachable" if offline(done.stderr) else "not found on Maven Central"
        )
        raise ConfigError(f"could not fetch {named} ({reason})")
    return jars


def ivy_resolve(
    coords: list[str], *, ivy: Path, timeout: float, what: str
) -> subprocess.CompletedProcess[str]:
    """Resolve ``coords`` (and their dependencies) with Spark's own Ivy into ``ivy``/jars.

    Runs ``spark-submit --packages COORDS jobs/_noop.py`` once: the jars are copied to
    ``<ivy>/jars`` and sessions load them from disk afterwards.

    Raises:
        ConfigError: the resolution did not finish within ``timeout`` seconds.
    """
    import pyspark

    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    noop = Path(__file__).with_name("_noop.py")
    cmd = [
        str(submit),
        "--master",
        "local[1]",
        "--conf",
        f"spark.jars.ivy={ivy}",
        "--packages",
        ",".join(coords),
        str(noop),
    ]
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"fetching {what} timed out after {timeout:.0f}s") from None


def offline(stderr: str) -> bool:
    """Whether Ivy's output says Maven Central could not be reached."""
    return bool(re.search(r"Host \S*maven\S* not found|UnknownHostException", stderr))


def main(argv: list[str] | None = None) -> int:
    """``python -m jobs.delta_jars [--require]``: fetch the jars, one line of outcome."""
    p = argparse.ArgumentParser(
        prog="python -m jobs.delta_jars", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--require", action="store_true", help="exit 3 when the jars cannot be fetched")
    p.add_argument("--version", help="delta-spark version (default: the installed package's)")
    args = p.parse_args(argv)
    try:
        jars = fetch(args.version)
    except ConfigError as exc:
        print(f"delta-spark jars: {exc}; the delta-rs engine will be used", file=sys.stderr)
        return 3 if args.require else 0
    print(f"delta-spark jars: {', '.join(p.name for p in jars)} in {jars[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
