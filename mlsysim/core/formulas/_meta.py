"""The ``@formula`` decorator: attaches a formula's LaTeX templates and citations to it.

Every public formula carries a :class:`FormulaInfo` as ``fn.formula``:

* ``symbol`` — the symbolic form in LaTeX (e.g. ``\\tau = \\sqrt{2\\,\\delta\\,M}``);
* ``substituted`` — a jinja2 template of the same form whose variables are the function's
  argument names (or names from ``expand``), each receiving an already-rendered LaTeX string,
  e.g. ``\\sqrt{2 \\cdot {{checkpoint_time}} \\cdot {{mtbf}}}``;
* ``sources`` — citation ids resolvable in the catalog (``core/data/literature.toml``);
* ``citation`` — short human-readable attribution; ``result`` — named dimension of the result.

jinja2 is imported only when a template is rendered, so importing the formulas stays cheap.
Write ``{ {{x}} }`` (with spaces) where a variable sits directly inside a LaTeX group, so that
three braces in a row never reach the jinja2 lexer.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlsysim.core.exceptions import MlsysimError

__all__ = ["MODULE_DOMAINS", "REGISTRY", "FormulaInfo", "formula"]

F = TypeVar("F", bound=Callable[..., Any])

#: Modules whose formulas the references and ``mlsysim formulas`` list under another domain
#: than the module's name (the roofline's, the laws' and FLOP counting's own modules are part
#: of ``performance``, the stored tensors' of ``memory``).
MODULE_DOMAINS: dict[str, str] = {
    "flops": "performance",
    "laws": "performance",
    "roofline": "performance",
    "tensors": "memory",
}
#: Every decorated formula by name, in definition order (``FORMULAS`` is built from it).
REGISTRY: dict[str, Callable[..., Any]] = {}

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ENV: Any = None


def _environment() -> Any:
    """The shared jinja2 environment (strict: an unknown variable is an error)."""
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
        )
    return _ENV


@dataclass(frozen=True)
class FormulaInfo:
    """What the book layer needs to render and cite one formula."""

    name: str
    symbol: str
    substituted: str
    sources: tuple[str, ...]
    citation: str
    result: str
    domain: str = ""
    params: tuple[str, ...] = ()
    doc: str = ""
    expand: Callable[[Mapping[str, Any]], dict[str, Any]] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names used by the ``substituted`` template, in order of appearance."""
        seen: list[str] = []
        for name in _VARIABLE.findall(self.substituted):
            if name not in seen:
                seen.append(name)
        return tuple(seen)

    def bind(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Map a call's arguments to parameter names, defaults filled in."""
        fn = REGISTRY[self.name]
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    def defaults(self) -> dict[str, Any]:
        """Default values of the formula's parameters that have one."""
        fn = REGISTRY[self.name]
        return {
            name: p.default
            for name, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty
        }

    def operands(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Values for every template variable: the bound arguments plus ``expand``'s extras.

        ``expand`` lets a formula whose arguments are registry specs (``hw``, ``model``) name
        the quantities it reads from them (``peak``, ``bandwidth``), so a derivation can show
        numbers instead of a device name. Parameters missing from ``arguments`` take their
        defaults.
        """
        values = {**self.defaults(), **arguments}
        if self.expand is not None:
            values.update(self.expand(dict(values)))
        return values

    def render(self, args: Mapping[str, str]) -> str:
        """Render the substituted template; ``args`` maps variable name → LaTeX string."""
        missing = [v for v in self.variables if v not in args]
        if missing:
            raise MlsysimError(
                f"cannot render formula {self.name!r}: no value for {', '.join(missing)}",
                why=f"its substituted template uses {', '.join(self.variables)}",
                fix="pass every template variable, already rendered as LaTeX",
            )
        rendered: str = _environment().from_string(self.substituted).render(**args)
        return rendered

    def default_texts(self) -> dict[str, str]:
        """Each default as napkin source (``{"latency": "0 s", "precision": '"bf16"'}``)."""
        return {name: _literal(value) for name, value in self.defaults().items()}

    def signature(self, *, result: bool = True) -> str:
        """The call as an author writes it: ``ridge_point(hw, precision="bf16") -> intensity``.

        Defaults are shown as napkin literals (``latency=0 s``); the result's dimension ends
        it unless ``result`` is false. Error messages for a wrong call show this.
        """
        fn = REGISTRY[self.name]
        parts = []
        for name, p in inspect.signature(fn).parameters.items():
            if p.default is inspect.Parameter.empty:
                parts.append(name)
            else:
                parts.append(f"{name}={_literal(p.default)}")
        call = f"{self.name}({', '.join(parts)})"
        shown = self.result.replace("[", "").replace("]", "").replace("_", " ")
        return f"{call} -> {shown}" if result else call

    def render_symbol(self) -> str:
        """The symbolic form (a template without variables, rendered for uniformity)."""
        rendered: str = _environment().from_string(self.symbol).render()
        return rendered


def _literal(value: Any) -> str:
    """A default value as napkin source: ``"bf16"``, ``0 s``, ``True``, ``0.5``."""
    if isinstance(value, str):
        return f'"{value}"'
    units = getattr(value, "units", None)
    if units is not None:
        mag = value.magnitude
        unit = f"{units:~P}"
        if unit.startswith("1/"):
            unit = "/ " + unit[2:]
        return f"{mag:g} {unit}" if unit else f"{mag:g}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def formula(
    *,
    symbol: str,
    substituted: str,
    sources: tuple[str, ...],
    citation: str,
    result: str,
    expand: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Register a function as a public formula and attach its :class:`FormulaInfo`."""
    if not sources:
        raise MlsysimError(
            "a formula needs at least one literature source",
            fix="pass sources=('citation_id', ...)",
        )

    def decorate(fn: F) -> F:
        code = fn.__code__
        n_args = code.co_argcount + code.co_kwonlyargcount
        module = fn.__module__.rpartition(".")[2]
        info = FormulaInfo(
            name=fn.__name__,
            symbol=symbol,
            substituted=substituted,
            sources=tuple(sources),
            citation=citation,
            result=result,
            domain=MODULE_DOMAINS.get(module, module),
            params=tuple(code.co_varnames[:n_args]),
            doc=(fn.__doc__ or "").strip().split("\n", 1)[0],
            expand=expand,
        )
        if fn.__name__ in REGISTRY:
            raise MlsysimError(
                f"formula {fn.__name__!r} is defined twice",
                where=f"{fn.__module__}",
                fix="give the formula a unique name",
            )
        fn.formula = info  # type: ignore[attr-defined]
        REGISTRY[fn.__name__] = fn
        return fn

    return decorate
