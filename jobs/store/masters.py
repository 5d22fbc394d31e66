"""Which Spark master a command uses, checked before any JVM starts (no pyspark import here)."""

from __future__ import annotations

import os
import re

from jobs.errors import ConfigError

#: The master URLs Spark's launcher accepts (``SparkSubmit``): anything else exits the JVM.
_MASTER = re.compile(
    r"local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|local-cluster\[\d+,\d+,\d+\]"
    r"|yarn|(spark|k8s)://\S+"
)


def resolve_master(configured: str | None, override: str | None = None) -> str:
    """Pick the Spark master: explicit override, then environment, then config, then local[*].

    Raises:
        ConfigError: the master is not one Spark accepts (checked before Spark starts), naming
            where it came from.
    """
    env = os.environ.get("COMPLIANCE_SPARK_MASTER")
    for master, source in (
        (override, "--master"),
        (env, "COMPLIANCE_SPARK_MASTER"),
        (configured, "spark.master"),
    ):
        if master:
            if not _MASTER.fullmatch(master):
                raise ConfigError(
                    f"{source} is {master!r}, not a Spark master: use local[N], local[*], "
                    "spark://HOST:PORT, yarn or k8s://URL"
                )
            return master
    return "local[*]"
