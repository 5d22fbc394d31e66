"""Open the rendered nightly report in headless Chromium: not blank, no console message at all.

The report carries no script, so any console line (a script error, a blocked network load, a
Content-Security-Policy violation) is a failure. Screenshots go to ``tmp_path``; set
``COMPLIANCE_SCREENSHOT_DIR`` to keep them (that is how the README screenshot is made), and
``COMPLIANCE_REPORT_DIR`` to check an already rendered report (e.g. the demo company's, from
``compliance nightly``) instead of the sample data.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from reports import render_nightly, sample

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
PAGES = ("index.html", "datamap.html", "deletions.html")


def _chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if not found:
        pytest.skip(
            f"headless Chromium not installed ({CHROMIUM} missing; apt-get install chromium)"
        )
    return found


def _run(binary: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def png_size_and_spread(path: Path) -> tuple[int, int, float]:
    """Width, height and a content score of a PNG screenshot (0 for a uniform image).

    With Pillow the score is the standard deviation of the grey levels; without it, the PNG is
    read with ``struct`` and ``zlib`` and the score is the percentage of distinct filtered
    scanlines (a uniform image has one). A report page scores well above 2
    either way.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    try:
        from PIL import Image, ImageStat
    except ImportError:
        idat, pos = b"", 8
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos : pos + 4])
            kind = data[pos + 4 : pos + 8]
            if kind == b"IDAT":
                idat += data[pos + 8 : pos + 8 + length]
            pos += 12 + length
        raw = zlib.decompress(idat)
        stride = len(raw) // height
        rows = {raw[r * stride : (r + 1) * stride] for r in range(1, height)}
        return width, height, 100.0 * (len(rows) - 1) / height
    with Image.open(path) as img:
        return width, height, ImageStat.Stat(img.convert("L")).stddev[0]


@pytest.fixture(scope="module")
def report_dir(request) -> Path:
    """The demo company's nightly report (from the session's `compliance nightly` run).

    ``COMPLIANCE_REPORT_DIR`` points the test at another rendered report instead.
    """
    given = os.environ.get("COMPLIANCE_REPORT_DIR")
    if given:
        return Path(given)
    demo_run = request.getfixturevalue("demo_run")
    return demo_run.home / "reports" / "latest"


@pytest.fixture(scope="module")
def sample_report_dir(tmp_path_factory) -> Path:
    """The renderer's sample data, rendered without Spark."""
    out = tmp_path_factory.mktemp("report")
    render_nightly(sample.nightly(), out)
    return out


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chromium(page, report_dir, tmp_path):
    binary = _chromium()
    shots = Path(os.environ.get("COMPLIANCE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    png = shots / page.replace(".html", ".png")
    url = (report_dir / page).resolve().as_uri()
    proc = _run(binary, tmp_path, f"--screenshot={png}", "--window-size=1280,2000", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    for marker in ("Uncaught", "ERROR:CONSOLE", "net::ERR_"):
        assert marker not in proc.stderr, marker
    width, height, spread = png_size_and_spread(png)
    assert (width, height) == (1280, 2000)
    assert spread > 2, f"{png} looks blank (content score {spread:.1f})"


def test_dom_has_the_report_content(report_dir, tmp_path):
    binary = _chromium()
    url = (report_dir / "index.html").resolve().as_uri()
    proc = _run(binary, tmp_path, "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Nightly compliance report" in proc.stdout
    assert 'href="details/policy_violations.html' in proc.stdout
    assert "<script" not in proc.stdout


def test_sample_report_renders_without_spark(sample_report_dir, tmp_path):
    binary = _chromium()
    png = tmp_path / "sample.png"
    url = (sample_report_dir / "index.html").resolve().as_uri()
    proc = _run(binary, tmp_path, f"--screenshot={png}", "--window-size=1280,2000", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png_size_and_spread(png)[2] > 2
