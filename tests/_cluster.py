"""A real Spark standalone cluster on the loopback interface, for the cluster tests.

``spark_cluster`` (session-scoped) starts a master and two workers (1 core, 2 GiB each) with the
``spark-class`` that pyspark ships, waits until the master's JSON (``http://127.0.0.1:W/json``)
lists both workers ALIVE, and stops them after: each process is the leader of its own process
group, and the whole group is terminated (then killed), so no JVM is left behind.

The workers' Python is a separate virtual environment with only the product's third-party
dependencies (pyproject's ``dependencies``, never the project itself), built once per dependency
list under ``$COMPLIANCE_WORKER_VENV_CACHE`` (default ``~/.cache/compliance``). The fixture checks
that ``import jobs`` fails in it. Workers get it as ``PYSPARK_PYTHON``; drivers name it with
``spark.pyspark.python`` (:attr:`Cluster.conf`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
START_TIMEOUT_S = 240


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (held open together while they are chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def dependencies() -> list[str]:
    """The third-party requirements of the product (pyproject ``[project] dependencies``)."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def worker_venv() -> Path:
    """The workers' virtual environment (its python), built once per dependency list."""
    deps = dependencies()
    key = hashlib.sha256(("\n".join([sys.version, *deps])).encode()).hexdigest()[:12]
    cache = Path(
        os.environ.get("COMPLIANCE_WORKER_VENV_CACHE", Path.home() / ".cache" / "compliance")
    )
    venv = cache / f"worker-venv-{key}"
    python = venv / "bin" / "python"
    if not python.exists():
        cache.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix="worker-venv-", dir=cache))
        try:
            base = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base, "-m", "venv", str(build)], check=True)
            subprocess.run(
                [str(build / "bin" / "pip"), "install", "-q", *deps],
                check=True,
                cwd=build,
            )
            os.replace(build, venv)  # atomic: a half-built venv is never used
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return python


def bare_env(python: Path, **extra: str) -> dict[str, str]:
    """An environment for cluster processes: loopback, the workers' Python, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYSPARK", "SPARK"))}
    import pyspark

    env.update(
        SPARK_HOME=str(Path(pyspark.__file__).parent),
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=str(python),
    )
    env.update(extra)
    return env


@dataclass
class Cluster:
    url: str  # spark://127.0.0.1:PORT
    webui: str  # http://127.0.0.1:W
    python: Path  # the workers' Python (no project installed)
    logs: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def conf(self) -> dict[str, str]:
        """Spark settings a driver of this cluster needs (small: 2 cores in all)."""
        return {
            "spark.pyspark.python": str(self.python),
            "spark.executor.memory": "1g",
            "spark.driver.memory": "2g",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "4",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
        }

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.webui}/json", timeout=5) as resp:
            return json.load(resp)

    def alive_workers(self) -> int:
        try:
            return sum(1 for w in self.state().get("workers", []) if w.get("state") == "ALIVE")
        except (OSError, ValueError):  # not listening yet, or its UI up before its JSON page
            return 0

    def log_tail(self, lines: int = 15) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            try:  # children a JVM left in the group (none expected)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def start_cluster(base: Path, python: Path) -> Cluster:
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    port, webui, *worker_ui = _free_ports(2 + WORKERS)
    logs = base / "logs"
    logs.mkdir(parents=True)
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{webui}", python, logs)
    env = bare_env(python)

    def launch(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            cluster.procs.append(
                subprocess.Popen(
                    [str(spark_class), *args],
                    cwd=base,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group, terminated as a whole
                )
            )

    try:
        launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(webui)),
        )
        for i in range(WORKERS):
            work = base / f"worker{i}"
            work.mkdir()
            launch(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                cluster.url,
                *("--host", "127.0.0.1", "--cores", "1", "--memory", "2g"),
                *("--webui-port", str(worker_ui[i]), "--work-dir", str(work)),
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while cluster.alive_workers() < WORKERS:
            dead = [p.args[1] for p in cluster.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    f"cluster did not come up (exited: {dead}):\n{cluster.log_tail()}"
                )
            time.sleep(1)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """A running standalone master with two registered workers; stopped after the session."""
    python = worker_venv()
    probe = subprocess.run(
        [str(python), "-c", "import jobs"],
        cwd=tmp_path_factory.mktemp("probe"),
        capture_output=True,
    )
    assert probe.returncode != 0, "the workers' venv must not have the project installed"
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"), python)
    yield cluster
    cluster.stop()
