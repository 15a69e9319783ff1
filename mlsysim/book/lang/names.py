"""The global names of the napkin language, resolved lazily and again whenever the data changes.

Visible to every document, after its own bindings:

1. math helpers and ``pi`` (:mod:`~mlsysim.book.lang.helpers`);
2. unit names as values (``GB`` is ``1 GB``);
3. registry ids of every kind (``H100``, ``Llama2_7B``, ``Quebec`` …) and the registries
   themselves (``Hardware["H100 SXM"]``): every :class:`~mlsysim.core.registry.Registry`
   that :mod:`mlsysim` exports, so a registry a layer adds is visible with no change here;
4. every public formula of :data:`mlsysim.core.formulas.FORMULAS`, by name;
5. the model's functions in :data:`FUNCTIONS`.

**Adding a public function of the model to the language is one line in** :data:`FUNCTIONS`
(``"collective": "mlsysim.systems.collectives:collective"``). Its arguments are bound to its
own signature and checked by :mod:`~mlsysim.book.lang.allow`; the fields of what it returns
are readable, its methods are not (unless allow-listed there). Its module is imported when a
document first uses the name (a book that never solves never imports the solvers); a module
that cannot be imported leaves its name unknown.

Every cache here is keyed on :func:`mlsysim.core.registry.generation`, so entries added with
``add_data_dir()`` or a changed ``MLSYSIM_DATA_PATH`` are seen by the next evaluation; a data
file that fails to load is reported as such (naming its file, entry and field), never as an
unknown name.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from mlsysim.book.lang.helpers import CONSTANTS, HELPERS
from mlsysim.book.lang.values import Fn, View
from mlsysim.core.exceptions import MlsysimError, NapkinError

__all__ = ["FUNCTIONS", "MISSING", "GlobalNames", "global_names"]

#: Model functions callable from napkin math: napkin name -> "module:attribute".
FUNCTIONS: dict[str, str] = {
    "solve": "mlsysim.solvers.api:solve",
    "collective": "mlsysim.systems.collectives:collective",
    "training_run": "mlsysim.solvers.run.training:training_run",
    "serving_fleet": "mlsysim.solvers.run.fleet:serving_fleet",
    "generate": "mlsysim.solvers.serving.generation:generate",
    "serve": "mlsysim.solvers.serving.serve:serve",
    "mig": "mlsysim.hardware.partitions:mig",
    "optimize_parallelism": "mlsysim.solvers.optimize.parallel:optimize_parallelism",
    "pareto": "mlsysim.solvers.optimize.pareto:pareto",
    # the simulation layer: ResourceSimulation(Doorbell, TinyPioneer).evaluate(...) -> a ledger
    "ResourceSimulation": "mlsysim.sim.simulations:ResourceSimulation",
    "PerformanceSimulation": "mlsysim.sim.simulations:PerformanceSimulation",
    "SustainabilitySimulation": "mlsysim.sim.simulations:SustainabilitySimulation",
    "ReliabilitySimulation": "mlsysim.sim.simulations:ReliabilitySimulation",
    "EconomicsSimulation": "mlsysim.sim.simulations:EconomicsSimulation",
    # a registered simulation by name (labs too): Simulation("BatteryLab", Doorbell, TinyPioneer)
    "Simulation": "mlsysim.sim.simulations:simulation",
}

#: What :meth:`GlobalNames.lookup` returns for a name that is nowhere.
MISSING = object()


class GlobalNames:
    """Registry ids, registries, formulas and model functions, shared by every document."""

    def __init__(self) -> None:
        self._generation = -1
        self._specs: dict[str, Mapping[str, Any]] = {}  # id -> its kind's entries
        self._registries: _Registries | None = None
        self._functions: dict[str, Fn] | None = None
        self._model: dict[str, Fn | None] = {}  # FUNCTIONS imported so far (None: cannot be)

    # -- registry entries (regenerated with the data) ------------------------------------
    def specs(self) -> dict[str, Mapping[str, Any]]:
        """Every registry id, with the entries of its kind (loading the data files on first
        use). An entry is read, and its layer imported, only when a document uses it."""
        from mlsysim.core import registry

        gen = registry.generation()
        if gen != self._generation:
            try:
                cat = registry.catalog()
            except MlsysimError as exc:
                raise NapkinError(
                    "the registry data could not be loaded",
                    why=str(exc),
                    fix="fix the data file named above (or MLSYSIM_DATA_PATH)",
                ) from None
            specs: dict[str, Mapping[str, Any]] = {}
            for kind, entries in cat.entries.items():
                if kind != "sources":
                    for eid in entries:
                        specs.setdefault(eid, entries)
            self._specs = specs
            self._generation = registry.generation()
        return self._specs

    def spec(self, name: str) -> Any:
        """The registry entry ``name``, or None."""
        entries = self.specs().get(name)
        return None if entries is None else entries[name]

    def registries(self) -> Mapping[str, Any]:
        """The registries :mod:`mlsysim` exports (``Hardware``, ``Models`` …), by name; a
        registry's module is imported when the registry is first used."""
        if self._registries is None:
            import mlsysim

            try:
                exported = mlsysim.registry_names()
            except AttributeError:  # a package without them: no registry names
                exported = {}
            self._registries = _Registries(exported)
        return self._registries

    def functions(self) -> dict[str, Fn]:
        """The formulas by name (the model's functions are :meth:`model_function`)."""
        if self._functions is None:
            table: dict[str, Fn] = {}
            try:
                formulas = importlib.import_module("mlsysim.core.formulas").FORMULAS
            except (ImportError, AttributeError):
                formulas = {}
            for name, fn in formulas.items():
                if not name.startswith("_"):
                    table[name] = Fn(fn, name, "formula")
            self._functions = table
        return self._functions

    def model_function(self, name: str) -> Fn | None:
        """The model function ``name`` of :data:`FUNCTIONS`, imported on first use."""
        if name not in self._model:
            module, _, attr = FUNCTIONS[name].partition(":")
            try:
                fn: Fn | None = Fn(getattr(importlib.import_module(module), attr), name, "function")
            except (ImportError, AttributeError):
                fn = None
            self._model[name] = fn
        return self._model[name]

    # -- lookup ---------------------------------------------------------------------------
    def lookup(self, name: str) -> Any:
        """The global value of ``name``, or :data:`MISSING`."""
        if name in FUNCTIONS:
            fn = self.model_function(name)
            return MISSING if fn is None else fn
        f = self.functions().get(name)
        if f is not None:
            return f
        spec = self.spec(name)
        if spec is not None:
            return View(spec, spec, "", name)
        reg = self.registries().get(name)
        if reg is not None:
            return reg
        return MISSING

    def names(self) -> list[str]:
        """Every global name (for did-you-mean)."""
        out = [*HELPERS, *CONSTANTS, *self.registries(), *self.functions(), *FUNCTIONS]
        with contextlib.suppress(MlsysimError):
            out += list(self.specs())
        return out

    def reserved(self, name: str) -> str | None:
        """What a global name is (to refuse binding over it), or None."""
        from mlsysim.core.units import unit_name

        if name in HELPERS or name in CONSTANTS:
            return "a math helper"
        if name in self.registries():
            return "a registry"
        if name in FUNCTIONS:
            return "a function of the model"
        f = self.functions().get(name)
        if f is not None:
            return "a formula" if f.kind == "formula" else "a function of the model"
        if name in self.specs():
            return "a registry entry"
        if unit_name(name) is not None:
            return f"a unit ({unit_name(name)})"
        return None


class _Registries(Mapping[str, Any]):
    """Registry names to registries, each imported on first use (``mlsysim.registries()``
    would import every layer's registry module to list them)."""

    def __init__(self, where: Mapping[str, tuple[str, str]]) -> None:
        self._where = dict(where)
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            from mlsysim.core.registry import Registry

            module, attr = self._where[name]
            try:
                value = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError):  # a layer missing: its name is absent
                raise KeyError(name) from None
            if not isinstance(value, Registry):
                raise KeyError(name)
            self._loaded[name] = value
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


_GLOBALS = GlobalNames()


def global_names() -> GlobalNames:
    """The process's one :class:`GlobalNames`."""
    return _GLOBALS
