"""The hadoop-aws jars: the version pyspark's Hadoop needs, found on disk, one line offline.

Missing jars are made by pointing HOME (where Ivy's folder is looked up) at an empty folder;
offline is a network namespace with only loopback (``unshare -n``), as for the Delta jars.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyspark
import pytest

from jobs import s3a_jars

ROOT = Path(__file__).resolve().parents[1]


def test_the_hadoop_version_is_the_one_pyspark_ships():
    shipped = [p.name for p in (Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*")]
    assert shipped == [f"hadoop-client-api-{s3a_jars.hadoop_version()}.jar"]
    assert s3a_jars.coordinate("3.4.1") == "org.apache.hadoop:hadoop-aws:3.4.1"


def test_jars_in_the_named_folder_are_found_and_half_a_set_is_not(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    folder = tmp_path / "jars"
    folder.mkdir()
    monkeypatch.setenv("COMPLIANCE_DELTA_JARS", str(folder))
    (folder / "hadoop-aws-9.9.9.jar").write_bytes(b"")
    assert s3a_jars.find_jars("9.9.9") is None  # no SDK bundle next to it
    (folder / "bundle-2.30.1.jar").write_bytes(b"")
    assert s3a_jars.find_jars("9.9.9") == [
        folder / "hadoop-aws-9.9.9.jar",
        folder / "bundle-2.30.1.jar",
    ]
    assert s3a_jars.find_jars("9.9.8") is None  # another Hadoop version


def test_fetch_offline_says_so_in_one_line_and_exits_3_with_require(tmp_path):
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode
    ):
        pytest.skip("cannot make a network namespace here (unshare -n)")
    script = (
        f"ip link set lo up 2>/dev/null; HOME={tmp_path} {sys.executable} -m jobs.s3a_jars "
        "--require --version 0.0.1"
    )
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={"PATH": "/usr/sbin:/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        "hadoop-aws jars: could not fetch org.apache.hadoop:hadoop-aws:0.0.1 (Maven Central "
        "unreachable); a warehouse on s3:// cannot be used by Spark"
    )
