"""The pseudonymisation key is never recreated silently once the warehouse depends on it."""

from __future__ import annotations

import hashlib
import hmac
import shutil

import pytest
from _restoration_world import TODAY, build_world

from jobs.cli import main
from jobs.secrets.pseudonym import CHECK_TABLE, KEY_FILE, KeyLossError, preflight, pseudonym_key


def _args(tmp_path):
    return ["--conf", str(tmp_path / "conf.yaml"), "--run-date", str(TODAY), "--quiet"]


def test_purge_with_an_emptied_key_directory_refuses_with_one_line_and_exit_2(
    spark, tmp_path, capsys
):
    w = build_world(spark, tmp_path, conf=f"home: {tmp_path}\n")  # findings hold sk_ keys
    key_dir = w.ctx.cfg.keys.dir
    shutil.rmtree(key_dir)

    assert main(["purge", "--deletion-id", "del-2", *_args(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{key_dir}/{KEY_FILE} is missing" in err and "residual_findings" in err
    assert "restore" in err and "backup" in err
    assert not (tmp_path / "keys" / KEY_FILE).exists()  # no new key was made
    assert w.customers().count() == 5  # nothing purged


def test_first_use_records_a_check_value_then_a_lost_or_other_key_is_refused(spark, tmp_path):
    w = build_world(spark, tmp_path)
    key = pseudonym_key(w.ctx)
    secret = (tmp_path / "keys" / KEY_FILE).read_bytes()
    label = b"compliance pseudonym-key check value v1"
    expected = "kc_" + hmac.new(secret, label, hashlib.sha256).hexdigest()[:32]
    rows = [r.check_value for r in w.ctx.store.read(CHECK_TABLE).collect()]
    assert rows == [expected] and key.check_value() == expected
    assert secret.hex() not in expected
    assert pseudonym_key(w.ctx).check_value() == expected  # same key: accepted, not re-recorded
    assert w.ctx.store.read(CHECK_TABLE).count() == 1

    (tmp_path / "keys" / KEY_FILE).write_bytes(bytes(32))  # another key put in its place
    with pytest.raises(KeyLossError, match=f"not the key.*recorded {expected}"):
        pseudonym_key(w.ctx)

    shutil.rmtree(tmp_path / "keys")
    with pytest.raises(KeyLossError, match=f"missing.*table {CHECK_TABLE}"):
        preflight(w.ctx.cfg.keys.dir, w.ctx.cfg.warehouse)  # caught before Spark starts
    with pytest.raises(KeyLossError, match="missing"):
        pseudonym_key(w.ctx)
    assert not (tmp_path / "keys" / KEY_FILE).exists()


def test_a_fresh_warehouse_creates_and_records_the_key(spark, tmp_path):
    w = build_world(spark, tmp_path / "a")
    for name in w.ctx.store.list_tables():  # an empty warehouse: no pseudonymised rows
        shutil.rmtree(w.ctx.store.path(name))
    shutil.rmtree(tmp_path / "a" / "keys")
    preflight(w.ctx.cfg.keys.dir, w.ctx.cfg.warehouse)
    key = pseudonym_key(w.ctx)
    assert (tmp_path / "a" / "keys" / KEY_FILE).exists()
    assert [r.check_value for r in w.ctx.store.read(CHECK_TABLE).collect()] == [key.check_value()]
