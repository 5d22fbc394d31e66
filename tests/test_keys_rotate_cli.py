"""``compliance keys rotate`` prints the keys it destroyed, with their ages, never their bytes."""

from __future__ import annotations

from datetime import date, timedelta

from jobs.cli import main
from jobs.secrets.keyring import FileKeyring, key_id_for

TODAY = date(2026, 11, 22)


def test_keys_rotate_prints_destroyed_key_ids_and_ages(spark, tmp_path, capsys):
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    ring = FileKeyring(tmp_path / "keys")
    secrets = [ring.today_key(TODAY - timedelta(days=age)).reveal_bytes() for age in (120, 90, 89)]

    assert main(["keys", "rotate", "--conf", str(conf), "--run-date", str(TODAY), "--quiet"]) == 0
    out = capsys.readouterr().out
    old, edge, young = (key_id_for(TODAY - timedelta(days=a)) for a in (120, 90, 89))
    assert f"2 destroyed ({old} (120 days old), {edge} (90 days old))" in out
    assert young not in out.split("live")[0]  # the 89-day key is kept, not listed as destroyed
    assert ring.key_ids() == [young, key_id_for(TODAY)]
    for s in secrets:
        assert s.hex() not in out and s.hex().upper() not in out
