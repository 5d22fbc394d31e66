"""Shared fixtures: one session-scoped SparkSession for the whole suite."""

from __future__ import annotations

import pytest

from jobs.spark import build_session


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession with few shuffle partitions and no UI, shared by every test."""
    session = build_session(
        master="local[2]",
        conf={
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "2g",
        },
        app_name="compliance-tests",
    )
    yield session
    session.stop()


DEMO_DATE = "2026-11-22"


@pytest.fixture(scope="session")
def demo_run(spark, tmp_path_factory):
    """The demo company, generated and run through `compliance nightly` once for the session.

    Returns a namespace with ``home``, ``conf`` (a config file rooted at home), ``store`` (the
    product warehouse), ``audited`` (the company's tables), ``truth`` (ground_truth.json) and
    ``exit_code``. Tests must not modify it; tests that mutate copy it first.
    """
    import json
    from datetime import date
    from types import SimpleNamespace

    from jobs.cli import main
    from jobs.demo import generate_demo
    from jobs.tables import TableStore

    home = tmp_path_factory.mktemp("demo")
    generate_demo(home, as_of=date.fromisoformat(DEMO_DATE))
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    code = main(["nightly", "--conf", str(conf), "--run-date", DEMO_DATE, "--quiet"])
    return SimpleNamespace(
        home=home, conf=conf, exit_code=code,
        store=TableStore(spark, str(home / "warehouse")),
        audited=TableStore(spark, str(home / "company")),
        truth=json.loads((home / "ground_truth.json").read_text(encoding="utf-8")),
    )
