"""Names a napkin expression can use, and the order they are looked up in.

1. the document's own bindings (``name = expr`` in napkin blocks, source order);
2. math helpers (``sqrt log log2 log10 exp ceil floor min max abs round``, ``pi``);
3. unit names as values (``GB`` is ``1 GB``);
4. registry ids of every kind (``H100``, ``Llama2_7B``, ``Quebec``…) and the registries
   themselves (``Hardware["H100 SXM"]``);
5. every public formula of :mod:`mlsysim.core.formulas` by name, the solvers
   ``solve``, ``collective``, ``training_run`` and ``serving_fleet``, and the simulations
   (``ResourceSimulation`` … and ``Simulation(name, application, persona)``).

Units come before the registries so that unit-only expressions never load the data files
(fast ``mlsysim eval``). A name that is nowhere raises an UnknownNameError with did-you-mean; a
name bound *later* in the document says where.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from dataclasses import dataclass
from typing import Any

from mlsysim.book.evaluator import Fn, View
from mlsysim.book.lang import is_unit
from mlsysim.core.exceptions import FormulaDomainError, MlsysimError, NapkinError, UnknownNameError

__all__ = ["HELPERS", "REGISTRY_NAMES", "SOLVERS", "Binding", "Scope", "global_names"]


@dataclass(frozen=True, slots=True)
class Binding:
    """A document name: its value, where it was bound, and digits as written (literals)."""

    name: str
    value: Any
    line: int
    expression: str
    digits: int | None = None
    error: MlsysimError | None = None  # set when the binding failed
    trace: Any = None  # how the value was computed (a Trace); derivation text is made on demand
    deps: tuple[Binding, ...] = ()  # the bindings its expression used, as they were then
    cites: tuple[str, ...] = ()  # citation ids of the registry values it used

    @property
    def failed(self) -> bool:
        return self.error is not None


def _plain(x: Any, fn: str) -> float:
    """A dimensionless number (int/float or dimensionless Quantity) as float, else an error."""
    from mlsysim.core.units import describe_dimension, ureg

    if isinstance(x, bool) or not isinstance(x, int | float | ureg.Quantity):
        raise NapkinError(f"{fn}() needs a number, got {type(x).__name__}")
    if isinstance(x, ureg.Quantity):
        if not x.dimensionless:
            raise NapkinError(
                f"{fn}() needs a dimensionless number, got {x:~P} ({describe_dimension(x)})",
                fix=f"divide by a unit first, e.g. {fn}(x / GB)",
            )
        return float(x.to("").magnitude)
    return float(x)


def _sqrt(x: Any) -> Any:
    from mlsysim.core.units import ureg

    mag = x.magnitude if isinstance(x, ureg.Quantity) else x
    if isinstance(mag, int | float) and mag < 0:
        raise FormulaDomainError("sqrt() of a negative value", fix="check the sign of the argument")
    return x**0.5 if isinstance(x, ureg.Quantity) else math.sqrt(_plain(x, "sqrt"))


def _log(x: Any, base: Any = None) -> float:
    v = _plain(x, "log")
    if v <= 0:
        raise FormulaDomainError(
            "log() of a value that is not positive",
            why=f"the argument is {v:g}",
            fix="check the argument",
        )
    return math.log(v) if base is None else math.log(v, _plain(base, "log"))


def _log_base(base: float, name: str) -> Any:
    def log_b(x: Any) -> float:
        v = _plain(x, name)
        if v <= 0:
            raise FormulaDomainError(
                f"{name}() of a value that is not positive",
                why=f"the argument is {v:g}",
                fix="check the argument",
            )
        return math.log(v, base)

    return log_b


def _exp(x: Any) -> float:
    v = _plain(x, "exp")
    if v > 690:
        from mlsysim.core.exceptions import LimitError

        raise LimitError("exp() overflows", why=f"the argument {v:g} is above 690")
    return math.exp(v)


def _rounder(fn: Any, name: str) -> Any:
    def r(x: Any) -> int:
        return int(fn(_plain(x, name)))

    return r


def _round(x: Any, ndigits: int = 0) -> Any:
    from mlsysim.core.units import ureg

    if isinstance(x, ureg.Quantity) and not x.dimensionless:
        return round(x, int(ndigits))
    v = _plain(x, "round")
    return round(v) if not ndigits else round(v, int(ndigits))


def _minmax(fn: Any, name: str) -> Any:
    def m(*args: Any) -> Any:
        if not args:
            raise NapkinError(f"{name}() needs at least one value")
        values = list(args[0]) if len(args) == 1 and isinstance(args[0], tuple | list) else args
        return fn(values)

    return m


#: Math helpers callable from napkin expressions.
HELPERS: dict[str, Fn] = {
    name: Fn(fn, name, "helper")
    for name, fn in {
        "sqrt": _sqrt,
        "log": _log,
        "log2": _log_base(2.0, "log2"),
        "log10": _log_base(10.0, "log10"),
        "exp": _exp,
        "ceil": _rounder(math.ceil, "ceil"),
        "floor": _rounder(math.floor, "floor"),
        "round": _round,
        "min": _minmax(min, "min"),
        "max": _minmax(max, "max"),
        "abs": abs,
    }.items()
}
_CONSTANTS: dict[str, float] = {"pi": math.pi}

#: The registries usable by name (``Hardware["H100 SXM"]``).
REGISTRY_NAMES = (
    "Hardware",
    "Models",
    "Grids",
    "Datacenters",
    "CloudRates",
    "Fabrics",
    "Nodes",
    "Clusters",
    "FailureStudies",
    "Storage",
    "ExchangeRates",
    "EgressPrices",
    "Applications",
    "Personas",
)


#: Solvers callable by name: name -> (module, attribute), imported on first use.
SOLVERS: dict[str, tuple[str, str]] = {
    "solve": ("mlsysim.solvers.api", "solve"),
    "collective": ("mlsysim.systems.collectives", "collective"),
    "training_run": ("mlsysim.solvers.run", "training_run"),
    "serving_fleet": ("mlsysim.solvers.fleet", "serving_fleet"),
    # the simulation layer: ResourceSimulation(Doorbell, TinyPioneer).evaluate(...) -> a ledger
    "ResourceSimulation": ("mlsysim.sim.simulations", "ResourceSimulation"),
    "PerformanceSimulation": ("mlsysim.sim.simulations", "PerformanceSimulation"),
    "SustainabilitySimulation": ("mlsysim.sim.simulations", "SustainabilitySimulation"),
    "ReliabilitySimulation": ("mlsysim.sim.simulations", "ReliabilitySimulation"),
    "EconomicsSimulation": ("mlsysim.sim.simulations", "EconomicsSimulation"),
    # a registered simulation by name (labs too): Simulation("BatteryLab", Doorbell, TinyPioneer)
    "Simulation": ("mlsysim.sim.simulations", "simulation"),
}


class _Globals:
    """Registry ids, registries, formulas and solve: loaded on first use, shared by documents."""

    def __init__(self) -> None:
        self._specs: dict[str, Any] | None = None
        self._registries: dict[str, Any] | None = None
        self._formulas: dict[str, Fn] | None = None
        self._solvers: dict[str, Fn | None] = {}

    def registries(self) -> dict[str, Any]:
        if self._registries is None:
            import mlsysim

            regs: dict[str, Any] = {}
            for name in REGISTRY_NAMES:
                try:
                    regs[name] = getattr(mlsysim, name)
                except ImportError:
                    continue  # that layer is not installed yet; its ids are simply absent
            self._registries = regs
        return self._registries

    def specs(self) -> dict[str, Any]:
        if self._specs is None:
            from mlsysim.core.registry import catalog

            specs: dict[str, Any] = {}
            for kind, entries in catalog().entries.items():
                if kind == "sources":
                    continue
                for eid, spec in entries.items():
                    specs.setdefault(eid, spec)
            self._specs = specs
        return self._specs

    def formulas(self) -> dict[str, Fn]:
        if self._formulas is None:
            try:
                mod = importlib.import_module("mlsysim.core.formulas")
            except ImportError:
                self._formulas = {}
            else:
                table = getattr(mod, "FORMULAS", {})
                self._formulas = {
                    n: Fn(f, n, "formula") for n, f in table.items() if not n.startswith("_")
                }
        return self._formulas

    def solver(self, name: str) -> Fn | None:
        """``solve``, ``collective``, ``training_run`` or ``serving_fleet`` (None if absent)."""
        if name not in self._solvers:
            module, attr = SOLVERS[name]
            try:
                fn = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError):
                self._solvers[name] = None
            else:
                self._solvers[name] = Fn(fn, name, "solver")
        return self._solvers[name]

    def solve(self) -> Fn | None:
        return self.solver("solve")

    def lookup(self, name: str) -> Any:
        spec = self.specs().get(name)
        if spec is not None:
            return View(spec, spec, "", name)
        f = self.formulas().get(name)
        if f is not None:
            return f
        reg = self.registries().get(name)
        if reg is not None:
            return reg
        if name in SOLVERS:
            s = self.solver(name)
            if s is not None:
                return s
        raise KeyError(name)

    def names(self) -> list[str]:
        out = [*HELPERS, *_CONSTANTS, *self.registries(), *self.formulas()]
        with contextlib.suppress(MlsysimError):
            out += list(self.specs())
        out += [n for n in SOLVERS if self.solver(n) is not None]
        return out

    def reserved(self, name: str) -> str | None:
        """What a global name is (to refuse binding over it), or None."""
        if name in HELPERS or name in _CONSTANTS:
            return "a math helper"
        if name in REGISTRY_NAMES:
            return "a registry"
        if name in self.formulas():
            return "a formula"
        if name in self.specs():
            return "a registry entry"
        if name in SOLVERS:
            return "a solver"
        return None


_GLOBALS = _Globals()


def global_names() -> list[str]:
    """Every name visible to all documents (helpers, registries, ids, formulas)."""
    return _GLOBALS.names()


class Scope:
    """A document's names: bindings in source order over the shared globals."""

    def __init__(self) -> None:
        self.bindings: dict[str, Binding] = {}
        #: names bound later in the document (pre-scan): name -> file line
        self.future: dict[str, int] = {}
        self.used: list[str] = []

    def lookup(self, name: str) -> Any:
        b = self.bindings.get(name)
        if b is not None:
            if b.error is not None:
                raise NapkinError(
                    f"{name!r} is unavailable: its binding at line {b.line} failed",
                    why=b.error.what if isinstance(b.error, MlsysimError) else str(b.error),
                    fix=f"fix the error at line {b.line} first",
                )
            self.used.append(name)
            return b.value
        h = HELPERS.get(name)
        if h is not None:
            return h
        c = _CONSTANTS.get(name)
        if c is not None:
            return c
        if is_unit(name):
            from mlsysim.core.units import ureg

            return ureg.Quantity(1, ureg.parse_units(name))
        try:
            return _GLOBALS.lookup(name)
        except KeyError:
            pass
        if name in self.future:
            raise NapkinError(
                f"{name!r} is used before it is bound",
                why=f"it is bound later, at line {self.future[name]}",
                fix="move the binding above its first use (napkin names bind in source order)",
            )
        candidates = [*self.bindings, *_GLOBALS.names()]
        raise UnknownNameError(
            "name",
            name,
            candidates,
            fix="bind it in a napkin block (`name = expr`), or use a registry id, formula or unit",
        )

    def reserved(self, name: str) -> str | None:
        return _GLOBALS.reserved(name)
