"""Every formula's LaTeX templates render, and the rendered forms compile with pdflatex.

Two renderings per formula go into one document: the templates with placeholder operands
(x_1, x_2, …: checks the templates alone) and the full derivation with the sample's real values
through ``mlsysim.viz.derivation`` (what a book shows). pdflatex must be installed in CI
(CI=true); locally the compile test skips with a reason when it is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from test_formulas_samples import SAMPLES

from mlsysim.core.formulas import FORMULAS


def _placeholders(names):
    return {name: f"x_{{{i}}}" for i, name in enumerate(names, start=1)}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_template_variables_are_arguments_or_expanded_operands(name):
    fn = FORMULAS[name]
    info = fn.formula
    operands = info.operands(info.bind(**SAMPLES[name]))
    missing = [v for v in info.variables if v not in operands]
    assert not missing, f"{name}: template variables without a value: {missing}"
    assert set(info.params) <= set(operands)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_templates_render(name):
    info = FORMULAS[name].formula
    symbolic = info.render_symbol()
    substituted = info.render(_placeholders(info.variables))
    assert symbolic.strip() and substituted.strip()
    assert "{{" not in substituted
    for i in range(1, len(info.variables) + 1):
        assert f"x_{{{i}}}" in substituted


def test_render_reports_missing_variables():
    from mlsysim.core.exceptions import MlsysimError

    info = FORMULAS["young_daly"].formula
    with pytest.raises(MlsysimError, match="mtbf"):
        info.render({"checkpoint_time": "5"})


def _document() -> str:
    from mlsysim.viz.derivation import render_derivation

    lines = [
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=1cm,landscape]{geometry}",
        r"\begin{document}",
    ]
    for name in sorted(FORMULAS):
        fn = FORMULAS[name]
        info = fn.formula
        kwargs = SAMPLES[name]
        result = fn(**kwargs)
        value = getattr(result, "value", result)
        derivation = render_derivation(info, info.bind(**kwargs), value)
        title = name.replace("_", r"\_")
        lines += [
            rf"\section*{{{title}}}",
            r"\begin{multline*}",
            info.render_symbol() + r" \\ = " + info.render(_placeholders(info.variables)),
            r"\end{multline*}",
            r"\begin{multline*}",
            derivation.latex,
            r"\end{multline*}",
        ]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


@pytest.mark.tex
def test_all_formulas_compile_with_pdflatex(tmp_path):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdflatex is required in CI (install texlive: scripts/setup.sh --tex)")
        pytest.skip("pdflatex not installed locally; CI runs this test")
    tex = tmp_path / "formulas.tex"
    tex.write_text(_document(), encoding="utf-8")
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout[-3000:]
    assert proc.returncode == 0, f"pdflatex failed:\n{log}"
    assert (tmp_path / "formulas.pdf").stat().st_size > 0
