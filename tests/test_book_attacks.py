"""Bad input never executes code, hangs or crashes: it becomes a located failure."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsysim.book import Document
from mlsysim.book.lang import Trace, compile_expression
from mlsysim.book.scope import Scope
from mlsysim.core.exceptions import MlsysimError


@pytest.fixture(autouse=True, scope="module")
def _warm() -> None:
    """Load the data files and unit tables once, so timings measure evaluation only."""
    doc = Document("warm.md")
    for expr in ("H10 + H100.tdp + 1 GB", "3 ms -> s", "0.5 -> %", "(1 +", "H100.memory"):
        doc.inline(expr, 1)


@contextlib.contextmanager
def cpu_under(seconds: float) -> Iterator[None]:
    """Assert the block takes less CPU than ``seconds``; the collector is paused meanwhile, so
    a full collection of the garbage earlier tests left is not charged to the evaluation."""
    gc.disable()
    try:
        start = time.process_time()
        yield
        assert time.process_time() - start < seconds
    finally:
        gc.enable()


def fail(expr: str) -> tuple[int | None, str]:
    with cpu_under(0.1):
        r = Document("t.md").inline(expr, 7, column=10)
    assert not r.ok and r.failure is not None
    assert r.failure.line == 7 and r.failure.kind == "error"
    return r.failure.column, r.failure.message


@pytest.mark.parametrize(
    ("expr", "column", "message"),
    [
        ("__import__('os')", 10, "names starting with '_'"),
        ("().__class__", 13, "'__class__' is not allowed"),
        ("open('x')", 10, "no name 'open'"),
        ("H100._x", 15, "'_x' is not allowed"),
        ("H100.model_dump()", 15, "model_dump"),
        ("9**9**9", 11, "exponent"),
        ("10.0**400", 14, "too large"),
        ("2 * (1 / 0)", 19, "division by zero"),
        ("1e300 * 1e10", 16, "not a finite number"),
        ("(lambda: 1)()", 11, "lambda"),
        ("[x for x in (1, 2)]", 10, "comprehension"),
        ("f'{1}'", 10, "f-string"),
        ("(y := 3)", 11, "walrus"),
        ("'a' * 100", 14, "text cannot be used"),
        ("'" + "a" * 300 + "'", 10, "string is too long"),
        ("1 +", 12, "invalid napkin syntax"),
        ("80 GB + 1 USD", 16, "cannot add 80 GB (information) to 1 USD (currency)"),
        ("3.35 TB/s -> Hz", 23, "bandwidth"),
        ("log(0)", 10, "log()"),
        ("sqrt(-1)", 10, "negative"),
    ],
)
def test_bad_input_is_located(expr: str, column: int, message: str) -> None:
    col, msg = fail(expr)
    assert message in msg
    assert col == column


def test_unknown_name_did_you_mean() -> None:
    col, msg = fail("H10.tdp")
    assert "did you mean" in msg and "H100" in msg and col == 10


def test_deep_nesting_is_a_limit() -> None:
    _col, msg = fail("(" * 200 + "1" + ")" * 200)
    assert "nested" in msg or "too many" in msg


def test_long_expression_is_a_limit() -> None:
    _, msg = fail("1+" * 3000 + "1")
    assert "too long" in msg


_ATOMS = [
    "1",
    "0",
    "2.5",
    "3 ms",
    "80 GB",
    "3.35 TB/s",
    "H100",
    "H100.memory.bandwidth",
    "'bf16'",
    "GB",
    "x",
    "sqrt",
    "(",
    ")",
    "+",
    "-",
    "*",
    "/",
    "**",
    "%",
    "//",
    "<",
    "and",
    "not",
    ",",
    ".",
    "[",
    "]",
    "1e308",
    "9",
    "_",
    "->",
    "ms",
    "H100.peak_flops",
    "()",
    "max",
    "if",
    "else",
    "~",
    "@",
    "lambda",
    "'",
    '"',
    ":",
    "=",
    "0.0",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=12), st.text(max_size=6))
def test_fuzz_tokens_value_or_mlsysim_error(parts: list[str], noise: str) -> None:
    expr = " ".join(parts) + noise
    with cpu_under(0.1):
        r = Document("fuzz.md").inline(expr, 1)
    assert r.ok or (r.failure is not None and r.failure.kind == "error")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.sampled_from(["1", "2.0", "0", "3 ms", "80 GB", "H100.tdp", "1e300"]),
        lambda inner: st.tuples(
            inner, st.sampled_from(["+", "-", "*", "/", "**", "%", "<"]), inner
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        max_leaves=20,
    )
)
def test_fuzz_arithmetic_never_raises_foreign_errors(expr: str) -> None:
    with cpu_under(0.1), contextlib.suppress(MlsysimError):
        compile_expression(expr).run(Scope().lookup, Trace())
