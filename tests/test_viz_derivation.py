"""Derivations (symbolic = substituted ≈ result) and tables rendered by mlsysim.viz.

Published figures: H100 SXM datasheet, 989.4 TFLOP/s dense BF16 and 3.35 TB/s HBM3, so the
ridge point is 989.4e12 / 3.35e12 ≈ 295 FLOP/B (Williams et al., Roofline, CACM 2009).
"""

from __future__ import annotations

import html.parser
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.core.units import Q_
from mlsysim.viz.derivation import render_derivation
from mlsysim.viz.format import render_value
from mlsysim.viz.table import render_table

AMDAHL = SimpleNamespace(
    name="amdahl",
    symbol=r"S = \frac{1}{(1-p)+p/s}",
    substituted=r"\frac{1}{(1-{{p}})+{{p}}/{{speedup}}}",
)


@dataclass(frozen=True)
class _Memory:
    bandwidth: object


@dataclass(frozen=True)
class _Device:
    id: str
    memory: _Memory

    def peak_flops(self, precision: str = "bf16") -> object:
        assert precision == "bf16"
        return Q_("989.4 TFLOP/s")


H100 = _Device("H100", _Memory(Q_("3.35 TB/s")))


def test_amdahl_derivation_keeps_arguments_as_written():
    result = 1 / ((1 - 0.95) + 0.95 / 247)
    r = render_derivation(AMDAHL, {"p": 0.95, "speedup": 247}, result, style="multiplier")
    assert r.latex == (
        r"S = \frac{1}{(1-p)+p/s} = \frac{1}{(1-0.95)+0.95/247} \approx {18.6\times}"
    )
    assert r.text == "amdahl(p=0.95, speedup=247) ≈ 18.6×"
    assert r.markdown == f"$${r.latex}$$"
    # HTML: the same derivation as MathML (reads without MathJax)
    assert r.html.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    assert "<mn>0.95</mn>" in r.html and "<mn>247</mn>" in r.html and "\\frac" not in r.html
    assert r.math is True


def test_exact_results_use_equals():
    info = SimpleNamespace(name="twice", symbol="2x", substituted="2 \\cdot {{x}}")
    r = render_derivation(info, {"x": 0.25}, 0.5)
    assert r.latex == r"2x = 2 \cdot 0.25 = 0.500" or r.latex == r"2x = 2 \cdot 0.25 = 0.5"
    assert " = 0.5" in r.latex and "approx" not in r.latex


def test_spec_arguments_render_by_id_and_attributes_render_values():
    info = SimpleNamespace(
        name="ridge_point",
        symbol=r"I^{*} = \frac{P}{B}",
        substituted=r"\frac{ {{hw.peak_flops(precision)}} }{ {{hw.memory.bandwidth}} }"
        r"\ \text{on}\ {{hw}}",
    )
    result = Q_("989.4 TFLOP/s") / Q_("3.35 TB/s")
    r = render_derivation(info, {"hw": H100, "precision": "bf16"}, result)
    assert r.latex == (
        r"I^{*} = \frac{P}{B} = \frac{ {989.4\,\mathrm{TFLOP/s}} }{ {3.35\,\mathrm{TB/s}} }"
        r"\ \text{on}\ \mathrm{H100} \approx {295\,\mathrm{FLOP/B}}"
    )
    assert r.text == "ridge_point(hw=H100, precision=bf16) ≈ 295 FLOP/B"


def test_siunitx_applies_to_latex_only():
    info = SimpleNamespace(name="t", symbol="T", substituted=r"\frac{ {{q}} }{ {{b}} }")
    r = render_derivation(
        info,
        {"q": Q_("80 GB"), "b": Q_("3.35 TB/s")},
        Q_("80 GB") / Q_("3.35 TB/s"),
        siunitx=True,
    )
    assert r"\qty{80}{GB}" in r.latex and r"\qty{23.9}{ms}" in r.latex
    assert r"\qty" not in r.html and "<mn>80</mn>" in r.html


def test_operands_expand_spec_arguments():
    class Info:
        name = "ridge_point"
        symbol = r"\frac{P}{B}"
        substituted = r"\frac{ {{peak}} }{ {{bandwidth}} }"

        def operands(self, args):
            hw = args["hw"]
            return {**args, "peak": hw.peak_flops(), "bandwidth": hw.memory.bandwidth}

    r = render_derivation(Info(), {"hw": H100}, Q_("295.343 FLOP/B"))
    assert r"\frac{ {989.4\,\mathrm{TFLOP/s}} }{ {3.35\,\mathrm{TB/s}} }" in r.latex


def test_real_ridge_point_formula():
    import mlsysim
    from mlsysim.core.formulas.performance import ridge_point

    hw = mlsysim.Hardware.H100
    value = ridge_point(hw, "bf16")
    r = render_derivation(ridge_point.formula, {"hw": hw, "precision": "bf16"}, value)
    assert r"{989.4\,\mathrm{TFLOP/s}}" in r.latex
    assert r"{3.35\,\mathrm{TB/s}}" in r.latex
    assert r.latex.endswith(r"\approx {295\,\mathrm{FLOP/B}}")


def test_missing_template_variable_is_a_clear_error():
    info = SimpleNamespace(name="broken", symbol="x", substituted="{{ y }}")
    with pytest.raises(MlsysimError, match="'y' is undefined") as exc:
        render_derivation(info, {"x": 1}, 1)
    assert "broken" in str(exc.value)


