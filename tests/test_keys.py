"""Tests for the daily restoration-log keyring (jobs/secrets/keyring.py)."""

from __future__ import annotations

import base64
import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

from jobs.secrets.keyring import (
    FileKeyring,
    KeyDirectoryError,
    KeyNotFoundError,
    KeyringError,
    KeyStatus,
    MemoryKeyring,
    RotationReport,
    key_day,
    key_id_for,
)

TODAY = date(2026, 11, 22)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _forms(material: bytes) -> list[str]:
    """The raw (latin-1), hex (both cases) and base64 forms of key bytes."""
    return [
        material.decode("latin-1"),
        material.hex(),
        material.hex().upper(),
        base64.b64encode(material).decode(),
        base64.urlsafe_b64encode(material).decode(),
    ]


@pytest.fixture()
def ring(tmp_path: Path) -> FileKeyring:
    return FileKeyring(tmp_path / "secrets" / "keys")


def test_key_id_round_trip_and_bad_ids() -> None:
    assert key_id_for(TODAY) == "k-20261122"
    assert key_day("k-20261122") == TODAY
    for bad in ["k-2026112", "../k-20261122", "k-20261322", "k-20261122/../x", "x"]:
        with pytest.raises(KeyringError, match="bad key id"):
            key_day(bad)


def test_directory_0700_and_files_0600_even_with_open_umask(ring: FileKeyring) -> None:
    old = os.umask(0)
    try:
        key = ring.today_key(TODAY)
    finally:
        os.umask(old)
    assert _mode(ring.path) == 0o700
    file = ring.path / "k-20261122.key"
    assert _mode(file) == 0o600
    assert file.read_bytes() == key.reveal_bytes()
    assert [p.name for p in ring.path.iterdir() if not p.name.startswith(".lock")] == [file.name]
    assert _mode(ring.path / ".lock") == 0o600


def test_create_on_first_use_returns_the_same_key_later(ring: FileKeyring) -> None:
    first = ring.today_key(TODAY)
    inode = os.stat(ring.path / "k-20261122.key").st_ino
    again = ring.today_key(TODAY)
    assert again == first
    assert ring.get("k-20261122") == first
    assert os.stat(ring.path / "k-20261122.key").st_ino == inode  # not rewritten
    assert ring.today_key(TODAY + timedelta(days=1)) != first


def test_concurrent_first_use_makes_one_key(ring: FileKeyring) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: ring.today_key(TODAY), range(16)))
    assert all(k == keys[0] for k in keys)
    assert ring.key_ids() == ["k-20261122"]


def test_refuses_group_readable_directory(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o755)
    ring = FileKeyring(loose)
    with pytest.raises(KeyDirectoryError, match=r"mode 0755; expected 0700 \(run: chmod 700"):
        ring.today_key(TODAY)
    with pytest.raises(KeyDirectoryError):
        ring.status(TODAY)
    assert list(loose.iterdir()) == []


def test_refuses_key_file_with_loose_mode(ring: FileKeyring) -> None:
    ring.today_key(TODAY)
    os.chmod(ring.path / "k-20261122.key", 0o644)
    with pytest.raises(KeyDirectoryError, match="k-20261122.key.*mode 0644"):
        ring.get("k-20261122")


def test_corrupt_key_file_is_an_error(ring: FileKeyring) -> None:
    ring.today_key(TODAY)
    (ring.path / "k-20261122.key").write_bytes(b"short")
    with pytest.raises(KeyringError, match="corrupt: 5 bytes, expected 32"):
        ring.get("k-20261122")


def test_missing_key_is_not_found(ring: FileKeyring) -> None:
    with pytest.raises(KeyNotFoundError, match="k-20260101.*unrecoverable"):
        ring.get("k-20260101")


def _seed(ring: FileKeyring, ages: list[int]) -> None:
    for age in ages:
        ring.today_key(TODAY - timedelta(days=age))


