"""The Delta jars: which ones a session loads, and one clear line when they are missing or wrong.

Missing jars are made by pointing HOME (where the Ivy and Maven caches are looked up) at an empty
folder; offline is a network namespace with only loopback (``unshare -n``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from jobs import delta_jars
from jobs.cli import main
from jobs.errors import ConfigError

VERSION = metadata.version("delta-spark")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_jars(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    monkeypatch.delenv(delta_jars.ENV_DIR, raising=False)
    assert delta_jars.find_jars() is None


def _conf(tmp_path, text: str) -> Path:
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path / 'home'}\n{text}", encoding="utf-8")
    return conf


def test_the_coordinates_are_the_installed_version_for_scala_2_13():
    assert delta_jars.coordinates() == [
        f"io.delta:delta-spark_2.13:{VERSION}",
        f"io.delta:delta-storage:{VERSION}",
    ]


def test_a_jar_folder_named_by_the_environment_is_used_and_user_jars_are_kept(
    tmp_path, monkeypatch
):
    folder = tmp_path / "jars"
    folder.mkdir()
    for name in (f"delta-spark_2.13-{VERSION}.jar", f"delta-storage-{VERSION}.jar"):
        (folder / name).write_bytes(b"PK")
    monkeypatch.setenv(delta_jars.ENV_DIR, str(folder))
    got = delta_jars.session_conf({"spark.jars": "/opt/other.jar"})
    assert got == {
        "spark.jars": f"/opt/other.jar,{folder}/delta-spark_2.13-{VERSION}.jar,"
        f"{folder}/delta-storage-{VERSION}.jar",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("spark.jars.packages", "io.delta:delta-spark_2.12:3.2.0", "delta-spark_2.12 3.2.0"),
        ("spark.jars", "/opt/jars/delta-spark_2.13-3.1.0.jar", "delta-spark_2.13 3.1.0"),
    ],
)
def test_jars_of_another_version_stop_the_command_with_exit_2(tmp_path, capsys, key, value, named):
    conf = _conf(tmp_path, f"spark:\n  conf:\n    {key}: {value}\n")
    assert main(["tables", "--conf", str(conf)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1, err
    assert named in err[0] and f"installed delta-spark package is {VERSION}" in err[0]
    assert f"io.delta:delta-spark_2.13:{VERSION}" in err[0]


def test_engine_spark_without_the_jars_stops_before_spark_with_exit_2(tmp_path, capsys, no_jars):
    conf = _conf(tmp_path, "storage:\n  engine: spark\n")
    assert main(["tables", "--conf", str(conf)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert err == [
        f"compliance: error: storage.engine is 'spark' but the delta-spark {VERSION} jars are not "
        "here: run `python -m jobs.delta_jars` (needs Maven Central) or set storage.engine to "
        "delta-rs"
    ]


def test_engine_auto_without_the_jars_builds_no_delta_settings(no_jars):
    from jobs.store.session import delta_conf

    assert delta_conf("auto", {}, "spark://127.0.0.1:7077") == {}
    assert delta_conf("auto", {}, "local[2]") == {}
    with pytest.raises(ConfigError, match="jars are not here"):
        delta_conf("spark", {}, "local[2]")


def test_fetch_offline_says_so_in_one_line(tmp_path):
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode
    ):
        pytest.skip("cannot make a network namespace here (unshare -n)")
    script = (
        f"ip link set lo up 2>/dev/null; HOME={tmp_path} {sys.executable} -m jobs.delta_jars "
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
        "delta-spark jars: could not fetch io.delta:delta-spark_2.13:0.0.1 (Maven Central "
        "unreachable); the delta-rs engine will be used"
    )
