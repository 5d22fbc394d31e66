"""``compliance keys rotate`` prints the keys it destroyed, with their ages, never their bytes."""

from __future__ import annotations

import subprocess
import sys
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


_PROBE = """
import sys
from jobs.cli import main
code = main(sys.argv[1:])
print("HEAVY=" + ",".join(m for m in ("pyspark", "py4j") if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


def test_keys_status_lists_ids_and_ages_without_spark_or_key_bytes(tmp_path):
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\nretention:\n  restoration_days: 30\n", encoding="utf-8")
    ring = FileKeyring(tmp_path / "keys")
    secrets = [ring.today_key(TODAY - timedelta(days=age)).reveal_bytes() for age in (31, 30, 2)]
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            "keys",
            "status",
            "--conf",
            str(conf),
            "--run-date",
            str(TODAY),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "HEAVY=\n" in res.stderr  # no pyspark, no JVM
    old, edge, young = (key_id_for(TODAY - timedelta(days=a)) for a in (31, 30, 2))
    assert res.stdout.splitlines() == [
        f"restoration-log keys on {TODAY} (window 30 days): 3",
        f"  {old}    31 days  PAST THE WINDOW: run 'compliance keys rotate'",
        f"  {edge}    30 days  PAST THE WINDOW: run 'compliance keys rotate'",
        f"  {young}     2 days",
    ]
    for s in secrets:
        assert s.hex() not in res.stdout + res.stderr
