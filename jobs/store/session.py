"""The Spark session factory.

Local mode by default (``local[*]``), with a UTC session time zone, few shuffle partitions, no UI
and Spark's log4j output turned down to errors. The master and any Spark setting can be overridden
from the config file (``spark.master``, ``spark.conf``), from ``--master`` on the command line and
from the ``COMPLIANCE_SPARK_MASTER`` environment variable; pointing the master at a cluster is the
only change needed to scale out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pyspark.errors import PySparkRuntimeError
from pyspark.sql import SparkSession

from jobs.errors import ConfigError, JobError
from jobs.store.masters import resolve_master as resolve_master  # re-exported

_LOG4J = Path(__file__).resolve().parents[1] / "log4j2.properties"

#: Settings applied in local mode only (a cluster keeps its own defaults).
LOCAL_DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.memory": "4g",
    "spark.sql.adaptive.enabled": "true",
}

#: Settings applied everywhere: the product's tables rely on them.
ALWAYS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.hadoop.parquet.enable.summary-metadata": "false",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_LOG4J}",
    "spark.executor.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_LOG4J}",
}


_JAVA_OPTIONS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")
_LOG4J_FLAG = "-Dlog4j2.configurationFile="


def keep_log_config(settings: Mapping[str, str]) -> dict[str, str]:
    """The JVM options of ``settings`` with the product's log4j file kept in front.

    A user's ``extraJavaOptions`` (a GC or memory flag) would otherwise replace the product's
    log configuration and Spark's INFO lines would flood the job's output; a user who names a
    log4j file of their own keeps it.

    Example:
        >>> keep_log_config({"spark.driver.extraJavaOptions": "-XX:+UseG1GC"})[
        ...     "spark.driver.extraJavaOptions"].endswith(" -XX:+UseG1GC")
        True
    """
    kept: dict[str, str] = {}
    for key in _JAVA_OPTIONS:
        value = settings.get(key, "")
        kept[key] = value if _LOG4J_FLAG in value else f"{ALWAYS[key]} {value}".strip()
    return kept


def delta_conf(engine: str, conf: Mapping[str, str], master: str = "local[*]") -> dict[str, str]:
    """Settings that load delta-spark for ``engine``, checked before Spark starts.

    ``spark``, and ``auto`` on a cluster, get the local jars of the installed delta-spark version
    when they are here (see :mod:`jobs.delta_jars`); ``delta-rs``, and ``auto`` embedded (where
    it resolves to delta-rs), get nothing but the check of jars the user named.

    Raises:
        ConfigError: ``spark`` without the jars, or jars of another version in ``conf``.
    """
    from jobs import delta_jars

    extra = delta_jars.session_conf(conf)  # checks the versions of jars named in conf
    if engine == "delta-rs" or (engine == "auto" and master.startswith("local")):
        return {}
    if engine == "spark" and not extra:
        version = delta_jars.delta_version()
        raise ConfigError(
            f"storage.engine is 'spark' but the delta-spark {version} jars are not here: run "
            "`python -m jobs.delta_jars` (needs Maven Central) or set storage.engine to delta-rs"
        )
    return extra


def build_session(
    *,
    master: str = "local[*]",
    conf: Mapping[str, str] | None = None,
    app_name: str = "compliance",
    engine: str = "delta-rs",
) -> SparkSession:
    """Create (or reuse) the SparkSession for a job.

    Args:
        master: Spark master URL; ``local[...]`` gets the local defaults (no UI, few partitions).
        conf: extra Spark settings; they win over the defaults.
        app_name: the application name shown in the cluster UI.
        engine: the storage engine; ``auto`` and ``spark`` load the local delta-spark jars
            (:func:`delta_conf`), ``delta-rs`` starts a plain session.

    Raises:
        ConfigError: the Delta jars are missing for engine ``spark``, or of the wrong version.

    Example:
        >>> spark = build_session(master="local[2]", conf={"spark.sql.shuffle.partitions": "2"})
    """
    from jobs.store import shipping
    from jobs.store.masters import check_master_answers

    if master.startswith("local"):  # a cluster's executors run their own Python, not this path
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    check_master_answers(master)  # one line now, not Spark's minute of retries
    settings: dict[str, str] = dict(ALWAYS)
    if master.startswith("local"):
        settings.update(LOCAL_DEFAULTS)
    settings.update({k: str(v) for k, v in (conf or {}).items()})
    settings.update(keep_log_config(settings))
    settings.update(delta_conf(engine, settings, master))
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except PySparkRuntimeError as exc:  # the JVM exited before the session came up
        raise JobError(
            f"Spark did not start on master {master!r} ({str(exc).splitlines()[0][:200]}); "
            "the Java process's own message is printed above"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    _check_delta_version(spark)
    shipping.ship(spark, master)  # the product's own packages, to a cluster's executors
    return spark


def _check_delta_version(spark: SparkSession) -> None:
    """Refuse a session whose Delta classes are not of the installed delta-spark version."""
    from jobs import delta_jars

    loaded = delta_jars.loaded_version(spark)
    if loaded is not None and loaded != delta_jars.delta_version():
        raise ConfigError(
            f"the Spark classpath holds delta-spark {loaded} but the installed delta-spark package "
            f"is {delta_jars.delta_version()}: put io.delta:delta-spark_{delta_jars.SCALA}:"
            f"{delta_jars.delta_version()} on the classpath instead"
        )
