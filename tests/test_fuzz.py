"""Fuzzing: the evaluator, the document checker and every scanner on generated hostile input.

Each property asserts that an input gives a value (or items) or a located MlsysimError, never
another exception, within 0.2 s of CPU time and 200 MB of new peak memory. Hypothesis runs a
short pass in every test run; ``MLSYSIM_FUZZ_SECONDS=60`` runs :func:`test_fuzz_for_a_while`,
which repeats every property on fresh random inputs for that long and prints how many inputs
it tried (``scripts/test.sh`` runs it in CI, beside the test suite).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsysim.book import Document
from mlsysim.book.claims import parse_stated
from mlsysim.book.lang import Trace, compile_expression, lexer
from mlsysim.book.lang.literals import prepare
from mlsysim.book.scope import Scope
from mlsysim.book.sources import scan_text
from mlsysim.book.sources.check import check_document
from mlsysim.book.sources.frontmatter import front_matter_options
from mlsysim.book.sources.inline import Syntax, scan_paragraph
from mlsysim.book.sources.shortcodes import ShortcodeReader
from mlsysim.book.sources.text import parse_attrs
from mlsysim.book.syntax import parse_column, split_options
from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.unit_text import parse_quantity_text, parse_unit_text

#: CPU seconds and new peak memory (MB) one input may take
_SECONDS, _MEGABYTES = 0.2, 200
_EXAMPLES = 60
_COUNT = {"inputs": 0}
_FUZZ = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(autouse=True, scope="module")
def _warm() -> None:
    """Load data files and unit tables once: the budget is for the input, not start-up."""
    doc = Document("warm.md")
    for expr in ("H10 + H100.tdp + 1 GB", "3 ms -> s", "0.5 -> %", "(1 +", "H100.memory"):
        doc.inline(expr, 1)
    doc.claim("1 ms ~ 1 ms @ 1 us", 1)
    for warm in (
        'solve(Llama2_7B, H100, phase="decode").latency',
        'collective("all_reduce", 1 GB, DGX_H100).time',
        'ResourceSimulation(Doorbell, TinyPioneer).evaluate(region="Quebec").sustainability',
    ):
        doc.inline(warm, 1)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    try:
        out: Any = fn()
    except MlsysimError as exc:
        out = exc
    return out, time.process_time() - start


def within_budget(fn: Callable[[], Any]) -> Any:
    """``fn()``'s result, asserting the time and memory budget; MlsysimError is a result.

    An input over the time budget is run once more and judged by that run: the first call of
    a path loads what it needs once per process (a lazily imported module, a registry kind,
    a derived cache), which is start-up, not the input's cost. Work that grows with the input
    (a hang, a blow-up) is over budget both times."""
    _COUNT["inputs"] += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out, spent = _timed(fn)
    if spent >= _SECONDS:
        out, spent = _timed(fn)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert spent < _SECONDS, f"{spent:.3f} s of CPU for one input, twice"
    assert grown < _MEGABYTES, f"{grown:.0f} MB more peak memory for one input"
    return out


_ATOMS = [
    "1", "0", "2.5", "1e308", "1e-308", "9", "0.0", "1_000", "3 ms", "80 GB", "3.35 TB/s",
    "1 GB**40", "40%", "2 GiB", "1/s", "H100", "H100.memory.bandwidth", "H100.tdp",
    "H100.peak_flops", "H100.require", "H100.model_dump", "solve", "Llama2_7B", "'bf16'",
    '"decode"', "GB", "ms", "x", "sqrt", "round", "max", "min", "log", "mod", "ridge_point",
    "erlang_c", "servers=", "n=", "phase=", "collective", "'all_reduce'", "DGX_H100",
    "devices=", "training_run", "ResourceSimulation", "Doorbell", "TinyPioneer", ".evaluate",
    "(", ")", "[", "]", "+", "-", "*", "/", "**", "%",
    "//", "<", "==", "and", "or", "not", "if", "else", ",", ".", "->", "~", "@", "|", "=",
    ":", "_", "__class__", "lambda", "'", '"', "\\", "\\\\", "#", "{", "}", "10**8", "-1e9",
    "(1,)", "inf", "nan", "µs", "·",
]  # fmt: skip


@st.composite
def expressions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=14))
    sep = draw(st.sampled_from([" ", "", "  "]))
    noise = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=6))
    return sep.join(parts) + noise


@_FUZZ
@given(expressions())
def test_fuzz_evaluator(expr: str) -> None:
    def run() -> Any:
        return compile_expression(expr).run(Scope().lookup, Trace())

    within_budget(run)


@_FUZZ
@given(expressions(), st.sampled_from(["inline", "claim", "block", "eq"]))
def test_fuzz_document_items(expr: str, kind: str) -> None:
    doc = Document("fuzz.md")

    def run() -> Any:
        if kind == "inline":
            return doc.inline(expr, 3, column=5)
        if kind == "claim":
            return doc.claim(f"300 FLOP/B ~ {expr}", 3, column=5)
        if kind == "eq":
            return doc.derivation(expr, 3, column=5)
        return doc.block(f"v = {expr}\ncheck(v > 1, 'x')\n{expr}", 3, column=5)

    within_budget(run)
    for f in doc.failures:
        assert f.line >= 3 and f.file == "fuzz.md" and not f.extra.get("internal"), f


_FRAGMENTS = [
    "{napkin}`", "{claim}`", "{napkin-eq}`", "`", "``", "```", "```{napkin}", "```{.napkin}",
    ":::{note}", ":::", "~~~", "- ", "1. ", "> ", "<!--", "-->", "% ", "    ", "\t", "\n",
    "\n\n", "[", "]", "]{.claim of=", "{.napkin}", "{{< napkin ", "{{< claim ", "{{</* ",
    " >}}", "*/>}}", '"', "'", "\\", ":napkin:`", ":claim:`", ".. napkin::", ".. ", "::",
    ".. include:: x.rst", "```{include} y.md", "{{< include z.qmd >}}", "---", "mlsysim:",
    "  tolerance: 10%", "H100.tdp", "1 ms ~ 2 ms", "ridge_point(H100, 'bf16')", "x = 1",
    "check(x < 0, 'no')", "|", "+---+", "===", "{row}", ":rows: H100", "Col = {row}.tdp",
]  # fmt: skip


@st.composite
def chapters(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=40))
    words = draw(st.lists(st.text(max_size=4), max_size=6))
    return "".join(p + (words.pop() if words and draw(st.booleans()) else "") for p in parts)


@_FUZZ
@given(chapters(), st.sampled_from([".md", ".qmd", ".rst"]))
def test_fuzz_document_checker(text: str, suffix: str) -> None:
    doc = within_budget(lambda: check_document(Path(f"/nonexistent/fuzz{suffix}"), text=text))
    assert isinstance(doc, Document)
    lines = text.count("\n") + 1
    for f in doc.failures:
        assert 1 <= f.line <= lines + 1 and not f.extra.get("internal"), f


_SCANNERS: dict[str, Callable[[str], Any]] = {
    "mask_strings": lexer.mask_strings,
    "split_statements": lexer.split_statements,
    "split_conversion": lexer.split_conversion,
    "split_claim": lexer.split_claim,
    "split_top": lexer.split_top,
    "binding_head": lexer.binding_head,
    "prepare": prepare,
    "split_options": split_options,
    "parse_column": parse_column,
    "parse_stated": parse_stated,
    "parse_unit_text": parse_unit_text,
    "parse_quantity_text": parse_quantity_text,
    "front_matter": lambda t: front_matter_options("---\n" + t + "\n---\n"),
    "parse_attrs": lambda t: parse_attrs("{" + t, 0),
    "shortcodes": lambda t: ShortcodeReader(t).shortcodes(),
    "inline": lambda t: scan_paragraph(t, Syntax(myst=True, pandoc=True)),
    "markdown_myst": lambda t: scan_text(t, "f.md", "myst"),
    "markdown_pandoc": lambda t: scan_text(t, "f.qmd", "pandoc"),
    "rst": lambda t: scan_text(t, "f.rst", "rst"),
}


@_FUZZ
@given(st.sampled_from(sorted(_SCANNERS)), st.one_of(chapters(), expressions()))
def test_fuzz_every_scanner(name: str, text: str) -> None:
    within_budget(lambda: _SCANNERS[name](text))


_PROPERTIES = [
    test_fuzz_evaluator,
    test_fuzz_document_items,
    test_fuzz_document_checker,
    test_fuzz_every_scanner,
]


@pytest.mark.skipif(
    not os.environ.get("MLSYSIM_FUZZ_SECONDS"), reason="set MLSYSIM_FUZZ_SECONDS for a long run"
)
def test_fuzz_for_a_while(capsys: pytest.CaptureFixture[str]) -> None:
    """Every property again and again on fresh inputs until the time is up."""
    seconds = float(os.environ["MLSYSIM_FUZZ_SECONDS"])
    _COUNT["inputs"] = 0
    rounds = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for prop in _PROPERTIES:
            prop()
        rounds += 1
    with capsys.disabled():
        print(
            f"\nfuzz: {_COUNT['inputs']:,} inputs in {time.monotonic() - start:.0f} s "
            f"({rounds} rounds of {len(_PROPERTIES)} properties × {_EXAMPLES} examples), "
            "each a value or a located MlsysimError within 0.2 s CPU and 200 MB"
        )
