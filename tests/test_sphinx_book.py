"""The Sphinx extension on the sample book and its broken twin.

In-process builds (``sphinx.testing``) check the rendered HTML and LaTeX; ``sphinx-build``
subprocesses check what CI sees: exit statuses (also with ``-j 2``), exact ``file:line``
reports in rst and MyST, warn mode, config errors and incremental rebuilds after a data change.
Expected numbers are worked by hand from datasheet values (H100: 989.4 TFLOP/s dense BF16,
3.35 TB/s; A100: 312 TFLOP/s, 2,039 GB/s; Llama 2 7B: 6.74e9 parameters).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book_fixtures" / "sphinx"
BROKEN = ROOT / "book_fixtures" / "sphinx-broken"
SPHINX_EXT = ROOT / "sphinx_ext"
if str(SPHINX_EXT) not in sys.path:  # the extension package lives in sphinx_ext/
    sys.path.insert(0, str(SPHINX_EXT))

pytestmark = pytest.mark.slow

_SUMMARY_LINE = re.compile(r"^  ([^ :]+):(\d+)(?::\d+)?: (?:error|warning)\[mlsysim\.(\w+)\]", re.M)
_WARNING_LINE = re.compile(r"^(\S+?):(\d+): (ERROR|WARNING): .*?\[mlsysim\.(\w+)\]", re.M | re.S)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SPHINX_EXT), env.get("PYTHONPATH")]))
    env.pop("MLSYSIM_DATA_PATH", None)
    return env


def sphinx_build(src: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sphinx-build -q ARGS SRC OUT`` with this interpreter; returns the finished process."""
    cmd = [sys.executable, "-m", "sphinx", "-q", *args, str(src), str(out)]
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600, check=False)


def expected_failures() -> list[str]:
    lines = (BROKEN / "EXPECTED_FAILURES.txt").read_text(encoding="utf-8").splitlines()
    return sorted(x.strip() for x in lines if x.strip() and not x.lstrip().startswith("#"))


def summary_locations(stderr: str) -> list[str]:
    return sorted(f"{m[1]}:{m[2]}" for m in _SUMMARY_LINE.finditer(stderr))


# -- in-process builds: rendered output -------------------------------------------------------


def _sphinx_app(tmp: Path, builder: str, **overrides: object) -> object:
    from sphinx.testing.util import SphinxTestApp

    src = tmp / "src"
    shutil.copytree(BOOK, src)
    app = SphinxTestApp(builder, srcdir=src, builddir=tmp / "build", confoverrides=overrides)
    app.build()
    return app


@pytest.fixture(scope="module")
def html_book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    app = _sphinx_app(tmp_path_factory.mktemp("html"), "html")
    try:
        assert app.statuscode == 0, app.warning.getvalue()  # type: ignore[attr-defined]
        out = Path(app.outdir)  # type: ignore[attr-defined]
        return {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    finally:
        app.cleanup()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def latex_book(tmp_path_factory: pytest.TempPathFactory) -> str:
    app = _sphinx_app(tmp_path_factory.mktemp("latex"), "latex")
    try:
        assert app.statuscode == 0, app.warning.getvalue()  # type: ignore[attr-defined]
        return (Path(app.outdir) / "napkin-book.tex").read_text(encoding="utf-8")  # type: ignore[attr-defined]
    finally:
        app.cleanup()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("page", "value"),
    [
        ("index", "3.35 TB/s"),  # H100 HBM3 bandwidth (datasheet)
        ("roofline", "295 FLOP/B"),  # 989.4 TFLOP/s / 3.35 TB/s = 295.3 FLOP/B
        ("roofline", "989.4 TFLOP/s"),  # registry value with its digits as written
        ("decode", "13.5 GB"),  # 6.74e9 params × 2 B
        ("decode", "4.02 ms"),  # 13.48 GB / 3.35 TB/s
        ("scaling", "18.6×"),  # 1 / (0.05 + 0.95/247) = 18.57
        ("scaling", "52.4 ms"),  # 2·7/8 · 13.48 GB / 450 GB/s each way
        ("sustainability", "504 MWh"),  # 1000 × 700 W × 720 h
        ("sustainability", "5.04 tCO₂e"),  # 504 MWh × 10 g/kWh (Québec, life cycle)
        ("accelerators", "153 FLOP/B"),  # A100: 312 TFLOP/s / 2.039 TB/s
    ],
)
def test_html_has_the_values_as_text(html_book: dict[str, str], page: str, value: str) -> None:
    """Values read without MathJax: text, a narrow no-break space between number and unit."""
    shown = value.replace(" ", "\u202f")
    assert f'<span class="napkin">{shown}</span>' in html_book[page]
    assert "\\mathrm" not in html_book[page]


