"""Render a formula call as a derivation: symbolic form = substituted form ≈ result.

A formula's :class:`FormulaInfo` (``mlsysim/core/formulas/_meta.py``) carries two jinja2 LaTeX
templates: ``symbol`` (``\\frac{1}{(1-p)+p/s}``) and ``substituted``
(``\\frac{1}{(1-{{p}})+{{p}}/{{speedup}}}``). Each template variable receives its argument
already rendered as LaTeX (the values come from ``info.operands(args)`` when the info has it,
so a formula can name quantities read from a spec argument). Registry entries render as their
id (``\\mathrm{H100}``); their attributes and methods render their values
(``{{hw.memory.bandwidth}}`` → ``3.35\\,\\mathrm{TB/s}``,
``{{hw.peak_flops(precision)}}`` → ``989.4\\,\\mathrm{TFLOP/s}``).
The templates are package code, yet jinja2 still runs sandboxed (no ``_``-prefixed
attributes), with autoescape off and ``StrictUndefined``, so a missing variable is an error,
never an empty string.
"""

from __future__ import annotations

import numbers
from functools import lru_cache
from typing import Any

from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.units import ureg
from mlsysim.viz.format import float_digits, render_value, render_value_exact
from mlsysim.viz.mathml import display_mathml
from mlsysim.viz.rendered import Rendered

__all__ = ["render_derivation"]

#: Arguments shown with more digits than this are rounded to the requested figures instead.
_MAX_ARG_DIGITS = 6

_ARG_OPTIONS = ("siunitx", "thousands", "default_sig_figs")


def _arg_digits(value: Any, fallback: int) -> int | None:
    """Digits to show an argument with: as written (shortest repr), unless that is noise."""
    magnitude = value.magnitude if isinstance(value, ureg.Quantity) else value
    if isinstance(magnitude, numbers.Integral) or not isinstance(magnitude, numbers.Real):
        return None
    digits = float_digits(float(magnitude))
    return digits if digits <= _MAX_ARG_DIGITS else fallback


def _as_written(value: Any, opts: dict[str, Any]) -> dict[str, Any]:
    """Options to show an argument in the unit it was written in (24 h stays 24 h, not
    1.00 days), unless its magnitude there would read as raw base units (13,500,000,000 B,
    6,740,000,000 params, 0.0000021 s): then the unit family picks (13.5 GB)."""
    magnitude = abs(float(value.magnitude))
    if magnitude == 0 or 1e-3 <= magnitude < 1e4:
        return {**opts, "unit": str(value.units)}
    return opts


def _latex_name(label: str) -> str:
    return r"\mathrm{" + label.replace("_", r"\_") + "}"


def _arg_latex(value: Any, opts: dict[str, Any]) -> str:
    """LaTeX of one argument value, without re-rounding what the author or registry wrote."""
    if isinstance(value, str):
        return _latex_name(value)
    if isinstance(value, bool):
        return r"\mathrm{" + ("true" if value else "false") + "}"
    if isinstance(value, ureg.Quantity):
        digits = _arg_digits(value, opts.get("default_sig_figs", 3))
        return render_value(value, given_digits=digits, **_as_written(value, opts)).latex
    if isinstance(value, numbers.Real):
        digits = _arg_digits(value, opts.get("default_sig_figs", 3))
        return render_value(value, given_digits=digits, **opts).latex
    label = getattr(value, "id", None) or getattr(value, "name", None)
    if isinstance(label, str):
        return _latex_name(label)
    if isinstance(value, list | tuple):
        return ",\\,".join(_arg_latex(v, opts) for v in value)
    return r"\ldots"


class _TexArg:
    """A template variable: prints as LaTeX; attributes and calls reach the wrapped value."""

    __slots__ = ("_opts", "_value")

    def __init__(self, value: Any, opts: dict[str, Any]) -> None:
        self._value = value
        self._opts = opts

    def __str__(self) -> str:
        return _arg_latex(self._value, self._opts)

    def __getattr__(self, name: str) -> _TexArg:
        if name.startswith("_"):
            raise AttributeError(name)
        return _TexArg(getattr(self._value, name), self._opts)

    def __call__(self, *args: Any, **kwargs: Any) -> _TexArg:
        raw_args = [a._value if isinstance(a, _TexArg) else a for a in args]
        raw_kwargs = {k: (v._value if isinstance(v, _TexArg) else v) for k, v in kwargs.items()}
        return _TexArg(self._value(*raw_args, **raw_kwargs), self._opts)


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=512)
def _template(source: str) -> Any:
    return _environment().from_string(source)


