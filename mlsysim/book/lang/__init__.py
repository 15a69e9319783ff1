"""The napkin language: read, parse, compile and evaluate under a budget.

* :mod:`~mlsysim.book.lang.lexer` — the surface (``->``, claims, statements), linear passes;
* :mod:`~mlsysim.book.lang.literals` — quantity and percent literals;
* :mod:`~mlsysim.book.lang.parse` — :mod:`ast` parsing with the author's columns;
* :mod:`~mlsysim.book.lang.compiler` — the whitelist compiler, with the rules of
  :mod:`~mlsysim.book.lang.operators` and :mod:`~mlsysim.book.lang.access`;
* :mod:`~mlsysim.book.lang.allow` — what may be read and called, with checked arguments;
* :mod:`~mlsysim.book.lang.names` — global names, and :data:`~mlsysim.book.lang.names.FUNCTIONS`,
  the one place where a model function joins the language;
* :mod:`~mlsysim.book.lang.limits` and :mod:`~mlsysim.book.lang.values` — the budget, the
  trace and the values that remember their provenance.

>>> from mlsysim.book.lang import Trace, compile_expression
>>> compile_expression("2 * 3").run(lambda name: None, Trace())
6
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlsysim.book.lang.lexer import split_claim, split_conversion, split_statements, split_top
from mlsysim.core.lazy import lazy_getattr

if TYPE_CHECKING:
    from mlsysim.book.lang.compiler import Compiled, compile_expression
    from mlsysim.book.lang.values import Fn, Method, Trace, View, describe, unwrap

__all__ = [
    "Compiled",
    "Fn",
    "Method",
    "Trace",
    "View",
    "compile_expression",
    "describe",
    "split_claim",
    "split_conversion",
    "split_statements",
    "split_top",
    "unwrap",
]

# the compiler loads pint: imported on first use, so the scanners (and a cache hit of the
# Quarto batch, which only scans) never pay for it
__getattr__ = lazy_getattr(
    "mlsysim.book.lang",
    {
        "Compiled": ("mlsysim.book.lang.compiler", "Compiled"),
        "compile_expression": ("mlsysim.book.lang.compiler", "compile_expression"),
        **{
            name: ("mlsysim.book.lang.values", name)
            for name in ("Fn", "Method", "Trace", "View", "describe", "unwrap")
        },
    },
    globals(),
)
