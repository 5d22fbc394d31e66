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
