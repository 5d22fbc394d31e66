"""Tests of the ``compliance`` command line (jobs/cli.py): help, usage errors and one-line
configuration errors with exit code 2 and no traceback."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from jobs.cli import main


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert "Traceback" not in err
    assert lines[0].startswith("compliance: error:"), lines[0]
    return lines[0]


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: compliance")
    for command in ("demo", "nightly", "land", "ingest", "tables"):
        assert command in out, command


def test_subcommand_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["land", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--conf", "--run-date", "--master", "--quiet"):
        assert option in out


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "21/11/2026", ""])
def test_bad_run_date_exits_2_via_argparse(capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["land", "--run-date", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid date" in err and "YYYY-MM-DD" in err
    assert "Traceback" not in err


def test_no_command_and_unknown_command_exit_2(capsys):
    for argv in ([], ["frobnicate"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_missing_config_file_returns_2_with_one_line(capsys):
    assert main(["land", "--conf", "/nonexistent.yaml"]) == 2
    line = one_error_line(capsys)
    assert "/nonexistent.yaml" in line and "not found" in line


@pytest.mark.parametrize("command", ["land", "nightly", "tables", "demo"])
def test_misspelt_key_returns_2_naming_file_and_key(tmp_path, capsys, command):
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(f"home: {tmp_path}\ndeletion:\n  idle_after_hour: 3\n", encoding="utf-8")
    assert main([command, "--conf", str(cfg)]) == 2
    line = one_error_line(capsys)
    assert str(cfg) in line
    assert (
        "'deletion.idle_after_hour'" in line and "did you mean 'deletion.idle_after_hours'" in line
    )


def test_ill_typed_value_returns_2(tmp_path, capsys):
    cfg = tmp_path / "conf.yaml"
    cfg.write_text("deletion:\n  idle_after_hours: soon\n", encoding="utf-8")
    assert main(["nightly", "--conf", str(cfg), "--run-date", "2026-11-21"]) == 2
    line = one_error_line(capsys)
    assert "'deletion.idle_after_hours'" in line and "expected a number" in line


def test_invalid_yaml_returns_2(tmp_path, capsys):
    cfg = tmp_path / "conf.yaml"
    cfg.write_text("home: [unclosed\n", encoding="utf-8")
    assert main(["land", "--conf", str(cfg)]) == 2
    line = one_error_line(capsys)
    assert str(cfg) in line and "line " in line


def test_demo_with_a_bad_scale_is_a_usage_error(tmp_path, capsys):
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    assert main(["demo", "--conf", str(cfg), "--scale", "0", "--out", str(tmp_path / "out")]) == 2
    assert "--scale" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def _home(tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "catalog.yaml").write_text("", encoding="utf-8")
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(f"home: {tmp_path}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")
    return cfg


def test_tables_on_an_empty_warehouse(spark, tmp_path, capsys):
    cfg = _home(tmp_path)
    assert main(["tables", "--conf", str(cfg), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no tables yet" in out and str(tmp_path / "warehouse") in out


def test_tables_lists_version_and_row_count(spark, tmp_path, capsys):
    from jobs.store.tables import TableStore

    cfg = _home(tmp_path)
    store = TableStore(spark, str(tmp_path / "warehouse"), engine="delta-rs")
    store.append("crm.customers", spark.createDataFrame([(1,), (2,), (3,)], "id bigint"))
    store.append("crm.customers", spark.createDataFrame([(4,)], "id bigint"))
    assert main(["tables", "--conf", str(cfg), "--quiet"]) == 0
    out = capsys.readouterr().out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("crm.customers")]
    assert line.split()[1] == "1"  # version
    assert line.split()[-1] == "4"  # rows


def test_a_live_lock_held_by_another_run_returns_2(spark, tmp_path, capsys):
    cfg = _home(tmp_path)
    lock = tmp_path / "nightly.lock"
    # a live process on this host: our own parent (pytest's launcher, or init)
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "started": time.time()}
    lock.write_text(json.dumps(holder), encoding="utf-8")
    assert main(["land", "--conf", str(cfg), "--run-date", "2026-11-21", "--quiet"]) == 2
    line = one_error_line(capsys)
    assert "another run" in line and str(lock) in line
    assert lock.exists()  # the other run's lock is left alone


@pytest.mark.parametrize("where", ["--master", "env", "config"])
def test_a_master_spark_cannot_take_is_one_line_before_any_jvm(
    tmp_path, capsys, monkeypatch, where
):
    from jobs.store import session

    def never(**_kwargs):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(session, "build_session", never)
    monkeypatch.delenv("COMPLIANCE_SPARK_MASTER", raising=False)
    cfg = _home(tmp_path)
    argv = ["land", "--conf", str(cfg), "--run-date", "2026-11-21", "--quiet"]
    if where == "--master":
        argv += ["--master", "bogus://x"]
    elif where == "env":
        monkeypatch.setenv("COMPLIANCE_SPARK_MASTER", "local[0]")
    else:
        cfg.write_text(cfg.read_text(encoding="utf-8") + "spark:\n  master: localhost\n")
    assert main(argv) == 2
    line = one_error_line(capsys)
    source = {"--master": "--master", "env": "COMPLIANCE_SPARK_MASTER", "config": "spark.master"}
    assert f"{source[where]} is '" in line and "not a Spark master" in line


def test_a_read_only_warehouse_is_one_line_before_any_jvm(tmp_path):
    """Permission bits do not stop root: as root the command runs without the capabilities
    that let root write anywhere (``setpriv``, util-linux)."""
    import subprocess
    import sys

    cfg = _home(tmp_path)
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    os.chmod(warehouse, 0o555)
    drop = []
    if os.geteuid() == 0:
        drop = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    argv = ["land", "--conf", str(cfg), "--run-date", "2026-11-21", "--quiet"]
    code = f"from jobs.cli import main; raise SystemExit(main({argv!r}))"
    try:
        run = subprocess.run(
            [*drop, sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
    finally:
        os.chmod(warehouse, 0o755)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines == [
        f"compliance: error: warehouse {warehouse} cannot be written (Permission denied): "
        "make it writable or set 'warehouse' to another folder"
    ]


def _alias_bomb(key: str) -> str:
    """A few hundred bytes of YAML that hold 9**9 (387 million) values once aliases expand."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\n{key}: *l8\n"


@pytest.mark.parametrize("where", ["conf.yaml", "catalog.yaml"])
def test_an_alias_bomb_in_a_configuration_file_is_one_short_line(tmp_path, capsys, where):
    cfg = _home(tmp_path)
    path = cfg if where == "conf.yaml" else tmp_path / "inputs" / "catalog.yaml"
    text = path.read_text(encoding="utf-8") if where == "conf.yaml" else ""
    path.write_text(text + _alias_bomb("assets"), encoding="utf-8")
    assert len(path.read_bytes()) < 1000
    t0 = time.monotonic()
    assert main(["nightly", "--conf", str(cfg), "--run-date", "2026-11-21", "--quiet"]) == 2
    assert time.monotonic() - t0 < 30  # nothing expanded it: no minutes of work, no GBs
    line = one_error_line(capsys)
    assert (
        f"{path}: YAML document too large once its aliases are expanded (over 100,000 values): "
        "an alias bomb?"
    ) in line
    assert len(line) < 600  # with the other problems found in the same pass (catalog: policies)
