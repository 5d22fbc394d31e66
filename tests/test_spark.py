from __future__ import annotations

from jobs.store.session import resolve_master


def test_session_is_utc_and_quiet(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.ui.enabled") == "false"
    assert spark.range(5).count() == 5


def test_master_resolution_order(monkeypatch):
    monkeypatch.delenv("COMPLIANCE_SPARK_MASTER", raising=False)
    assert resolve_master(None) == "local[*]"
    assert resolve_master("spark://h:7077") == "spark://h:7077"
    monkeypatch.setenv("COMPLIANCE_SPARK_MASTER", "local[3]")
    assert resolve_master("spark://h:7077") == "local[3]"
    assert resolve_master("spark://h:7077", "yarn") == "yarn"
