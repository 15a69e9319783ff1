"""The extension's shortcode handlers, called through the ``quarto`` shim under real pandoc.

Quarto calls a handler as ``(args, kwargs, meta, raw_args, context)``; the handlers must
return placeholder Spans (class ``napkin``/``claim``) that the filter batches, never evaluate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import BOOK, REPO, copy_book, pandoc_path, render

pytestmark = pytest.mark.slow

PROBE = REPO / "tests" / "quarto_shim" / "shortcode_probe.lua"


def _probe(case: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROBE_CASE": case}
    return subprocess.run(
        [pandoc_path(), "-L", str(PROBE), "-t", "json"],
        input="x\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def cases() -> dict[str, Any]:
    proc = _probe()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return {block["c"][0][0]: block["c"][1][0] for block in doc["blocks"]}


def _span(block: dict[str, Any]) -> tuple[list[str], dict[str, str], list[Any]]:
    span = block["c"][0]
    assert span["t"] == "Span"
    (_, classes, attrs), content = span["c"]
    return classes, dict(attrs), content


def test_napkin_inline_placeholder(cases: dict[str, Any]) -> None:
    classes, attrs, content = _span(cases["napkin-inline"])
    assert classes == ["napkin"]
    assert attrs == {"expr": "ridge_point(H100, 'bf16')", "unit": "FLOP/B", "sig-figs": "2"}
    assert content == [{"t": "Code", "c": [["", [], []], "ridge_point(H100, 'bf16')"]}]


def test_napkin_block_context_returns_a_paragraph(cases: dict[str, Any]) -> None:
    block = cases["napkin-block"]
    assert block["t"] == "Para"
    classes, attrs, _ = _span(block)
    assert classes == ["napkin"] and attrs == {"expr": "H100.memory.bandwidth"}


def test_napkin_text_context_leaves_the_mark(cases: dict[str, Any]) -> None:
    """Inside code (Quarto's "text" context) the handler returns the mark that makes the
    filter ask the engine, whose scan reports the shortcode at its line and column
    (tests/test_heldout_classes.py); it prints nothing unlocated itself."""
    text = cases["napkin-text"]["c"][0]["c"]
    assert text == "⟨mlsysim: shortcode not shown here⟩"


def test_claim_placeholders(cases: dict[str, Any]) -> None:
    classes, attrs, content = _span(cases["claim-tilde"])
    assert classes == ["claim"]
    assert attrs == {"claim": "300 FLOP/B ~ ridge @ 10%"}
    assert content == [{"t": "Str", "c": "300 FLOP/B"}]
    classes, attrs, content = _span(cases["claim-of"])
    assert attrs == {"claim": "4 ms", "of": "t_token", "tol": "10%"}


def test_shortcode_without_argument_stops_the_render() -> None:
    proc = _probe("empty")
    assert proc.returncode == 1
    assert "needs an argument" in proc.stderr


def test_shortcodes_in_prose_reach_the_filter(tmp_path: Path) -> None:
    book = copy_book(BOOK, tmp_path / "book")
    r = render(book / "chapters/serving.qmd", cwd=book, metadata_file=book / "_quarto.yml")
    assert r.returncode == 0, r.stderr
    items = r.calls[0][0]["items"]
    assert {"id": "5", "kind": "inline", "text": "1 token / t_token -> token/s",
            "attrs": {"sig-figs": "2"}} in items  # fmt: skip


def test_napkin_eq_shortcode_renders_display_math(tmp_path: Path) -> None:
    page = tmp_path / "eq.qmd"
    page.write_text(
        'Amdahl: {{< napkin-eq "amdahl(p=0.95, speedup=247)" >}}\n\n'
        "{{< napkin-eq \"ridge_point(H100, 'bf16')\" >}}\n",
        encoding="utf-8",
    )
    r = render(page, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    kinds = [item["kind"] for item in r.calls[0][0]["items"]]
    assert kinds == ["eq", "eq"]
    html = " ".join(r.stdout.split())
    # display math as MathML (reads without MathJax): Amdahl ≈ 18.6, the ridge point ≈ 295
    assert html.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">') == 2
    assert "<mo>&#x02248;</mo><mn>18.6</mn>" in html and "<mn>295</mn>" in html
