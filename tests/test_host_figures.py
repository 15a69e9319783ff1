"""Plots, formula cards, registry tables and citations in both hosts.

Sphinx (HTML and LaTeX builders, in process) and the Quarto filter under real pandoc with the
shim (HTML and LaTeX, single files and a project render): a ``napkin-plot`` becomes a figure
with the engine's alt text and caption (an SVG for HTML, a PDF for LaTeX) with the same bytes
on every build; formula cards and registry tables come from :mod:`mlsysim.book.reference`;
wrong names fail at their lines; citations go through sphinxcontrib-bibtex and citeproc when a
book uses them, and a book without them is unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import failure_locations, render, render_project

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "sphinx_ext") not in sys.path:
    sys.path.insert(0, str(ROOT / "sphinx_ext"))

MYST = """\
# Figures

```{napkin-plot} Decode latency against batch
:kind: sweep
:x: 1, 2, 4, 8
:x-label: batch
:y-unit: ms
:name: fig-sweep
H100 = solve(Llama2_7B, H100, phase="decode", batch=x).latency
```

```{napkin-formula} amdahl
```

```{napkin-registry} H100, A100
:fields: memory.bandwidth, tdp
:caption: Two GPUs
```

```{napkin-eq} ridge_point(H100, "bf16")
```
"""

BROKEN_MYST = """\
# Broken

```{napkin-plot} A bad line
:kind: sweep
:x: 1, 2
Y = x * 2 mss
```

```{napkin-formula} amdhal
```

```{napkin-registry} H100, A100
:fields: memory.bandwith
```
"""

QMD = """\
# Figures

```{.napkin-plot #fig-sweep kind="sweep" x="1, 2, 4, 8" x-label="batch" y-unit="ms" \
caption="Decode latency against batch"}
H100 = solve(Llama2_7B, H100, phase="decode", batch=x).latency
```

{{< napkin-formula amdahl >}}

{{< napkin-registry "H100, A100" fields="memory.bandwidth, tdp" caption="Two GPUs" >}}

```{.napkin-eq}
ridge_point(H100, "bf16")
```
"""

BROKEN_QMD = """\
# Broken

```{.napkin-plot kind="sweep" x="1, 2"}
Y = x * 2 mss
```

{{< napkin-formula amdhal >}}