def test_html_equation_table_and_sources(html_book: dict[str, str]) -> None:
    roofline = html_book["roofline"]
    assert 'id="equation-eq-ridge-h100"' in roofline and 'class="eqno">(1)' in roofline
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in roofline
    assert "<mn>989.4</mn>" in roofline and "<mn>295</mn>" in roofline  # the derivation
    assert "\\frac" not in roofline  # MathML, not LaTeX for MathJax
    table = html_book["accelerators"]
    assert "napkin-table" in table and "<th" in table
    assert "NVIDIA H100 Tensor Core GPU Datasheet" in table  # the sources footnote
    assert "⟨error⟩" not in "".join(html_book.values())


def test_latex_has_plain_math(latex_book: str) -> None:
    assert r"\({295\,\mathrm{FLOP/B}}\)" in latex_book
    assert r"\approx 18.6" in latex_book
    assert r"\begin{equation}\label{equation:roofline:eq-ridge-h100}" in latex_book
    assert "siunitx" not in latex_book


def test_siunitx_reaches_latex_only(tmp_path: Path) -> None:
    app = _sphinx_app(tmp_path / "latex", "latex", mlsysim_siunitx=True)
    html = _sphinx_app(tmp_path / "html", "html", mlsysim_siunitx=True)
    try:
        tex = (Path(app.outdir) / "napkin-book.tex").read_text(encoding="utf-8")  # type: ignore[attr-defined]
        assert r"\usepackage{siunitx}" in tex
        assert r"\(\qty{295}{FLOP/B}\)" in tex
        page = (Path(html.outdir) / "roofline.html").read_text(encoding="utf-8")  # type: ignore[attr-defined]
        assert "295\u202fFLOP/B" in page and r"\qty" not in page
    finally:
        app.cleanup()  # type: ignore[attr-defined]
        html.cleanup()  # type: ignore[attr-defined]


# -- sphinx-build: exit statuses and locations -----------------------------------------------


def test_clean_book_exits_zero_with_parallel_read(tmp_path: Path) -> None:
    proc = sphinx_build(BOOK, tmp_path / "out", "-E", "-j", "2", "-b", "html")
    assert proc.returncode == 0, proc.stderr
    assert "mlsysim" not in proc.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_broken_book_fails_with_every_location(tmp_path: Path, jobs: str) -> None:
    proc = sphinx_build(BROKEN, tmp_path / "out", "-E", "-j", jobs, "-b", "html")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert summary_locations(proc.stderr) == expected_failures()
    logged = sorted(
        f"{Path(m[1]).name}:{m[2]}"
        for m in _WARNING_LINE.finditer(proc.stderr)
        if m[4] != "summary"
    )
    assert logged == expected_failures()
    subtypes = {f"{Path(m[1]).name}:{m[2]}": m[4] for m in _WARNING_LINE.finditer(proc.stderr)}
    assert subtypes["decode.md:12"] == "check"  # MyST directive content, fifth line
    assert subtypes["roofline.rst:8"] == "check"  # rst directive content, third line
    assert subtypes["decode.md:17"] == "claim"  # MyST role, second line of its paragraph
    assert subtypes["roofline.rst:20"] == "claim"  # rst role, fourth line of its paragraph
    assert subtypes["scaling.md:27"] == "error"


def test_expected_lines_hold_the_broken_items() -> None:
    for location in expected_failures():
        name, line = location.rsplit(":", 1)
        text = (BROKEN / name).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        # a role, a block's statement, a table column, a plot's point or a reference option
        assert re.search(r"claim|check\(|napkin|\{row\}|^\w[\w ]* = |^:fields:", text), location


def test_warn_mode_only_warns(tmp_path: Path) -> None:
    proc = sphinx_build(
        BROKEN, tmp_path / "out", "-E", "-b", "html", "-D", "mlsysim_fail_mode=warn"
    )
    assert proc.returncode == 0, proc.stderr
    assert "decode.md:17: WARNING: claim 2 ms disagrees" in proc.stderr
    assert summary_locations(proc.stderr) == expected_failures()


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("mlsysim_fail_mode=loud", "mlsysim_fail_mode = 'loud' is invalid"),
        ("mlsysim_sig_figs=0", "mlsysim_sig_figs = 0 is invalid: it must lie in 1..15"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, override: str, needle: str) -> None:
    proc = sphinx_build(BOOK, tmp_path / "out", "-E", "-b", "html", "-D", override)
    # Sphinx 9 prints every ConfigError with its context report; the message leads it
    assert proc.returncode == 2
    assert "Configuration error!" in proc.stderr
    assert needle in proc.stderr and "How to fix" in proc.stderr


