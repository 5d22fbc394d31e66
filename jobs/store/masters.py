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


#: Seconds a standalone master gets to accept a TCP connection before the command gives up.
ANSWER_TIMEOUT_S = 5.0


def check_master_answers(master: str, timeout: float = ANSWER_TIMEOUT_S) -> None:
    """Refuse a standalone master (``spark://HOST:PORT[,HOST:PORT...]``) that does not answer.

    Spark itself keeps retrying an unreachable master for a minute or more before it gives up;
    this opens one TCP connection per listed master first (any answering one is enough). Other
    masters (local, yarn, k8s) are left to Spark.

    Raises:
        ConfigError: no listed master accepts a connection within ``timeout`` seconds.
    """
    import socket

    if not master.startswith("spark://"):
        return
    problems = []
    for address in master[len("spark://") :].split(","):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"spark master {master!r}: {address!r} is not HOST:PORT")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return
        except OSError as exc:
            problems.append(f"{address}: {exc.strerror or type(exc).__name__}")
    raise ConfigError(
        f"spark master {master} does not answer ({'; '.join(problems)}): start the master or "
        "fix spark.master / --master / COMPLIANCE_SPARK_MASTER"
    )