def test_rotation_destroys_keys_at_the_window_and_keeps_younger(ring: FileKeyring) -> None:
    _seed(ring, [120, 91, 90, 89, 1])
    kept_before = ring.get(key_id_for(TODAY - timedelta(days=89)))
    report = ring.rotate(TODAY, retention_days=90)
    assert report == RotationReport(
        today_key_id="k-20261122",
        created=True,
        destroyed=(
            key_id_for(TODAY - timedelta(days=120)),
            key_id_for(TODAY - timedelta(days=91)),
            key_id_for(TODAY - timedelta(days=90)),
        ),
        kept=(
            key_id_for(TODAY - timedelta(days=89)),
            key_id_for(TODAY - timedelta(days=1)),
            "k-20261122",
        ),
        retention_days=90,
        destroyed_ages=(120, 91, 90),
    )
    assert ring.status(TODAY) == [
        KeyStatus(key_id_for(TODAY - timedelta(days=89)), TODAY - timedelta(days=89), 89),
        KeyStatus(key_id_for(TODAY - timedelta(days=1)), TODAY - timedelta(days=1), 1),
        KeyStatus("k-20261122", TODAY, 0),
    ]
    assert ring.get(key_id_for(TODAY - timedelta(days=89))) == kept_before
    with pytest.raises(KeyNotFoundError):
        ring.get(key_id_for(TODAY - timedelta(days=91)))
    # a second rotation the same day is a no-op
    again = ring.rotate(TODAY, retention_days=90)
    assert (again.created, again.destroyed) == (False, ())


def test_destruction_overwrites_the_bytes_before_unlinking(
    ring: FileKeyring, tmp_path: Path
) -> None:
    old = ring.today_key(TODAY - timedelta(days=95))
    witness = tmp_path / "witness"
    os.link(ring.path / f"{old.key_id}.key", witness)  # a second name for the same inode
    ring.rotate(TODAY)
    assert not (ring.path / f"{old.key_id}.key").exists()
    assert witness.read_bytes() != old.reveal_bytes()
    assert len(witness.read_bytes()) == 32


def test_rotation_shreds_leftover_temporary_files(ring: FileKeyring) -> None:
    ring.today_key(TODAY)
    leftover = ring.path / ".tmp-k-20261123.123.abcd"
    fd = os.open(leftover, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    ring.rotate(TODAY)
    assert not leftover.exists()


def test_live_keys_apply_the_window_without_rotation() -> None:
    ring = MemoryKeyring()
    for age in [90, 89, 0]:
        ring.today_key(TODAY - timedelta(days=age))
    assert sorted(ring.live_keys(TODAY)) == [
        key_id_for(TODAY - timedelta(days=89)),
        "k-20261122",
    ]
    assert sorted(ring.live_keys(TODAY, retention_days=91)) == sorted(ring.key_ids())
    assert sorted(ring.all_keys()) == sorted(ring.key_ids())
    assert len(ring.key_ids()) == 3


def test_rotation_rejects_a_nonpositive_window() -> None:
    with pytest.raises(KeyringError, match="retention_days must be >= 1"):
        MemoryKeyring().rotate(TODAY, retention_days=0)


def test_no_key_bytes_in_status_reprs_or_logs(ring: FileKeyring, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _seed(ring, [100, 3])
    keys = [ring.get(k) for k in ring.key_ids()]
    report = ring.rotate(TODAY)
    live = ring.live_keys(TODAY)
    shown = " ".join(
        [
            repr(ring),
            repr(report),
            repr(ring.status(TODAY)),
            repr(live),
            str(live),
            caplog.text,
            *(f"{k} {k!r} {k!s:>10}" for k in live.values()),
        ]
    )
    assert "destroyed restoration-log key" in caplog.text
    for key in keys + list(live.values()):
        for form in _forms(key.reveal_bytes()):
            assert form not in shown
