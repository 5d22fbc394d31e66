"""The product on a real Spark standalone cluster (two workers on loopback, see ``_cluster``).

The workers' Python has only the third-party dependencies; the product ships its own packages to
them (``jobs.store.shipping``). Each driver runs in a subprocess (the suite's own session is a
local one and a process holds one SparkContext). Slow: the cluster start, the executors' start and
a whole demo nightly on the cluster per storage engine; .ci/run runs them.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _cluster import bare_env
from _table_compare import ACROSS_ENGINES, compare_warehouses

from jobs.errors import ConfigError
from jobs.store import masters, shipping
from jobs.store.tables import TableStore

DEMO_DATE = "2026-11-22"
BIN = Path(sys.executable).parent


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


# --- fast: no cluster -------------------------------------------------------------------------


def test_master_check_accepts_an_answering_master_and_names_a_silent_one():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        masters.check_master_answers(f"spark://127.0.0.1:{port}")
        closed = _closed_port()
        # HA list: one answering master is enough
        masters.check_master_answers(f"spark://127.0.0.1:{closed},127.0.0.1:{port}")
    with pytest.raises(ConfigError) as err:
        masters.check_master_answers(f"spark://127.0.0.1:{closed}", timeout=1)
    assert f"spark master spark://127.0.0.1:{closed} does not answer" in str(err.value)
    assert "refused" in str(err.value).lower()
    masters.check_master_answers("local[2]")  # left to Spark
    masters.check_master_answers("yarn")


def test_a_master_that_does_not_answer_is_one_line_and_exit_2_at_once(tmp_path):
    home = tmp_path / "home"
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    url = f"spark://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    done = subprocess.run(
        [str(BIN / "compliance"), "nightly", "--conf", str(conf), "--master", url, "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    seconds = time.monotonic() - t0
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert url in lines[0] and "does not answer" in lines[0]
    assert "Traceback" not in done.stderr
    assert seconds < 60, seconds  # Spark's own retries would take minutes


def test_the_code_zip_is_built_once_per_content_and_holds_every_package(tmp_path):
    import zipfile

    first = shipping.package_zip(where=tmp_path)
    mtime = first.stat().st_mtime_ns
    assert shipping.package_zip(where=tmp_path) == first
    assert first.stat().st_mtime_ns == mtime  # not rebuilt
    assert shipping.code_digest() in first.name
    names = set(zipfile.ZipFile(first).namelist())
    for package in shipping.PACKAGES:
        assert f"{package}/__init__.py" in names
    assert "lineage/sql/extract.py" in names
    assert "jobs/log4j2.properties" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    # another content is another zip
    copy = tmp_path / "src"
    for package in shipping.PACKAGES:
        shutil.copytree(
            Path(shipping.__file__).parents[2] / package,
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    assert shipping.code_digest(copy) == shipping.code_digest()
    (copy / "lineage" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert shipping.code_digest(copy) != shipping.code_digest()
    assert shipping.package_zip(copy, where=tmp_path) != first


# --- slow: the cluster ------------------------------------------------------------------------

PROBE = textwrap.dedent(
    """
    import json, sys
    from pyspark.sql import SparkSession

    url, conf = sys.argv[1], json.loads(sys.argv[2])
    builder = SparkSession.builder.master(url).appName("shipping-probe")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()

    def probe(batches):
        import socket, sys
        import pandas as pd
        for batch in batches:
            for _ in range(len(batch)):
                try:
                    import jobs
                    from lineage.sql import extract_lineage
                    edges = len(extract_lineage("INSERT INTO t SELECT a AS b FROM s").column_edges)
                    found = f"ok {jobs.__file__} edges={edges}"
                except ModuleNotFoundError as exc:
                    found = f"missing {exc.name}"
                yield pd.DataFrame({"found": [found], "python": [sys.executable]})

    def run():
        df = spark.range(0, 4, 1, 4).mapInPandas(probe, "found string, python string")
        return sorted({(r.found, r.python) for r in df.collect()})  # at most 4 tiny rows

    out = {"before": run()}
    from jobs.store.shipping import ship
    out["zip"] = str(ship(spark, url))
    out["after"] = run()
    out["executors"] = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
    print(json.dumps(out))
    spark.stop()
    """
)


@pytest.mark.slow
def test_workers_import_the_product_only_after_it_is_shipped(spark_cluster, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE, encoding="utf-8")
    env = bare_env(spark_cluster.python, PYSPARK_DRIVER_PYTHON=sys.executable)
    env["COMPLIANCE_PYFILES_CACHE"] = str(tmp_path / "pyfiles")
    done = subprocess.run(
        [sys.executable, str(script), spark_cluster.url, json.dumps(spark_cluster.conf)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    pythons = {python for _, python in out["before"] + out["after"]}
    assert pythons == {str(spark_cluster.python)}  # the workers' venv, not the driver's
    assert {found for found, _ in out["before"]} == {"missing jobs"}
    zipped = Path(out["zip"])
    assert zipped.parent == tmp_path / "pyfiles" and zipped.suffix == ".zip"
    after = {found for found, _ in out["after"]}
    assert len(after) == 1, after
    (found,) = after
    # imported from the shipped zip, as Spark copied it to the executor's work folder
    assert found.startswith("ok ") and f"{zipped.name}/jobs/__init__.py" in found, found
    assert found.endswith("edges=1"), found
    assert out["executors"] == 2


def _nightly(env: dict[str, str], cwd: Path):
    """``compliance nightly`` for the demo date in its own process (a driver of the cluster)."""

    def run(conf: Path) -> None:
        done = subprocess.run(
            [str(BIN / "compliance"), "nightly", "--conf", str(conf), "--run-date", DEMO_DATE],
            capture_output=True,
            text=True,
            timeout=1800,
            cwd=cwd,
            env=env,
        )
        assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])

    return run


def _cluster_conf(cluster, engine: str) -> str:
    lines = "".join(f"    {k}: '{v}'\n" for k, v in cluster.conf.items())
    return f"storage:\n  engine: {engine}\nspark:\n  master: {cluster.url}\n  conf:\n{lines}"


def _driver_env(cluster, base: Path) -> dict[str, str]:
    env = bare_env(cluster.python, PYSPARK_DRIVER_PYTHON=sys.executable)
    env["COMPLIANCE_PYFILES_CACHE"] = str(base / "pyfiles")
    return env


@pytest.fixture(scope="module")
def nightlies(spark_cluster, demo_homes):
    """The demo nightly on the cluster (delta-rs), at the home path of the session's local
    delta-rs nightly (``demo_homes``), so paths recorded in tables are the same."""
    base = demo_homes.base
    conf = _cluster_conf(spark_cluster, "delta-rs")
    demo_homes.run("cluster", conf, _nightly(_driver_env(spark_cluster, base), base))
    return demo_homes


@pytest.mark.slow
def test_demo_nightly_on_the_cluster_leaves_the_tables_of_local_mode(spark, nightlies):
    mismatched = compare_warehouses(
        spark,
        nightlies.where("delta-rs"),
        nightlies.where("cluster"),
        labels=("in local mode", "on the cluster"),
    )
    assert not mismatched, "\n".join(mismatched)


def _listing(stdout: str) -> list[str]:
    lines = stdout.strip().splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("table ")) :]


@pytest.mark.slow
def test_spark_submit_runs_the_product_on_the_cluster(spark_cluster, nightlies, tmp_path):
    """The README's spark-submit: the entry script, a command; the session ships the code."""
    home = nightlies.bring_home("cluster")
    dist = tmp_path / "dist"
    made = subprocess.run(
        [sys.executable, "-m", "jobs.store.shipping", str(dist)],
        capture_output=True,
        text=True,
        check=True,
    )
    main = Path(made.stdout.strip())
    assert main == dist / "compliance_main.py"
    env = bare_env(spark_cluster.python, PYSPARK_DRIVER_PYTHON=sys.executable)
    confs = [a for k, v in spark_cluster.conf.items() for a in ("--conf", f"{k}={v}")]
    confs += ["--conf", f"spark.pyspark.driver.python={sys.executable}"]  # the installed product

    def apps() -> list[str]:
        return [a["name"] for a in spark_cluster.state().get("completedapps", [])]

    before = apps().count("compliance")
    done = subprocess.run(
        [
            str(BIN / "spark-submit"),
            *("--master", spark_cluster.url, "--name", "compliance-submit", *confs),
            str(main),
            *("tables", "--conf", str(home / "conf.yaml")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the same listing as the answer without Spark (delta-rs reading the Delta logs locally)
    plain = subprocess.run(
        [
            str(BIN / "compliance"),
            "tables",
            "--conf",
            str(home / "conf.yaml"),
            "--master",
            "local[1]",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    submitted = _listing(done.stdout)  # after the progress lines ("starting Spark", ...)
    expected = _listing(plain.stdout)
    assert len(submitted) > 10 and submitted[1:] == expected[1:]
    assert {"run_manifest", "lineage_edges", "lineage_closure"} <= {
        line.split()[0] for line in submitted[1:]
    }
    # the submitted command ran as one more application of the cluster (the product's session
    # names itself "compliance", whatever --name says)
    assert apps().count("compliance") == before + 1


@pytest.mark.slow
@pytest.mark.spark_engine
def test_demo_nightly_on_the_cluster_with_delta_spark_leaves_the_tables_of_local_mode(
    delta_spark, spark_cluster, nightlies
):
    """The same on the delta-spark engine (its jars go to the executors with ``spark.jars``),
    compared with the local delta-rs run (local delta-spark = local delta-rs is
    tests/test_engine_equality.py)."""
    base = nightlies.base
    conf = _cluster_conf(spark_cluster, "spark")
    nightlies.run("cluster-spark", conf, _nightly(_driver_env(spark_cluster, base), base))
    mismatched = compare_warehouses(
        delta_spark,
        nightlies.where("delta-rs"),
        nightlies.where("cluster-spark"),
        engines=("delta-rs", "spark"),
        labels=("in local mode (delta-rs)", "on the cluster (delta-spark)"),
        skip=ACROSS_ENGINES,
    )
    assert not mismatched, "\n".join(mismatched)
    steps = TableStore(
        delta_spark, str(nightlies.where("cluster-spark") / "warehouse"), engine="spark"
    )
    assert {r.engine for r in steps.read("run_manifest").select("engine").collect()} == {"spark"}
