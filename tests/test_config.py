"""Tests of configuration loading and validation (jobs/config/settings.py).

No Spark here: every test writes a small YAML file under tmp_path and calls ``load_config`` with an
explicit ``env`` mapping, so the machine's environment never leaks in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.cli import exit_code_for
from jobs.config.settings import Config, load_config
from jobs.errors import ConfigError


def write(tmp_path: Path, text: str | bytes, name: str = "conf.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def config_error(path, env=None) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env or {})
    assert exit_code_for(err.value) == 2
    msg = str(err.value)
    assert "\n" not in msg and "\r" not in msg, f"not one line: {msg!r}"
    return msg


def test_defaults_load_and_paths_resolve_under_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={})
    assert isinstance(cfg, Config)
    home = tmp_path / ".compliance"
    assert cfg.home == str(home)
    assert cfg.source == "<defaults>"
    assert cfg.warehouse == str(home / "warehouse")
    assert cfg.audited_warehouse == str(home / "company")
    assert cfg.reports == str(home / "reports")
    assert cfg.keys.dir == str(home / "keys")
    assert cfg.inputs.query_logs == str(home / "inputs" / "query_logs")
    assert cfg.inputs.deletion_requests == str(home / "inputs" / "deletion_requests")
    assert cfg.inputs.catalog == str(home / "inputs" / "catalog.yaml")
    # typed values
    assert cfg.storage.engine == "auto"
    assert cfg.spark.master == "local[*]" and cfg.spark.conf == {}
    assert cfg.deletion.idle_after_hours == 24.0 and isinstance(
        cfg.deletion.idle_after_hours, float
    )
    assert cfg.deletion.progress_events == 3 and isinstance(cfg.deletion.progress_events, int)
    assert cfg.lineage.max_depth is None
    assert cfg.keys.rotate_daily is True
    assert cfg.observability.openlineage_sink is None


def test_overlay_file_overrides_a_subset(tmp_path):
    path = write(
        tmp_path,
        f"""
home: {tmp_path}/state
warehouse: /data/wh
inputs:
  query_logs: logs/queries
deletion:
  idle_after_hours: 6
spark:
  conf:
    spark.executor.memory: 8g
lineage:
  max_depth: 4
