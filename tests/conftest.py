"""Shared fixtures: one session-scoped SparkSession for the whole suite.

The session loads the delta-spark jars when they are here (``python -m jobs.delta_jars`` fetches
them; .ci/run does), so both storage engines run in it: ``TableStore(engine="spark")`` and
``engine="delta-rs"``. Without them the spark-engine tests skip with a reason, unless
``COMPLIANCE_REQUIRE_DELTA_JARS=1`` (set by .ci/run after a successful fetch) makes them fail.
"""

from __future__ import annotations

import pytest
from _s3 import S3_KEY_ID, S3_SECRET, start_moto

from jobs.store.session import build_session


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession with few shuffle partitions and no UI, shared by every test.

    It carries the delta-spark jars when they are here; ``engine: auto`` still resolves to
    delta-rs in it (embedded default), so only tests that ask for ``engine="spark"`` use them.
    """
    from jobs import s3a_jars
    from jobs.delta_jars import find_jars

    conf = {
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.driver.memory": "2g",
    }
    aws = s3a_jars.find_jars()  # hadoop-aws for the object-store tests (tests/test_object_store.py)
    if aws:
        conf["spark.jars"] = ",".join(str(j) for j in aws)
    session = build_session(
        master="local[2]",
        conf=conf,
        app_name="compliance-tests",
        engine="spark" if find_jars() else "delta-rs",
    )
    yield session
    session.stop()


NO_JARS = "delta-spark jars not here (python -m jobs.delta_jars fetches them)"


@pytest.fixture(scope="session")
def delta_spark(spark):
    """The session, asserted to have the delta-spark classes; skips (or fails in CI) without."""
    import os

    from jobs.store.spark_tables import delta_classes_loaded

    if not delta_classes_loaded(spark):
        if os.environ.get("COMPLIANCE_REQUIRE_DELTA_JARS") == "1":
            pytest.fail(NO_JARS)
        pytest.skip(NO_JARS)
    return spark


NO_S3A = "hadoop-aws jars not here (python -m jobs.s3a_jars fetches them)"


@pytest.fixture(scope="session")
def s3(spark):
    """An S3-compatible endpoint on loopback (moto) with the bucket ``lake``, and the session
    able to reach it (hadoop-aws loaded). Skips without the jars (fails in CI, where
    ``COMPLIANCE_REQUIRE_S3A_JARS=1``).

    Returns a namespace: ``endpoint``, ``bucket``, ``options`` (``storage.storage_options`` with
    the fake credentials), ``client`` (boto3) and ``store`` (the resolved store).
    """
    import os
    from types import SimpleNamespace

    from jobs import s3a_jars
    from jobs.store import object_store

    if not s3a_jars.find_jars():
        if os.environ.get("COMPLIANCE_REQUIRE_S3A_JARS") == "1":
            pytest.fail(NO_S3A)
        pytest.skip(NO_S3A)
    boto3 = pytest.importorskip("boto3")
    proc, endpoint = start_moto()
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEY_ID,
        aws_secret_access_key=S3_SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="lake")
    options = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": S3_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }
    store = object_store.resolve(options, env={})
    object_store.apply(spark, store, {})
    yield SimpleNamespace(
        endpoint=endpoint, bucket="lake", options=options, client=client, store=store
    )
    proc.terminate()
    proc.wait(timeout=30)


DEMO_DATE = "2026-11-22"


@pytest.fixture(scope="session")
def demo_run(spark, tmp_path_factory, worker_id):
    """The demo company, generated and run through `compliance nightly` once for the test run.

    Returns a namespace with ``home``, ``conf`` (a config file rooted at home), ``store`` (the
    product warehouse), ``audited`` (the company's tables), ``truth`` (ground_truth.json) and
    ``exit_code``. Tests must not modify it; tests that mutate copy it first.

    Under pytest-xdist (the README's test command runs several workers) the first worker that
    needs it builds it under a file lock in the run's shared base directory, and the others read
    the same home: one demo nightly per test run, as in a single process.
    """
    import json
    import shutil
    from datetime import date
    from types import SimpleNamespace

    from filelock import FileLock

    from jobs.cli import main
    from jobs.demo import generate_demo
    from jobs.store.tables import TableStore

    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent  # shared by every worker of this run
    home = base / "demo-shared"
    done = base / "demo-shared.exit-code"
    with FileLock(str(base / "demo-shared.lock")):
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)  # a worker that died half-way
            home.mkdir()
            generate_demo(home, as_of=date.fromisoformat(DEMO_DATE))
            conf = home / "conf.yaml"
            conf.write_text(f"home: {home}\n", encoding="utf-8")
            code = main(["nightly", "--conf", str(conf), "--run-date", DEMO_DATE, "--quiet"])
            done.write_text(str(code), encoding="utf-8")
    return SimpleNamespace(
        home=home,
        conf=home / "conf.yaml",
        exit_code=int(done.read_text(encoding="utf-8")),
        store=TableStore(spark, str(home / "warehouse")),
        audited=TableStore(spark, str(home / "company")),
        truth=json.loads((home / "ground_truth.json").read_text(encoding="utf-8")),
    )


@pytest.fixture(scope="session")
def demo_homes(spark, tmp_path_factory):
    """Demo nightlies at one home path, side by side (``_demo_homes.DemoHomes``), with the local
    delta-rs one already run (``demo_homes.where("delta-rs")``): the engine-equality and the
    cluster tests compare their own runs with it. Slow tests only (a whole nightly)."""
    from _demo_homes import DemoHomes, in_process

    homes = DemoHomes(tmp_path_factory.mktemp("demo-homes"))
    homes.run("delta-rs", "storage:\n  engine: delta-rs\n", in_process)
    return homes


from _cluster import spark_cluster  # noqa: E402, F401  (the standalone cluster fixture)
