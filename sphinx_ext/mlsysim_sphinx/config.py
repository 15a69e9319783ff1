"""The ``mlsysim_*`` config values: declared, validated at ``config-inited``, mapped to Options.

Sphinx only warns when a config value has the wrong type; a napkin-math book must not build
with a silently ignored tolerance, so every value is checked here and a wrong one stops the
build with a :class:`sphinx.errors.ConfigError` that says what, why and how to fix it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sphinx
from sphinx.errors import ConfigError

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

    from mlsysim.book import Options

__all__ = [
    "FAIL_MODES",
    "add_config_values",
    "config_mapping",
    "data_dirs",
    "options_for",
    "preload_registries",
    "validate_config",
]

#: accepted values of ``mlsysim_fail_mode``
FAIL_MODES = ("error", "warn")

# name -> (default, accepted types, documentation); all rebuild the environment when changed
# ("env"). The types are declared so that Sphinx does not warn (under -W: fail) about a
# documented value such as mlsysim_tolerance = "5%"; validate_config checks the values.
_VALUES: dict[str, tuple[Any, tuple[type, ...], str]] = {
    "mlsysim_sig_figs": (3, (int,), "default significant figures of rendered values (1-15)"),
    "mlsysim_tolerance": (
        0.05,
        (float, int, str),
        'default relative tolerance of claims (0.05 or "5%")',
    ),
    "mlsysim_siunitx": (
        False,
        (bool,),
        "render LaTeX quantities with siunitx \\qty (LaTeX builders)",
    ),
    "mlsysim_fail_mode": (
        "error",
        (str,),
        '"error": failures fail the build; "warn": only warn',
    ),
    "mlsysim_data_dirs": (
        [],
        (list, tuple, str),
        "extra registry data directories, relative to conf.py",
    ),
    "mlsysim_plot_style": (
        {},
        (dict,),
        "matplotlib rc parameters laid over the napkin-plot base style",
    ),
}
#: Sphinx 7.4 added add_config_value(description=...); older releases reject the keyword
_HAS_DESCRIPTION = sphinx.version_info >= (7, 4)

_MAX_SIG_FIGS = 15


def add_config_values(app: Sphinx) -> None:
    """Declare every ``mlsysim_*`` value (each change re-reads all documents)."""
    for name, (default, types, doc) in _VALUES.items():
        if _HAS_DESCRIPTION:
            app.add_config_value(name, default, "env", types=types, description=doc)
        else:
            app.add_config_value(name, default, "env", types=types)


def _fail(name: str, value: object, why: str, fix: str) -> ConfigError:
    return ConfigError(f"conf.py: {name} = {value!r} is invalid: {why}. How to fix: {fix}.")


def _check_sig_figs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(
            "mlsysim_sig_figs", value, "it must be an integer", "write e.g. mlsysim_sig_figs = 3"
        )
    if not 1 <= value <= _MAX_SIG_FIGS:
        raise _fail(
            "mlsysim_sig_figs",
            value,
            f"it must lie in 1..{_MAX_SIG_FIGS}",
            "use 2-4 significant figures for napkin math",
        )
    return value


def _check_tolerance(value: object) -> float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(
            "mlsysim_tolerance",
            value,
            "it must be a number or a percentage string",
            'write e.g. mlsysim_tolerance = 0.05 or "5%"',
        )
    if isinstance(value, int | float) and not 0 <= value < 1:
        raise _fail(
            "mlsysim_tolerance",
            value,
            "a relative tolerance lies in [0, 1)",
            'write 0.05 for 5 % (or the string "5%")',
        )
    return value


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(
            name,
            value,
            f"it must be one of {', '.join(map(repr, choices))}",
            f"set {name} = {choices[0]!r}",
        )
    return str(value)


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, value, "it must be True or False", f"write {name} = True")
    return value


def data_dirs(config: Config, confdir: Path) -> list[Path]:
    """``mlsysim_data_dirs`` as absolute paths (relative ones start at conf.py's folder)."""
    raw = config.mlsysim_data_dirs
    if isinstance(raw, str | Path):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        raise _fail(
            "mlsysim_data_dirs",
            raw,
            "it must be a list of directory paths",
            'write e.g. mlsysim_data_dirs = ["data"]',
        )
    out: list[Path] = []
    for entry in raw:
        path = (confdir / Path(entry)).resolve()
        if not path.is_dir():
            raise _fail(
                "mlsysim_data_dirs",
                entry,
                f"{str(path)!r} is not a directory",
                "create it or fix the path (relative paths start at conf.py's folder)",
            )
        out.append(path)
    return out


def config_mapping(config: Config) -> dict[str, object]:
    """The project's ``mlsysim_*`` values as engine options (the project level of the
    option resolution every host shares)."""
    return {
        "sig-figs": config.mlsysim_sig_figs,
        "tolerance": config.mlsysim_tolerance,
        "siunitx": config.mlsysim_siunitx,
        "fail-mode": config.mlsysim_fail_mode,
        "plot-style": config.mlsysim_plot_style or None,
    }


def options_for(config: Config) -> Options:
    """The napkin engine's :class:`~mlsysim.book.Options` for this project's configuration."""
    from mlsysim.book import Options

    return Options.from_mapping(config_mapping(config))


def validate_config(app: Sphinx, config: Config) -> None:
    """``config-inited``: check every value, register data dirs, add the siunitx preamble."""
    from mlsysim.core.exceptions import MlsysimError

    _check_sig_figs(config.mlsysim_sig_figs)
    _check_tolerance(config.mlsysim_tolerance)
    _check_bool("mlsysim_siunitx", config.mlsysim_siunitx)
    _check_choice("mlsysim_fail_mode", config.mlsysim_fail_mode, FAIL_MODES)
    dirs = data_dirs(config, Path(app.confdir))
    import gc

    # the engine's start (imports, registries) allocates only long-lived objects: no
    # collection is worth running during it, over Sphinx's heap or the engine's own
    gc.freeze()
    gc.disable()
    try:
        options_for(config)
    except MlsysimError as err:
        raise ConfigError(f"conf.py: an mlsysim_* value is invalid: {err}") from None
    finally:
        gc.enable()
    if dirs:
        import mlsysim

        for path in dirs:
            mlsysim.add_data_dir(path)
    gc.disable()
    try:
        _load_registries()
    finally:
        gc.enable()
    _freeze_heap()
    if config.mlsysim_siunitx:
        _add_siunitx_preamble(config)


def _load_registries() -> None:
    """Load every data file now (once, before reading). A broken data file does not stop the
    build: every item that needs the data fails at its own line naming the file, entry and
    field, as ``mlsysim check`` reports it, and the items that need none still render.

    From a snapshot, each kind's entries (and its layer, pint, pydantic) load when a document
    first reads one (:func:`preload_registries` loads them all)."""
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.registry import catalog

    with contextlib.suppress(MlsysimError):
        catalog()


def preload_registries() -> None:
    """Every kind's entries, pint and the layers, loaded now: a parallel build (``-j N``)
    whose documents need the engine does so before its readers fork, which would each load
    them again (and hold their own copy); the heap is then frozen for the collector."""
    import gc

    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.registry import catalog

    gc.disable()
    try:
        with contextlib.suppress(MlsysimError):
            cat = catalog()
            import mlsysim.core.units  # noqa: F401  (pint: every reader uses it)

            for entries in cat.entries.values():
                for _ in entries.values():
                    break  # the first value unpickles the kind
    finally:
        gc.enable()
    _freeze_heap()


def _freeze_heap() -> None:
    """Move the objects alive now (Sphinx, the engine, its units and registries) out of GC scans.

    They live until the build ends anyway; without this, every full collection during reading
    walks the engine's large long-lived heap again (measured: about 0.1 s of a 20-chapter
    book, ~5 % of its build; ``benchmarks/bench_sphinx.py``). Forked ``-j N`` readers also
    keep sharing those pages instead of copying them when the collector touches them.
    """
    import gc

    gc.freeze()


def _add_siunitx_preamble(config: Config) -> None:
    from mlsysim.viz.format import SIUNITX_PREAMBLE

    elements = dict(config.latex_elements or {})
    preamble = str(elements.get("preamble", ""))
    if SIUNITX_PREAMBLE not in preamble:
        elements["preamble"] = preamble + "\n" + SIUNITX_PREAMBLE
    config.latex_elements = elements
