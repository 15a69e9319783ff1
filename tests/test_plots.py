"""napkin-plot and mlsysim.viz.plot: chart data, alt text, located failures, deterministic
SVG/PDF bytes (across processes, hash seeds and SOURCE_DATE_EPOCH), styles, the cache."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.book.document import Document
from mlsysim.book.items import run_item
from mlsysim.book.sources import scan_text
from mlsysim.book.sources.check import check_sources
from mlsysim.core.exceptions import ConfigError
from mlsysim.viz.plot.spec import pareto_front, pareto_spec, roofline_spec, sweep_spec

CHAPTER = """\
# Plots

```{napkin-plot} Three GPUs and a decode step
:kind: roofline
:devices: H100, A100
:precision: bf16
Llama 2 7B decode = solve(Llama2_7B, H100, phase="decode")
GEMM = 200 FLOP/B, 300 TFLOP/s
```

```{napkin-plot} Decode latency
:kind: sweep
:x: 1, 2, 4, 8
:x-label: batch
:y-label: latency
:y-unit: ms
H100 = solve(Llama2_7B, H100, phase="decode", batch=x).latency
```

```{napkin-plot} Latency and power
:kind: pareto
:x-label: latency
:y-label: power
H100 = solve(Llama2_7B, H100, phase="decode").latency, H100.tdp
A100 = solve(Llama2_7B, A100, phase="decode").latency, A100.tdp
```
"""


def _plots(text: str = CHAPTER, file: str = "ch.md") -> tuple[Document, list]:  # type: ignore[type-arg]
    doc = Document(file)
    outcomes = [run_item(doc, item) for item in scan_text(text, file)]
    return doc, outcomes


def test_three_kinds_evaluate_with_alt_text_from_the_data() -> None:
    doc, outcomes = _plots()
    assert not doc.failures and all(o.ok for o in outcomes)
    roof, sweep, pareto = (o.value for o in outcomes)
    assert roof.caption == "Three GPUs and a decode step"
    assert [r.label for r in roof.spec.roofs] == ["H100", "A100"]
    assert "H100: peak 989 TFLOP/s, ridge point at 295 FLOP/B" in roof.alt
    assert "Llama 2 7B decode" in roof.alt and "memory-bound on H100" in roof.alt
    assert sweep.spec.series[0].xs == (1.0, 2.0, 4.0, 8.0) and sweep.spec.y_unit == "ms"
    assert "4 points from x = 1 to 8" in sweep.alt
    assert [p.front for p in pareto.spec.points] == [True, True]  # faster vs lower power
    assert outcomes[0].rendered.text == roof.alt  # text output is the alt text


def test_pandoc_and_rst_forms_scan_as_plots() -> None:
    qmd = '```{.napkin-plot kind="sweep" x="[1, 2]" caption="c"}\nY = x * 2 ms\n```\n'
    rst = ".. napkin-plot:: Caption\n   :kind: sweep\n   :x: 1, 2\n\n   Y = x * 3 ms\n"
    for text, file in ((qmd, "a.qmd"), (rst, "a.rst")):
        doc, outcomes = _plots(text, file)
        assert outcomes and outcomes[0].ok, doc.failures
        assert outcomes[0].value.spec.series[0].ys in ((2.0, 4.0), (3.0, 6.0))


def test_failures_are_located_at_their_line_and_all_reported(tmp_path: Path) -> None:
    chapter = tmp_path / "ch.md"
    chapter.write_text(
        "```{napkin-plot}\n:kind: sweep\n:x: 1, 2\n:colour: red\n"
        "A = solve(Llama2_7B, H100, phase='decode', batch=x).latncy\nB = x * 2 ms\n```\n\n"
        "```{napkin-plot}\n:kind: roofline\n:devices: H100, Llama2_7B\n```\n\n"
        "```{napkin-plot}\n:kind: pie\n```\n"
    )
    run = check_sources([chapter])
    where = sorted((f.line, f.message.split(";")[0]) for f in run.failures)
    assert where == [
        (4, "no plot option 'colour'"),
        (5, "no field of solve(Llama2_7B, H100, phase='decode', batch=x) 'latncy'"),
        (11, "Llama2_7B is not a device"),
        (15, "a napkin-plot needs :kind: roofline, sweep or pareto (got 'pie')"),
    ]


def test_pareto_front_is_the_non_dominated_set() -> None:
    pts = [(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0), (2.0, 3.5)]
    assert pareto_front(pts, ("min", "min")) == [True, True, False, True, False]
    assert pareto_front(pts, ("max", "max")) == [True, False, True, True, False]
    spec = pareto_spec([("a", Q_("1 ms"), Q_("2 USD")), ("b", Q_("2000 us"), Q_("1 USD"))])
    assert spec.x_unit == "ms" and [p.x for p in spec.points] == [1.0, 2.0]


def test_mixed_dimensions_and_log_of_zero_are_errors() -> None:
    with pytest.raises(mlsysim.DimensionError):
        sweep_spec([("s", [1, 2], [Q_("1 ms"), Q_("1 GB")])])
    with pytest.raises(ConfigError, match="positive"):
        sweep_spec([("s", [0, 1], [1, 2])], x_log=True)
    with pytest.raises(ConfigError, match="at least one device"):
        roofline_spec([])


def _spec():  # type: ignore[no-untyped-def]
    H = mlsysim.Hardware
    r = mlsysim.solve("Llama2_7B", "H100", phase="decode")
    return roofline_spec([H.H100, H.A100], [("decode", r), ("x", Q_("50 FLOP/B"))])


_SCRIPT = """
import hashlib, sys
import mlsysim
from mlsysim import Q_
from mlsysim.viz.plot import render_plot, roofline_spec
H = mlsysim.Hardware
r = mlsysim.solve("Llama2_7B", "H100", phase="decode")
spec = roofline_spec([H.H100, H.A100], [("decode", r), ("x", Q_("50 FLOP/B"))])
for fmt in ("svg", "pdf"):
    print(fmt, hashlib.sha256(render_plot(spec, fmt)).hexdigest())
