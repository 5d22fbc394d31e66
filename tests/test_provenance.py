"""MANIFEST.json: the digests of a report folder, the chain to the previous run, verification."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from jobs.cli import main
from reports.provenance import (
    MANIFEST_NAME,
    previous_run_folder,
    verify_folder,
    write_manifest,
)


def _folder(root: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = root / name
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def test_manifest_records_every_file_and_the_previous_manifest(tmp_path):
    first = _folder(tmp_path, "2026-11-21", {"index.html": b"<p>one</p>"})
    write_manifest(first, facts={"run_date": "2026-11-21"}, previous=None)
    files = {"index.html": b"<p>two</p>", "details/a.csv": b"x,y\n1,2\n"}
    second = _folder(tmp_path, "2026-11-22", files)
    _folder(tmp_path, "latest", {"index.html": b"other"})
    assert previous_run_folder(tmp_path, date(2026, 11, 22)) == first
    assert previous_run_folder(tmp_path, date(2026, 11, 21)) is None
    m = write_manifest(second, facts={"run_date": "2026-11-22"}, previous=first)
    on_disk = json.loads((second / MANIFEST_NAME).read_text())
    assert on_disk == json.loads(json.dumps(m))
    assert on_disk["files"] == {
        rel: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for rel, data in sorted(files.items())
    }
    expected_link = hashlib.sha256((first / MANIFEST_NAME).read_bytes()).hexdigest()
    assert on_disk["previous"] == {"folder": "2026-11-21", "sha256": expected_link}
    assert on_disk["facts"] == {"run_date": "2026-11-22"}
    ok = verify_folder(second)
    assert ok.ok and ok.files == 2 and ok.lines() == []


def test_verify_names_changed_missing_added_files_and_a_broken_chain(tmp_path):
    first = _folder(tmp_path, "2026-11-21", {"index.html": b"<p>one</p>"})
    write_manifest(first, facts={}, previous=None)
    second = _folder(tmp_path, "2026-11-22", {"a.html": b"aaaa", "b.csv": b"b", "c.json": b"{}"})
    write_manifest(second, facts={}, previous=first)
    (second / "a.html").write_bytes(b"aaab")  # one byte changed, same size
    (second / "b.csv").unlink()
    (second / "d.txt").write_bytes(b"new")
    (first / "index.html").write_bytes(b"<p>0ne</p>")
    write_manifest(first, facts={}, previous=None)  # the older run's manifest rewritten to match
    got = verify_folder(second)
    assert not got.ok
    assert (got.changed, got.missing, got.added) == (("a.html",), ("b.csv",), ("d.txt",))
    assert got.problems == ("chain: the manifest of 2026-11-21 is not the one this run recorded",)
    assert verify_folder(first).ok


def test_verify_report_command(tmp_path, capsys):
    folder = _folder(tmp_path, "2026-11-22", {"index.html": b"<p>ok</p>"})
    write_manifest(folder, facts={}, previous=None)
    assert main(["verify-report", str(folder)]) == 0
    assert "1 files match" in capsys.readouterr().out
    (folder / "index.html").write_bytes(b"<p>ko</p>")
    assert main(["verify-report", str(folder)]) == 5
    out = capsys.readouterr()
    assert f"{folder}: changed: index.html" in out.out and "does NOT match" in out.err
    assert main(["verify-report", str(tmp_path / "nope")]) == 2
    assert main(["verify-report", str(tmp_path)]) == 5  # a folder without a manifest
    assert "no MANIFEST.json" in capsys.readouterr().out


def test_config_digests_name_the_defaults_and_the_user_file(tmp_path):
    from jobs.config.settings import DEFAULT_FILE
    from jobs.steps.report_provenance import config_digest, utc

    user = tmp_path / "conf.yaml"
    user.write_bytes(b"home: /x\n")
    assert config_digest(str(user)) == hashlib.sha256(b"home: /x\n").hexdigest()
    assert config_digest("<defaults>") is None
    assert config_digest(str(DEFAULT_FILE)) == hashlib.sha256(DEFAULT_FILE.read_bytes()).hexdigest()
    from datetime import datetime, timedelta, timezone

    assert utc(datetime(2026, 11, 22, 1, 2, 3)) == "2026-11-22T01:02:03Z"
    plus_one = timezone(timedelta(hours=1))
    assert utc(datetime(2026, 11, 22, 1, 2, 3, tzinfo=plus_one)) == "2026-11-22T00:02:03Z"
