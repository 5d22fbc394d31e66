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
