"""How landing knows a file: its SHA-256, and for a file that grew, the hash of the part landed
before and whether that part ends at a line break (``jobs.steps.land_files.fingerprints``), checked
against Python's ``hashlib`` on the same bytes."""

from __future__ import annotations

import gzip
import hashlib
from types import SimpleNamespace

import pytest

from jobs.steps.land_files import fingerprints
from jobs.store.files import InputFile


def _file(tmp_path, name: str, data: bytes) -> InputFile:
    p = tmp_path / name
    p.write_bytes(data)
    return InputFile(f"file:{p}", len(data), 0)


def test_each_file_gets_its_hash_and_a_grown_file_its_old_prefix(spark, tmp_path):
    grown = b'{"a": 1}\n{"a": 2}\n{"a": 3}\n'
    cut = b'{"a": 1}\n{"a": 2'  # the earlier size ends mid-line: not an append
    big = b"x" * 3_000_000 + b"\n"
    packed = gzip.compress(b'{"a": 1}\n')
    files = [
        _file(tmp_path, "grown.jsonl", grown),
        _file(tmp_path, "cut.jsonl", cut + b'}\n{"a": 3}\n'),
        _file(tmp_path, "big.jsonl", big),
        _file(tmp_path, "packed.jsonl.gz", packed),
        _file(tmp_path, "same.jsonl", grown),
    ]
    prev = {
        files[0].path: {"size": 18},  # two of three lines landed before
        files[1].path: {"size": len(cut)},
        files[4].path: {"size": len(grown)},  # unchanged size: no prefix to hash
    }
    got = fingerprints(SimpleNamespace(spark=spark), files, prev)

    def sha(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    assert got == {
        files[0].path: (sha(grown), sha(grown[:18]), True),
        files[1].path: (sha(cut + b'}\n{"a": 3}\n'), sha(cut), False),
        files[2].path: (sha(big), None, False),
        files[3].path: (sha(packed), None, False),  # the bytes on disk, not the lines inside
        files[4].path: (sha(grown), None, False),
    }


def test_a_file_that_cannot_be_opened_raises_as_a_spark_read_would(spark, tmp_path):
    from py4j.protocol import Py4JJavaError

    gone = InputFile(f"file:{tmp_path / 'gone.jsonl'}", 10, 0)
    with pytest.raises(Py4JJavaError):
        fingerprints(SimpleNamespace(spark=spark), [gone], {})
