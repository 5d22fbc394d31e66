"""Open the rendered nightly report in headless Chromium: not blank, no console message at all.

The report carries no script, so any console line (a script error, a blocked network load, a
Content-Security-Policy violation) is a failure. Screenshots go to ``tmp_path``; set
``COMPLIANCE_SCREENSHOT_DIR`` to keep them (that is how the README screenshot is made), and
``COMPLIANCE_REPORT_DIR`` to check an already rendered report (e.g. the demo company's, from
``compliance nightly``) instead of the sample data.
"""

from __future__ import annotations

import os
import re
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


@pytest.mark.parametrize("width", [1400, 800])
@pytest.mark.parametrize("page", PAGES)
def test_page_at_a_desktop_and_a_narrow_width(page, width, report_dir, tmp_path):
    binary = _chromium()
    shots = Path(os.environ.get("COMPLIANCE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    png = shots / page.replace(".html", f"-{width}.png")
    url = (report_dir / page).resolve().as_uri()
    proc = _run(binary, tmp_path, f"--screenshot={png}", f"--window-size={width},1600", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    w, h, spread = png_size_and_spread(png)
    assert (w, h) == (width, 1600) and spread > 2


def _pdf(binary: str, tmp_path: Path, page: Path) -> tuple[int, list[str]]:
    """Print ``page`` to PDF in Chromium; (page count, text of each page)."""
    from pypdf import PdfReader

    out = tmp_path / (page.stem + ".pdf")
    proc = _run(binary, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri())
    assert proc.returncode == 0 and out.exists(), proc.stderr[-2000:]
    reader = PdfReader(out)
    return len(reader.pages), [p.extract_text() for p in reader.pages]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_prints_with_its_title_and_page_numbers(page, report_dir, tmp_path):
    n, texts = _pdf(_chromium(), tmp_path, (report_dir / page).resolve())
    assert n >= 1
    for i, text in enumerate(texts, start=1):
        assert f"page {i} of {n}" in text, (page, i)
        assert "Compliance audit report" in text


def test_the_deletion_evidence_prints_one_request_per_page(report_dir, tmp_path):
    """Each request starts a page and fits it, from its heading to its last block (the purge
    and restore history); the whole is one page per request plus the summary's pages."""
    from bs4 import BeautifulSoup

    html = (report_dir / "deletions.html").resolve()
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    ids = [s.h2.get_text(" ", strip=True).split()[1] for s in soup.select("section.case")]
    assert ids, "the report has deletion requests"
    n, texts = _pdf(_chromium(), tmp_path, html)
    starts: dict[str, int] = {}
    for i, text in enumerate(texts):
        for d in ids:
            if re.search(rf"Deletion {re.escape(d)} ", text) and d not in starts:
                starts[d] = i
    assert sorted(starts) == sorted(ids)
    assert len(set(starts.values())) == len(ids), "two requests share a page"
    summary_pages = min(starts.values())
    assert 1 <= summary_pages <= 1 + len(ids) // 8
    assert n == summary_pages + len(ids), (n, summary_pages, len(ids))
    for d, i in starts.items():
        page = texts[i]
        for block in ("Request handling", "in scope:", "Purge and restore history of deletion"):
            assert block in page, (d, block)


def test_tables_have_captions_and_attention_has_a_text_marker(report_dir):
    from bs4 import BeautifulSoup

    for page in PAGES:
        soup = BeautifulSoup((report_dir / page).read_text(encoding="utf-8"), "html.parser")
        for table in soup.find_all("table"):
            assert table.find("caption") is not None, (page, table.get("id"))
    css = (Path(__file__).resolve().parents[1] / "reports/templates/style.css").read_text()
    assert 'tr.bad td:first-child::before { content: "\\26A0' in css
    assert "print-color-adjust: exact" in css
