"""The hadoop-aws jars that let Spark read and write ``s3a://`` (a warehouse on object storage).

Spark reaches S3-compatible stores through Hadoop's S3A filesystem: ``org.apache.hadoop:hadoop-aws``
of exactly the Hadoop version pyspark ships (``pyspark/jars/hadoop-client-api-V.jar``) and the AWS
SDK bundle that hadoop-aws release was built against (``software.amazon.awssdk:bundle``, read
from hadoop-aws's own POM by Ivy). pyspark ships neither.

They are fetched once from Maven Central with Spark's own package resolution, as the Delta jars
are (:func:`jobs.delta_jars.ivy_resolve`), into Ivy's ``jars`` folder; sessions whose warehouse is
on ``s3://``/``s3a://`` then load them from disk with ``spark.jars``.

Run ``python -m jobs.s3a_jars`` to fetch them; it prints one line and exits 0 when offline
(a local warehouse still works), or 3 with ``--require``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from jobs.delta_jars import ENV_DIR, fetch_once, ivy_dir
from jobs.errors import ConfigError

_CLIENT = re.compile(r"hadoop-client-api-(\d+\.\d+\.\d+)\.jar$")
_BUNDLE_DEP = re.compile(r'<dependency org="software\.amazon\.awssdk" name="bundle" rev="([^"]+)"')


def hadoop_version() -> str:
    """The Hadoop version of the installed pyspark (from its ``hadoop-client-api`` jar)."""
    import pyspark

    for jar in (Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"):
        if m := _CLIENT.search(jar.name):
            return m.group(1)
    raise ConfigError("pyspark ships no hadoop-client-api jar: cannot tell its Hadoop version")


def coordinate(version: str | None = None) -> str:
    """The Maven coordinate of hadoop-aws for ``version`` (default: pyspark's Hadoop)."""
    return f"org.apache.hadoop:hadoop-aws:{version or hadoop_version()}"


def _sdk_version(hadoop: str, ivy: Path) -> str | None:
    """The AWS SDK bundle version hadoop-aws ``hadoop`` depends on (Ivy's copy of its POM)."""
    descriptor = ivy / "cache" / "org.apache.hadoop" / "hadoop-aws" / f"ivy-{hadoop}.xml"
    try:
        m = _BUNDLE_DEP.search(descriptor.read_text(encoding="utf-8"))
    except OSError:
        return None
    return m.group(1) if m else None


def find_jars(version: str | None = None, *, ivy: Path | None = None) -> list[Path] | None:
    """Local paths of hadoop-aws and its SDK bundle, or None when either is missing.

    ``$COMPLIANCE_DELTA_JARS`` (a folder of jars for air-gapped installs) is searched first, then
    Ivy's ``jars`` folder (the bundle version from hadoop-aws's POM in Ivy's cache).
    """
    hadoop = version or hadoop_version()
    ivy = ivy or ivy_dir()
    folders = [Path(os.environ[ENV_DIR])] if os.environ.get(ENV_DIR) else []
    folders.append(ivy / "jars")
    sdk = _sdk_version(hadoop, ivy)
    for folder in folders:
        aws = next(
            (
                p
                for n in (f"hadoop-aws-{hadoop}.jar", f"org.apache.hadoop_hadoop-aws-{hadoop}.jar")
                if (p := folder / n).is_file()
            ),
            None,
        )
        names = (
            [f"bundle-{sdk}.jar", f"software.amazon.awssdk_bundle-{sdk}.jar"]
            if sdk
            else sorted(p.name for p in folder.glob("*bundle-2.*.jar"))
        )
        bundle = next((p for n in names if (p := folder / n).is_file()), None)
        if aws and bundle:
            return [aws, bundle]
    return None


def fetch(
    version: str | None = None, *, ivy: Path | None = None, timeout: float = 600
) -> list[Path]:
    """Download hadoop-aws and its SDK bundle (~560 MB) with Spark's Ivy unless already here.

    Raises:
        ConfigError: Maven Central could not be reached or does not have the version.
    """
    hadoop = version or hadoop_version()
    ivy = ivy or ivy_dir()
    return fetch_once(
        lambda: find_jars(hadoop, ivy=ivy),
        [coordinate(hadoop)],
        ivy=ivy,
        timeout=timeout,
        what=f"hadoop-aws {hadoop} and its AWS SDK",
        named=coordinate(hadoop),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m jobs.s3a_jars [--require]``: fetch the jars, one line of outcome."""
    p = argparse.ArgumentParser(
        prog="python -m jobs.s3a_jars", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--require", action="store_true", help="exit 3 when the jars cannot be fetched")
    p.add_argument("--version", help="Hadoop version (default: the one pyspark ships)")
    args = p.parse_args(argv)
    try:
        jars = fetch(args.version)
    except ConfigError as exc:
        print(
            f"hadoop-aws jars: {exc}; a warehouse on s3:// cannot be used by Spark", file=sys.stderr
        )
        return 3 if args.require else 0
    print(f"hadoop-aws jars: {', '.join(p.name for p in jars)} in {jars[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