"""


def test_same_bytes_across_runs_processes_hash_seeds_and_dates() -> None:
    pytest.importorskip("matplotlib")
    from mlsysim.viz.plot import render_plot

    spec = _spec()
    here = {f: hashlib.sha256(render_plot(spec, f)).hexdigest() for f in ("svg", "pdf")}
    assert here == {f: hashlib.sha256(render_plot(spec, f)).hexdigest() for f in ("svg", "pdf")}
    outs = []
    for seed, epoch in (("1", "0"), ("12345", "1700000000")):
        env = dict(os.environ, PYTHONHASHSEED=seed, SOURCE_DATE_EPOCH=epoch)
        proc = subprocess.run(
            [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, check=True
        )
        outs.append(dict(line.split() for line in proc.stdout.splitlines()))
    assert outs[0] == outs[1] == here


def test_svg_carries_alt_text_and_pdf_no_dates() -> None:
    pytest.importorskip("matplotlib")
    from mlsysim.viz.plot import render_plot

    spec = _spec()
    svg = render_plot(spec, "svg").decode()
    assert 'role="img"' in svg and "<title>Roofline chart at bf16" in svg
    pdf = render_plot(spec, "pdf")
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf


def test_style_themes_the_chart_and_unknown_keys_are_refused() -> None:
    pytest.importorskip("matplotlib")
    from mlsysim.viz.plot import render_plot

    spec = _spec()
    plain = render_plot(spec, "svg")
    themed = render_plot(spec, "svg", {"axes.prop_cycle": "cycler(color=['#aa0000'])"})
    assert plain != themed and b"#aa0000" in themed
    with pytest.raises(ConfigError, match=r"font\.size"):
        render_plot(spec, "svg", {"font.sise": 9})


def test_cache_draws_once_per_content_hash(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _doc, outcomes = _plots()
    result = outcomes[1].value
    path = result.file("svg", tmp_path)
    assert path.read_bytes() == result.image("svg") and path.parent.name == "plots"
    stamp = path.stat().st_mtime_ns
    assert result.file("svg", tmp_path) == path and path.stat().st_mtime_ns == stamp
    assert result.file("pdf", tmp_path) != path


def test_batch_protocol_gives_the_drawing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    from mlsysim.book.batch import process

    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path / "cache"))
    item = {
        "id": "1",
        "kind": "plot",
        "text": "Y = x * 2 ms",
        "attrs": {"kind": "sweep", "x": "1, 2, 4", "caption": "c"},
        "line": 2,
    }
    for fmt in ("html", "latex"):
        request = {"version": 1, "file": "b.qmd", "format": fmt, "source": "", "items": [item]}
        (entry,) = process(request)["results"]
        assert entry["ok"] and entry["plot"]["caption"] == "c"
        if fmt == "html":
            assert entry["plot"]["svg"].startswith("<svg")  # inline: no XML prolog
        else:
            assert Path(entry["plot"]["pdf"]).read_bytes().startswith(b"%PDF")