# -- incremental rebuilds ----------------------------------------------------------------------

_CHIP = """schema = "mlsysim.hardware/1"

[sources.test_chip_sheet]
title = "Test chip datasheet"
publisher = "mlsysim tests"
year = 2025

[TestChip]
name = "Test Chip"
kind = "accelerator"
vendor = "Tests"
source = "test_chip_sheet"
tdp = "300 W"
peak.dense.bf16 = "100 TFLOP/s"
memory = {{ type = "HBM3", capacity = "64 GB", bandwidth = "{bandwidth}" }}
"""

_CHAPTER = """# A custom chip

Its ridge point is {napkin}`ridge_point(TestChip, "bf16")`,
about {claim}`100 FLOP/B ~ ridge_point(TestChip, "bf16")`.
"""


def test_incremental_rebuild_follows_the_data(tmp_path: Path) -> None:
    book, data, out = tmp_path / "book", tmp_path / "data", tmp_path / "out"
    shutil.copytree(BOOK, book)
    data.mkdir()
    chip = data / "chip.toml"
    chip.write_text(_CHIP.format(bandwidth="1 TB/s"), encoding="utf-8")
    (book / "custom.md").write_text(_CHAPTER, encoding="utf-8")
    index = book / "index.rst"
    index.write_text(
        index.read_text(encoding="utf-8").replace(
            "   accelerators\n", "   accelerators\n   custom\n"
        ),
        encoding="utf-8",
    )
    args = ("-b", "html", "-D", f"mlsysim_data_dirs={data}")

    first = sphinx_build(book, out, *args)
    assert first.returncode == 0, first.stderr
    assert "100\u202fFLOP/B" in (out / "custom.html").read_text(encoding="utf-8")

    chip.write_text(_CHIP.format(bandwidth="2 TB/s"), encoding="utf-8")
    second = sphinx_build(book, out, *args)
    assert second.returncode == 1, second.stderr
    assert "50.0\u202fFLOP/B" in (out / "custom.html").read_text(encoding="utf-8")
    assert summary_locations(second.stderr) == ["custom.md:4"]

    # nothing changed: no document is re-read, yet the build still fails and says why
    third = sphinx_build(book, out, *args)
    assert third.returncode == 1
    assert "custom.md:4:" not in third.stderr.split("mlsysim: ")[0]
    assert summary_locations(third.stderr) == ["custom.md:4"]

    chip.write_text(_CHIP.format(bandwidth="1 TB/s"), encoding="utf-8")
    fourth = sphinx_build(book, out, *args)
    assert fourth.returncode == 0, fourth.stderr


# -- item syntax the engine rejects: located like any other failure -----------------------------

_SYNTAX_RST = """Syntax
======

.. toctree::

   page

A value :napkin:`H100.memory.bandwidth | colour=red` and
:napkin:`H100.tdp | sig=two`, a claim :claim:`700 W ~ H100.tdp | sig=1`.
"""

_SYNTAX_MD = """# Page

Text {claim}`300 FLOP/B ~ ridge_point(H100, "bf16") | tol` here.

```{napkin-table} Column without a header
:rows: H100, A100

Power = {row}.tdp -> W
just an expression
```

```{napkin-table} Three sig values for one column
:rows: H100
:sig: 1, 2, 3

Power = {row}.tdp -> W
```

```{napkin-eq} amdahl(p=0.95, speedup=247)
:sig: 2
:style: multiplier
```
"""


def test_bad_item_syntax_is_located(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "conf.py").write_text((BOOK / "conf.py").read_text(encoding="utf-8"), "utf-8")
    (book / "index.rst").write_text(_SYNTAX_RST, encoding="utf-8")
    (book / "page.md").write_text(_SYNTAX_MD, encoding="utf-8")
    proc = sphinx_build(book, tmp_path / "out", "-E", "-b", "html")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    # role options (rst, MyST), a column at its own line, a table option at its option line
    assert summary_locations(proc.stderr) == [
        "index.rst:8",
        "index.rst:9",
        "index.rst:9",
        "page.md:14",
        "page.md:3",
        "page.md:9",
    ]
    assert "sig-figs must be an integer, got 'two'" in proc.stderr
    assert "option sig-figs does not apply to a claim item" in proc.stderr
    assert "its options are of, tol" in proc.stderr
    # Amdahl: 1 / (0.05 + 0.95/247) = 18.57, shown with the directive's 2 significant figures
    page = (tmp_path / "out" / "page.html").read_text(encoding="utf-8")
    assert "<mn>19</mn><mo>&#x000D7;</mo>" in page  # ≈ 19× in MathML