""",
    )
    cfg = load_config(path, env={})
    assert cfg.source == str(path)
    assert cfg.home == str(tmp_path / "state")
    assert cfg.warehouse == "/data/wh"  # absolute: kept
    assert cfg.inputs.query_logs == str(tmp_path / "state" / "logs" / "queries")
    assert cfg.inputs.openlineage == str(
        tmp_path / "state" / "inputs" / "openlineage"
    )  # default kept
    assert cfg.deletion.idle_after_hours == 6.0
    assert cfg.deletion.progress_events == 3  # sibling keys keep their defaults
    assert cfg.spark.conf == {"spark.executor.memory": "8g"}
    assert cfg.spark.master == "local[*]"
    assert cfg.lineage.max_depth == 4


def test_uri_paths_are_kept_as_they_are(tmp_path):
    path = write(
        tmp_path,
        f"home: {tmp_path}\nwarehouse: s3://bucket/wh\ninputs:\n  query_logs: hdfs://nn/logs\n",
    )
    cfg = load_config(path, env={})
    assert cfg.warehouse == "s3://bucket/wh"
    assert cfg.inputs.query_logs == "hdfs://nn/logs"


def test_empty_overlay_file_means_defaults(tmp_path):
    cfg = load_config(write(tmp_path, "# nothing\n"), env={"COMPLIANCE_HOME": str(tmp_path)})
    assert cfg.deletion.default_sla_days == 30 and cfg.home == str(tmp_path)


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ("warehose: /x\n", "warehose", "warehouse"),
        (
            "deletion:\n  idle_after_hour: 3\n",
            "deletion.idle_after_hour",
            "deletion.idle_after_hours",
        ),
        ("inputs:\n  query_log: x\n", "inputs.query_log", "inputs.query_logs"),
        ("storage:\n  engin: auto\n", "storage.engin", "storage.engine"),
    ],
)
def test_misspelt_key_is_named_with_a_suggestion(tmp_path, text, key, suggestion):
    path = write(tmp_path, text)
    msg = config_error(path)
    assert msg.startswith(str(path))
    assert f"'{key}'" in msg
    assert f"did you mean '{suggestion}'" in msg


def test_unknown_key_without_a_close_match_is_still_named(tmp_path):
    msg = config_error(write(tmp_path, "zzqx: 1\n"))
    assert "unknown key 'zzqx'" in msg and "did you mean" not in msg


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("deletion:\n  idle_after_hours: soon\n", "deletion.idle_after_hours", "a number"),
        ("deletion:\n  progress_events: 2.5\n", "deletion.progress_events", "an integer"),
        ("deletion:\n  progress_events: true\n", "deletion.progress_events", "an integer"),
        ("keys:\n  rotate_daily: maybe\n", "keys.rotate_daily", "true/false"),
        ("lineage:\n  max_depth: deep\n", "lineage.max_depth", "an integer or null"),
        ("spark:\n  conf: [a, b]\n", "spark.conf", "a mapping"),
        ("spark:\n  master: [local]\n", "spark.master", "a string"),
        ("deletion: 5\n", "deletion", "a mapping"),
    ],
)
def test_ill_typed_value_names_the_key_and_the_expected_type(tmp_path, text, key, expected):
    path = write(tmp_path, text)
    msg = config_error(path)
    assert msg.startswith(str(path))
    assert f"'{key}'" in msg
    assert f"expected {expected}" in msg


def test_null_for_a_required_key_says_missing(tmp_path):
    msg = config_error(write(tmp_path, "deletion:\n  idle_after_hours: null\n"))
    assert "'deletion.idle_after_hours'" in msg and "missing" in msg and "a number" in msg
    msg = config_error(write(tmp_path, "warehouse: ~\n", "w.yaml"))
    assert "'warehouse'" in msg and "missing" in msg


def test_null_is_accepted_where_the_key_is_optional(tmp_path):
    cfg = load_config(
        write(tmp_path, "lineage:\n  max_depth: null\nobservability:\n  openlineage_sink: null\n"),
        env={},
    )
    assert cfg.lineage.max_depth is None and cfg.observability.openlineage_sink is None


def test_unknown_engine(tmp_path):
    msg = config_error(write(tmp_path, "storage:\n  engine: hive\n"))
    assert "'storage.engine'" in msg and "'hive'" in msg
    assert "auto" in msg and "spark" in msg and "delta-rs" in msg


@pytest.mark.parametrize("engine", ["auto", "spark", "delta-rs"])
def test_every_known_engine_is_accepted(tmp_path, engine):
    assert (
        load_config(write(tmp_path, f"storage:\n  engine: {engine}\n"), env={}).storage.engine
        == engine
    )


def test_min_confidence_out_of_range(tmp_path):
    msg = config_error(write(tmp_path, "lineage:\n  min_confidence: 1.5\n"))
    assert "'lineage.min_confidence'" in msg and "between 0 and 1" in msg


def test_invalid_yaml_names_the_file_and_the_line(tmp_path):
    path = write(tmp_path, "home: /tmp/x\ndeletion:\n  idle_after_hours: 3\n\tbad: tab\n")
    msg = config_error(path)
    assert msg.startswith(str(path))
    assert "line 4" in msg


def test_unclosed_flow_sequence_is_reported_with_a_line(tmp_path):
    path = write(tmp_path, "home: /tmp/x\nspark:\n  conf: {a: 1,\n")
    msg = config_error(path)
    assert msg.startswith(str(path)) and "line " in msg


def test_top_level_list_is_refused(tmp_path):
    path = write(tmp_path, "- a\n- b\n")
    msg = config_error(path)
    assert msg.startswith(str(path)) and "mapping" in msg


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    msg = config_error(path)
    assert str(path) in msg and "not found" in msg


def test_a_directory_instead_of_a_file(tmp_path):
    msg = config_error(tmp_path)
    assert str(tmp_path) in msg


def test_environment_overrides_home_warehouse_and_master(tmp_path):
    path = write(tmp_path, "home: /ignored/home\nwarehouse: /ignored/wh\nspark:\n  master: yarn\n")
    env = {
        "COMPLIANCE_HOME": str(tmp_path / "h"),
        "COMPLIANCE_WAREHOUSE": "s3://bucket/warehouse",
        "COMPLIANCE_SPARK_MASTER": "spark://master:7077",
    }
    cfg = load_config(path, env=env)
    assert cfg.home == str(tmp_path / "h")
    assert cfg.warehouse == "s3://bucket/warehouse"
    assert cfg.spark.master == "spark://master:7077"
    assert cfg.inputs.catalog == str(
        tmp_path / "h" / "inputs" / "catalog.yaml"
    )  # follows the new home


def test_relative_warehouse_from_the_environment_resolves_under_home(tmp_path):
    cfg = load_config(env={"COMPLIANCE_HOME": str(tmp_path), "COMPLIANCE_WAREHOUSE": "wh2"})
    assert cfg.warehouse == str(tmp_path / "wh2")
    assert cfg.spark.master == "local[*]"


def test_empty_environment_values_are_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(
        env={"COMPLIANCE_HOME": "", "COMPLIANCE_WAREHOUSE": "", "COMPLIANCE_SPARK_MASTER": ""}
    )
    assert cfg.home == str(tmp_path / ".compliance") and cfg.spark.master == "local[*]"


def test_process_environment_is_used_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLIANCE_HOME", str(tmp_path / "from-env"))
    monkeypatch.delenv("COMPLIANCE_WAREHOUSE", raising=False)
    assert load_config().home == str(tmp_path / "from-env")


# -- bugs found ---------------------------------------------------------------------------------


def test_non_utf8_file_is_a_config_error(tmp_path):
    path = write(tmp_path, b"home: caf\xe9\n")
    msg = config_error(path)
    assert str(path) in msg


def test_null_spark_section_with_master_from_env_is_a_config_error(tmp_path):
    path = write(tmp_path, "spark: null\n")
    msg = config_error(path, env={"COMPLIANCE_SPARK_MASTER": "local[1]"})
    assert "'spark'" in msg