def _render_template(source: str, context: dict[str, Any], formula: str, field: str) -> str:
    import jinja2

    try:
        return str(_template(source).render(**context)).strip()
    except jinja2.exceptions.SecurityError as exc:
        raise MlsysimError(
            f"the {field} template of formula {formula!r} uses a private attribute",
            why=str(exc),
            fix="use public attributes of the arguments (no names starting with '_')",
        ) from None
    except jinja2.UndefinedError as exc:
        raise MlsysimError(
            f"cannot render the {field} template of formula {formula!r}",
            why=f"{exc.message}; the template uses a name that is not one of the arguments "
            f"({', '.join(sorted(context)) or 'none'})",
            fix="pass that argument by name, or fix the formula's template in its @formula(...)",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise MlsysimError(
            f"the {field} template of formula {formula!r} is not valid jinja2",
            why=f"{exc.message} (template line {exc.lineno})",
            fix="write LaTeX braces next to jinja2 ones with spaces, e.g. \\frac{1}{ {{p}} }",
        ) from None


def _text_args(args: dict[str, Any], opts: dict[str, Any]) -> str:
    parts = []
    for name, value in args.items():
        if isinstance(value, numbers.Real | ureg.Quantity) and not isinstance(value, bool):
            digits = _arg_digits(value, opts.get("default_sig_figs", 3))
            shown_opts = _as_written(value, opts) if isinstance(value, ureg.Quantity) else opts
            shown = render_value(value, given_digits=digits, **shown_opts).text
        else:
            shown = render_value(value).text if _renderable(value) else "…"
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


def _renderable(value: Any) -> bool:
    return isinstance(value, str | bool) or isinstance(
        getattr(value, "id", None) or getattr(value, "name", None), str
    )


def render_derivation(info: Any, args: dict[str, Any], result: Any, **render_opts: Any) -> Rendered:
    """Render ``info``'s formula called with ``args`` as ``symbolic = substituted ≈ result``.

    ``render_opts`` are :func:`~mlsysim.viz.format.render_value` options for the result
    (``unit``, ``sig_figs``, ``style``, ``siunitx``, ``thousands``…); ``siunitx``,
    ``thousands`` and ``default_sig_figs`` also apply to the arguments, which keep the digits
    they were written with. ``=`` replaces ``\\approx`` when the result is shown exactly. The
    LaTeX is display math content; ``markdown`` and ``html`` wrap it as display math
    (``$$…$$``, ``\\[…\\]``); ``text`` reads ``amdahl(p=0.95, speedup=247) ≈ 19.5×``.
    """
    name = str(getattr(info, "name", "formula"))
    arg_opts = {k: render_opts[k] for k in _ARG_OPTIONS if k in render_opts}
    shown, exact = render_value_exact(result, **render_opts)
    relation = r"=" if exact else r"\approx"
    plain_opts = {**render_opts, "siunitx": False}
    plain = _equation(
        info,
        name,
        args,
        {**arg_opts, "siunitx": False},
        render_value(result, **plain_opts).latex,
        relation,
    )
    latex = plain
    if render_opts.get("siunitx"):
        latex = _equation(info, name, args, arg_opts, shown.latex, relation)
    text = f"{name}({_text_args(args, arg_opts)}) {'=' if exact else '≈'} {shown.text}"
    return Rendered(
        text=text, latex=latex, html=display_mathml(plain, text), markdown=f"$${plain}$$", math=True
    )


def _equation(
    info: Any,
    name: str,
    args: dict[str, Any],
    opts: dict[str, Any],
    result_latex: str,
    relation: str,
) -> str:
    operands = getattr(info, "operands", None)
    values = dict(operands(args)) if callable(operands) else dict(args)
    context = {k: _TexArg(v, opts) for k, v in values.items()}
    symbolic = _render_template(str(info.symbol), context, name, "symbol")
    substituted = _render_template(str(info.substituted), context, name, "substituted")
    return f"{symbolic} = {substituted} {relation} {result_latex}"