{{< napkin-registry "H100, A100" fields="memory.bandwith" >}}
"""

ALT_START = "Line chart"


def _book(tmp: Path, text: str, *, bibtex: bool = False) -> Path:
    src = tmp / "src"
    src.mkdir(parents=True)
    extensions = ["myst_parser", "mlsysim_sphinx"]
    conf = []
    if bibtex:
        from mlsysim.book.bibliography import bibtex as make_bib

        extensions.append("sphinxcontrib.bibtex")
        (src / "refs.bib").write_text(make_bib(["amdahl1967", "williams2009"]), encoding="utf-8")
        conf.append('bibtex_bibfiles = ["refs.bib"]')
        text += "\n```{bibliography}\n```\n"
    conf.insert(0, f"extensions = {extensions!r}")
    (src / "conf.py").write_text("\n".join(conf) + "\n", encoding="utf-8")
    (src / "index.md").write_text(text, encoding="utf-8")
    return src


def _build(src: Path, out: Path, builder: str) -> tuple[int, str, Path]:
    from sphinx.testing.util import SphinxTestApp

    app = SphinxTestApp(builder, srcdir=src, builddir=out)
    try:
        app.build()
        return app.statuscode, app.warning.getvalue(), Path(app.outdir)
    finally:
        app.cleanup()


def test_sphinx_html_figure_card_and_table_same_bytes_twice(tmp_path: Path) -> None:
    src = _book(tmp_path, MYST)
    pages = []
    for n in (1, 2):  # two clean builds (each with its own doctree cache)
        code, warnings, out = _build(src, tmp_path / f"b{n}", "html")
        assert code == 0 and "mlsysim" not in warnings, warnings
        html = (out / "index.html").read_text(encoding="utf-8")
        images = {p.name: p.read_bytes() for p in (out / "_images").iterdir()}
        pages.append((html, images))
    (html, images), again = pages
    assert again == (html, images)  # same page, same image bytes and names
    (svg,) = [name for name in images if name.endswith(".svg")]
    assert f'src="_images/{svg}"' in html and 'class="napkin-plot' in html
    assert f'alt="{ALT_START}' in html and "Decode latency against batch" in html
    assert b'role="img"' in images[svg] and b"<title>" in images[svg]
    assert 'id="formula-amdahl"' in html and "dimensionless" in html  # the formula card
    assert "mlsysim-formula-card" in html and "doi.org" in html  # linked source
    assert "Two GPUs" in html and "3.35\u202fTB/s" in html and "700\u202fW" in html  # registry
    assert "bibtex" not in html  # no sphinxcontrib-bibtex: no citations


def test_sphinx_latex_takes_the_pdf(tmp_path: Path) -> None:
    src = _book(tmp_path, MYST)
    code, warnings, out = _build(src, tmp_path / "latex", "latex")
    assert code == 0, warnings
    (pdf,) = out.glob("*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    tex = next(out.glob("*.tex")).read_text(encoding="utf-8")
    assert f"\\sphinxincludegraphics{{{{{pdf.stem}}}.pdf}}" in tex
    assert "\\caption{Decode latency against batch}" in tex
    assert "amdahl(p, speedup)" in tex


def test_sphinx_failures_at_their_lines(tmp_path: Path) -> None:
    src = _book(tmp_path, BROKEN_MYST)
    code, warnings, _ = _build(src, tmp_path / "b", "html")
    assert code == 1
    assert "index.md:6:" in warnings  # the plot's failing line
    assert "index.md:9:" in warnings and "did you mean amdahl" in warnings
    assert "index.md:13:" in warnings and "did you mean memory.bandwidth" in warnings


def test_sphinx_bibtex_cites_derivations_and_cards(tmp_path: Path) -> None:
    pytest.importorskip("sphinxcontrib.bibtex")
    src = _book(tmp_path, MYST, bibtex=True)
    code, warnings, out = _build(src, tmp_path / "b", "html")
    assert code == 0, warnings
    html = (out / "index.html").read_text(encoding="utf-8")
    assert html.count('class="bibtex-citation"') >= 2  # the derivation and the card
    assert "Validity of the Single Processor Approach" in html  # the bibliography lists it


def _qmd(tmp: Path, text: str, name: str = "ch.qmd") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_quarto_html_inline_svg_and_stable_bytes(tmp_path: Path) -> None:
    outputs = []
    for n in (1, 2):  # fresh folders: fresh engine caches
        src = _qmd(tmp_path / f"r{n}", QMD)
        result = render(src, cwd=src.parent, env={"MLSYSIM_CACHE_DIR": str(src.parent / "c")})
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    html = outputs[0]
    assert outputs[1] == html
    assert '<figure id="fig-sweep" class="mlsysim-plot">' in html
    assert 'role="img" aria-label="Line chart' in html and "<?xml" not in html
    assert "<figcaption>Decode latency against batch</figcaption>" in html
    assert "amdahl(p, speedup) -&gt; dimensionless" in html and "Two GPUs" in html


def test_quarto_latex_takes_the_cached_pdf(tmp_path: Path) -> None:
    src = _qmd(tmp_path, QMD)
    result = render(src, cwd=tmp_path, to="latex", env={"MLSYSIM_CACHE_DIR": str(tmp_path / "c")})
    assert result.returncode == 0, result.stderr
    (pdf,) = (tmp_path / "c" / "plots").glob("*.pdf")
    assert str(pdf.resolve()) in result.stdout and "\\includegraphics" in result.stdout
    assert "alt={Line chart" in result.stdout


def test_quarto_failures_at_their_lines(tmp_path: Path) -> None:
    src = _qmd(tmp_path, BROKEN_QMD)
    result = render(src, cwd=tmp_path)
    assert result.returncode == 1
    assert failure_locations(result.stderr) == ["ch.qmd:4", "ch.qmd:7", "ch.qmd:9"]
    assert "did you mean amdahl" in result.stderr


def test_quarto_project_render_draws_plots(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  chapters:\n    - index.qmd\n    - ch.qmd\n",
        encoding="utf-8",
    )
    (book / "index.qmd").write_text("# Index\n\nNothing here.\n", encoding="utf-8")
    _qmd(book, QMD)
    for to in ("html5", "latex"):
        runs = render_project(book, to=to)
        assert [r.returncode for _, r in runs] == [0, 0], runs[-1][1].stderr
        out = runs[1][1].stdout
        assert ("aria-label" in out) if to == "html5" else ("\\includegraphics" in out)


def test_quarto_citeproc_cites_derivations_and_cards(tmp_path: Path) -> None:
    from mlsysim.book.bibliography import bibtex

    keys = ["amdahl1967", "williams2009", "nvidia_h100_datasheet"]  # what `mlsysim bib` writes
    (tmp_path / "refs.bib").write_text(bibtex(keys), encoding="utf-8")
    src = _qmd(tmp_path, "---\nbibliography: refs.bib\n---\n\n" + QMD)
    result = render(src, cwd=tmp_path, extra=("--citeproc",))
    assert result.returncode == 0, result.stderr
    assert 'data-cites="williams2009 nvidia_h100_datasheet"' in result.stdout  # the derivation
    assert 'data-cites="amdahl1967"' in result.stdout  # the formula card
    assert "csl-entry" in result.stdout  # citeproc listed them
    plain = render(_qmd(tmp_path / "plain", QMD), cwd=tmp_path / "plain", extra=("--citeproc",))
    assert plain.returncode == 0 and "data-cites" not in plain.stdout  # no bibliography


def test_the_sample_books_use_every_feature() -> None:
    sphinx = (ROOT / "book_fixtures" / "sphinx" / "accelerators.md").read_text(encoding="utf-8")
    quarto = (ROOT / "book_fixtures" / "quarto" / "chapters" / "roofline.qmd").read_text()
    for kind in ("napkin-plot", "napkin-formula", "napkin-registry"):
        assert kind in sphinx and kind in quarto


def test_plot_style_themes_charts_in_both_hosts(tmp_path: Path) -> None:
    src = _book(tmp_path / "plain", MYST)
    _, _, out = _build(src, tmp_path / "plain" / "b", "html")
    plain = {p.name for p in (out / "_images").iterdir()}
    styled = _book(tmp_path / "styled", MYST)
    conf = styled / "conf.py"
    conf.write_text(conf.read_text() + 'mlsysim_plot_style = {"lines.linewidth": 3}\n')
    code, warnings, out = _build(styled, tmp_path / "styled" / "b", "html")
    assert code == 0, warnings
    assert {p.name for p in (out / "_images").iterdir()}.isdisjoint(plain)  # other drawings
    conf.write_text(conf.read_text().replace("lines.linewidth", "lines.linewidht"))
    from sphinx.errors import ConfigError

    with pytest.raises(ConfigError, match=r"did you mean lines\.linewidth"):
        _build(styled, tmp_path / "styled" / "c", "html")
    # Quarto: `plot-style` in the metadata (or front matter), like every option
    src_q = _qmd(
        tmp_path / "q", "---\nmlsysim:\n  plot-style:\n    lines.linewidth: 3\n---\n\n" + QMD
    )
    styled_q = render(src_q, cwd=src_q.parent)
    plain_q = render(_qmd(tmp_path / "q2", QMD), cwd=tmp_path / "q2")
    assert styled_q.returncode == 0 and plain_q.returncode == 0, styled_q.stderr
    assert "stroke-width: 3" in styled_q.stdout and "stroke-width: 3" not in plain_q.stdout
