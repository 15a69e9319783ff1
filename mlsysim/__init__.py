"""mlsysim: a physics-grounded analytical engine for ML systems, and napkin math for books.

Importing is cheap: the unit registry, the registries' data files and heavy sub-packages
(solver, napkin engine) load on first use.

>>> import mlsysim
>>> mlsysim.Hardware.H100.memory.bandwidth
<Quantity(3.35, 'terabyte / second')>
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.exceptions import (
    ConfigError,
    DimensionError,
    FormulaDomainError,
    InfeasibleError,
    MlsysimError,
    NapkinError,
    RegistryDataError,
    UnknownNameError,
    UnsupportedPrecisionError,
)
from mlsysim.core.lazy import lazy_dir, lazy_getattr
from mlsysim.core.registry import add_data_dir, declare_data_dir, on_first_load

__version__ = "0.1.0"

__all__ = [
    "Q_",
    "Applications",
    "CloudRates",
    "Clusters",
    "ConfigError",
    "Datacenters",
    "DimensionError",
    "EgressPrices",
    "Engines",
    "ExchangeRates",
    "Fabrics",
    "FailureStudies",
    "FormulaDomainError",
    "Grids",
    "Hardware",
    "InfeasibleError",
    "MigProfiles",
    "MlsysimError",
    "Models",
    "NapkinError",
    "Nodes",
    "OffloadTiers",
    "Personas",
    "RegistryDataError",
    "Storage",
    "UnknownNameError",
    "UnsupportedPrecisionError",
    "__version__",
    "add_data_dir",
    "collective",
    "formulas",
    "generate",
    "mig",
    "optimize_parallelism",
    "optimize_placement",
    "optimize_serving",
    "pareto",
    "registries",
    "registry_names",
    "serve",
    "serving_fleet",
    "sim",
    "solve",
    "sweep",
    "sweep_chunks",
    "training_run",
    "ureg",
]

# name -> (module, attribute); resolved on first access (PEP 562)
_LAZY: dict[str, tuple[str, str]] = {
    # the unit registry (pint) loads on first use, so `mlsysim batch` cache hits never pay for it
    "ureg": ("mlsysim.core.units", "ureg"),
    "Q_": ("mlsysim.core.units", "Q_"),
    "Hardware": ("mlsysim.hardware.registry", "Hardware"),
    "Engines": ("mlsysim.hardware.registry", "Engines"),
    "Models": ("mlsysim.workload.registry", "Models"),
    "Grids": ("mlsysim.infra.registry", "Grids"),
    "Datacenters": ("mlsysim.infra.registry", "Datacenters"),
    "CloudRates": ("mlsysim.infra.registry", "CloudRates"),
    "FailureStudies": ("mlsysim.infra.registry", "FailureStudies"),
    "Storage": ("mlsysim.infra.registry", "Storage"),
    "ExchangeRates": ("mlsysim.infra.registry", "ExchangeRates"),
    "EgressPrices": ("mlsysim.infra.registry", "EgressPrices"),
    "Fabrics": ("mlsysim.systems.registry", "Fabrics"),
    "Nodes": ("mlsysim.systems.registry", "Nodes"),
    "Clusters": ("mlsysim.systems.registry", "Clusters"),
    "solve": ("mlsysim.solvers.api", "solve"),
    "collective": ("mlsysim.systems.collectives", "collective"),
    "training_run": ("mlsysim.solvers.run.training", "training_run"),
    "serving_fleet": ("mlsysim.solvers.run.fleet", "serving_fleet"),
    "generate": ("mlsysim.solvers.serving.generation", "generate"),
    "serve": ("mlsysim.solvers.serving.serve", "serve"),
    "mig": ("mlsysim.hardware.partitions", "mig"),
    "MigProfiles": ("mlsysim.hardware.partitions", "MigProfiles"),
    "OffloadTiers": ("mlsysim.systems.offload", "OffloadTiers"),
    "optimize_parallelism": ("mlsysim.solvers.optimize.parallel", "optimize_parallelism"),
    "optimize_serving": ("mlsysim.solvers.optimize.serving", "optimize_serving"),
    "optimize_placement": ("mlsysim.solvers.optimize.placement", "optimize_placement"),
    "pareto": ("mlsysim.solvers.optimize.pareto", "pareto"),
    "sweep": ("mlsysim.solvers.sweeps.grid", "sweep"),
    "sweep_chunks": ("mlsysim.solvers.sweeps.grid", "sweep_chunks"),
    "formulas": ("mlsysim.core.formulas", ""),
    "Applications": ("mlsysim.sim.registry", "Applications"),
    "Personas": ("mlsysim.sim.registry", "Personas"),
    "sim": ("mlsysim.sim", ""),
}


__getattr__ = lazy_getattr("mlsysim", _LAZY, globals())


def registries() -> dict[str, Any]:
    """Every registry this package exports, by name (``Hardware``, ``Models`` …): the exports
    of the layers' ``registry`` modules, importing only those (not the solvers)."""
    from mlsysim.core.registry import Registry

    found = {
        name: __getattr__(name) if name not in globals() else globals()[name]
        for name, (module, _) in _LAZY.items()
        if module.endswith(".registry") or module in _OTHER_REGISTRY_MODULES
    }
    return {name: value for name, value in found.items() if isinstance(value, Registry)}


def registry_names() -> dict[str, tuple[str, str]]:
    """The names :func:`registries` gives, each with its ``(module, attribute)``, importing
    nothing: a registry is a capitalised export of a layer's ``registry`` module (or of one
    of ``_OTHER_REGISTRY_MODULES``); ``tests/test_snapshot.py`` checks the two agree."""
    return {
        name: where
        for name, where in _LAZY.items()
        if name[:1].isupper()
        and (where[0].endswith(".registry") or where[0] in _OTHER_REGISTRY_MODULES)
    }


#: layer modules that register a kind of their own outside the layer's ``registry`` module
#: (tests/test_snapshot.py checks that every exported registry is listed by ``registries``)
_OTHER_REGISTRY_MODULES = frozenset({"mlsysim.hardware.partitions", "mlsysim.systems.offload"})


def _register_layers() -> None:
    """Import every layer's registry module, so each registers its kinds and data directory
    before the catalog first loads (the package sits above the layers; core imports none)."""
    import mlsysim.hardware.engines
    import mlsysim.hardware.partitions
    import mlsysim.hardware.registry
    import mlsysim.infra.registry
    import mlsysim.sim.registry
    import mlsysim.systems.registry
    import mlsysim.workload.registry  # noqa: F401


on_first_load(_register_layers)

#: the layers with package data: declared now so that a data fingerprint (a cache key) needs
#: no layer import (tests/test_user_data.py checks this list against the registered one)
_LAYERS_WITH_DATA = ("hardware", "infra", "sim", "systems", "workload")
for _layer in _LAYERS_WITH_DATA:
    declare_data_dir(__path__[0] + "/" + _layer + "/data")

__dir__ = lazy_dir(_LAZY, globals())