def test_template_syntax_error_is_a_clear_error():
    info = SimpleNamespace(name="bad", symbol="x", substituted=r"\frac{1}{{{x}}}")
    with pytest.raises(MlsysimError, match="jinja2"):
        render_derivation(info, {"x": 1}, 1)


def test_template_cannot_reach_private_attributes():
    info = SimpleNamespace(name="sneaky", symbol="x", substituted="{{ hw._value }}")
    with pytest.raises(MlsysimError):
        render_derivation(info, {"hw": H100}, 1)


def test_float_noise_in_arguments_is_rounded():
    info = SimpleNamespace(name="f", symbol="x", substituted="{{x}}")
    r = render_derivation(info, {"x": 0.1 + 0.2}, 0.3)
    assert "0.30000000000000004" not in r.latex
    assert r.latex.startswith("x = 0.300")


# --- tables ----------------------------------------------------------------------------------


def _table():
    return render_table(
        ["device", "bandwidth", "peak"],
        [
            ["H100", Q_("3.35 TB/s"), Q_("989.4 TFLOP/s")],
            ["A100", Q_("2.039 TB/s"), Q_("312 TFLOP/s")],
        ],
        units={"peak": "TFLOP/s"},
        given_digits=[[None, 3, 4], [None, 4, 3]],
        sources=["NVIDIA H100 Tensor Core GPU datasheet (2023)", "NVIDIA A100 datasheet (2021)"],
        caption="Two GPUs",
    )


def test_table_cells_are_rendered_values():
    t = _table()
    assert t.rows[0][1].latex == r"{3.35\,\mathrm{TB/s}}"
    assert t.rows[0][2].text == "989.4 TFLOP/s"
    assert t.rows[1][1].text == "2.039 TB/s"
    assert t.rows[0][0].math is False
    assert t.align == ("l", "r", "r")
    assert t.sources[0].text.startswith("NVIDIA H100")


def test_table_text_and_markdown():
    t = _table()
    lines = t.text.splitlines()
    assert lines[0] == "Two GPUs"
    assert lines[1].split() == ["device", "bandwidth", "peak"]
    assert lines[-2] == "[1] NVIDIA H100 Tensor Core GPU datasheet (2023)"
    md = t.markdown.splitlines()
    assert md[1] == "|:---|---:|---:|"
    assert md[2] == r"| H100 | ${3.35\,\mathrm{TB/s}}$ | ${989.4\,\mathrm{TFLOP/s}}$ |"
    assert "1. NVIDIA H100 Tensor Core GPU datasheet (2023)" in md


def test_table_latex_and_html():
    t = _table()
    assert t.latex.startswith(r"\begin{tabular}{lrr}")
    assert r"H100 & ${3.35\,\mathrm{TB/s}}$ & ${989.4\,\mathrm{TFLOP/s}}$ \\" in t.latex

    class _Collect(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells = 0

        def handle_starttag(self, tag, attrs):
            self.cells += tag == "td"

    parser = _Collect()
    parser.feed(t.html)
    assert parser.cells == 6
    assert 'style="text-align:right">3.35\u202fTB/s</td>' in t.html  # text: no MathJax
    assert t.to_dict()["rows"][0][1]["text"] == "3.35 TB/s"


def test_table_shape_errors():
    with pytest.raises(ConfigError, match="row 1"):
        render_table(["a", "b"], [[1]])
    with pytest.raises(ConfigError, match="unknown columns"):
        render_table(["a"], [[1]], units={"b": "ms"})
    with pytest.raises(ConfigError, match="entries"):
        render_table(["a", "b"], [[1, 2]], sig_figs=[2])


def test_table_sources_are_titles_linked_and_numbers_align_right():
    from mlsysim.viz.table import Source

    url = "https://example.org/h100.pdf"
    t = render_table(
        ["device", "bandwidth"],
        [["H100", Q_("3.35 TB/s")]],
        sources=[Source("NVIDIA H100 Tensor Core GPU Datasheet (NVIDIA, 2023)", url)],
    )
    assert t.classes == ("align-left", "align-right") and t.latex_colspec == "|L|R|"
    assert f'<li><a href="{url}">NVIDIA H100 Tensor Core GPU Datasheet (NVIDIA, 2023)</a></li>' in (
        t.html
    )
    assert '<td class="align-right"' in t.html
    assert f"1. [NVIDIA H100 Tensor Core GPU Datasheet (NVIDIA, 2023)](<{url}>)" in t.markdown
    assert t.text.endswith(f"[1] NVIDIA H100 Tensor Core GPU Datasheet (NVIDIA, 2023) <{url}>")
    assert t.to_dict()["sources"] == [{"text": t.sources[0].text, "url": url}]


def test_arguments_never_show_raw_base_units():
    from mlsysim.book import Document

    doc = Document("x.md")
    r = doc.derivation("weights_bytes(Llama2_7B, 'bf16')", 1).rendered
    assert r is not None and r"{6.74\,\mathrm{billion}\ \mathrm{params}}" in r.latex
    eq = doc.derivation(
        "ring_allreduce(size=weights_bytes(Llama2_7B, 'bf16'), n=8, bandwidth=450 GB/s)", 2
    ).rendered
    assert eq is not None and r"{13.5\,\mathrm{GB}}" in eq.latex and "000{,}000" not in eq.latex
    # a unit as written stays when it reads well: 24 h is not turned into 1.00 days
    assert render_value(Q_("24 h"), unit="h").text == "24 h"


def test_ids_read_as_words():
    from mlsysim.core.words import words

    assert words("memory_bandwidth") == "memory bandwidth"
    assert words("gemm_efficiency") == "GEMM efficiency"
    assert words("kv_cache") == "KV cache"
