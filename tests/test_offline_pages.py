"""Offline pages: the built books read without MathJax, in a real browser with no network.

Both sample books (Sphinx, and Quarto as its projects render) and both broken twins in warn
mode (drafts) are built to HTML and loaded from ``file://`` in headless Debian Chromium
(``scripts/setup.sh --browser``) with every host name unresolvable, so no CDN can answer. The
text the browser renders must show the values and hold no raw LaTeX (``\\mathrm``, ``\\(``,
``\\frac``): values are text, derivations MathML. A draft shows its failures (marks and the
page's banner). Screenshots are kept in ``build/offline/`` as build artifacts.
"""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "quarto_shim"))
from harness import BOOK, BROKEN, copy_book, render_project  # noqa: E402

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "build" / "offline"
_RAW_LATEX = ("\\mathrm", "\\(", "\\)", "\\[", "\\frac", "\\approx", "$$")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium not found: install it with scripts/setup.sh --browser"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _browser(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
            "--virtual-time-budget=3000",
            *args,
            page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


class _Text(html.parser.HTMLParser):
    """The text a reader sees: no script, style or head content."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def shown_text(page: Path) -> tuple[str, str]:
    """(text the browser shows, its DOM) of ``page`` loaded offline."""
    proc = _browser(page, "--dump-dom")
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-2000:]
    parser = _Text()
    parser.feed(proc.stdout)
    return " ".join(" ".join(parser.parts).split()), proc.stdout


def screenshot(page: Path, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    proc = _browser(page, f"--screenshot={out}", "--window-size=1000,1400", "--hide-scrollbars")
    assert proc.returncode == 0 and out.is_file() and out.stat().st_size > 10_000, proc.stderr
    return out


def _sphinx(src: Path, out: Path, *confs: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext")}
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", *confs, str(src), str(out)]
    subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def _assert_reads_offline(text: str) -> None:
    raw = [t for t in _RAW_LATEX if t in text]
    assert not raw, f"raw LaTeX shown: {raw}"


@pytest.fixture(scope="module")
def sphinx_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sphinx")
    _sphinx(ROOT / "book_fixtures" / "sphinx", out / "book")
    _sphinx(ROOT / "book_fixtures" / "sphinx-broken", out / "draft", "-D", "mlsysim_fail_mode=warn")
    return {"book": out / "book", "draft": out / "draft"}


@pytest.fixture(scope="module")
def quarto_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("quarto")
    book = copy_book(BOOK, base / "book")
    broken = copy_book(BROKEN, base / "broken")
    chapters = ["index.qmd", "chapters/roofline.qmd", "chapters/serving.qmd"]
    runs = render_project(book, chapters, out=base / "book-html")
    assert all(r.returncode == 0 for _, r in runs), [r.stderr for _, r in runs]
    env = {"MLSYSIM_FAIL_MODE": "warn"}
    draft = render_project(broken, ["chapters/roofline.qmd"], out=base / "draft-html", env=env)
    assert all(r.returncode == 0 for _, r in draft)
    return {"book": base / "book-html", "draft": base / "draft-html"}


@pytest.mark.parametrize(
    ("page", "values"),
    [
        ("roofline.html", ["295\u202fFLOP/B", "989.4\u202fTFLOP/s", "3.35\u202fTB/s"]),
        ("decode.html", ["13.5\u202fGB", "4.02\u202fms"]),
        ("scaling.html", ["18.6×", "52.4\u202fms"]),
        ("accelerators.html", ["153\u202fFLOP/B"]),
    ],
)
def test_sphinx_pages_read_offline(
    sphinx_pages: dict[str, Path], page: str, values: list[str]
) -> None:
    text, dom = shown_text(sphinx_pages["book"] / page)
    _assert_reads_offline(text)
    for value in values:
        assert value in dom  # with its narrow no-break space
        assert " ".join(value.split()) in text
    if page == "roofline.html":
        assert "<math" in dom  # the derivation, typeset by the browser
        screenshot(sphinx_pages["book"] / page, "sphinx-roofline")


@pytest.mark.parametrize(
    ("page", "values"),
    [
        ("roofline.html", ["295\u202fFLOP/B", "153\u202fFLOP/B"]),
        ("serving.html", ["13.5\u202fGB", "4.02\u202fms", "18.6"]),
    ],
)
def test_quarto_pages_read_offline(
    quarto_pages: dict[str, Path], page: str, values: list[str]
) -> None:
    text, dom = shown_text(quarto_pages["book"] / page)
    _assert_reads_offline(text)
    for value in values:
        assert value in dom
        assert " ".join(value.split()) in text
    if page == "roofline.html":
        assert "<math" in dom
        screenshot(quarto_pages["book"] / page, "quarto-roofline")


@pytest.mark.parametrize("host", ["sphinx", "quarto"])
def test_drafts_show_their_failures(
    host: str, sphinx_pages: dict[str, Path], quarto_pages: dict[str, Path]
) -> None:
    pages = sphinx_pages if host == "sphinx" else quarto_pages
    page = pages["draft"] / "roofline.html"
    text, dom = shown_text(page)
    _assert_reads_offline(text)
    assert "napkin-math failures on this page" in text  # the banner
    assert dom.count('class="mlsysim-failure') >= 2  # each failed item marked
    assert 'title="line ' in dom  # with its message as a tooltip
    assert "mlsysim-failure" in (page.read_text(encoding="utf-8") if host == "quarto" else dom)
    screenshot(page, f"{host}-draft")
