"""Options of the napkin engine, and the one way every host resolves them.

Precedence, lowest first, the same in Sphinx, the Quarto filter and ``mlsysim check``:

1. built-in defaults;
2. project config: Sphinx ``conf.py`` ``mlsysim_*`` values, Quarto ``_quarto.yml``
   ``mlsysim:`` (and what the host passes as its project options);
3. the chapter's front matter ``mlsysim:`` key;
4. item options (``| sig=2``, ``tol=``) — applied by the item itself;
5. command-line flags and environment overrides (``--tolerance``, ``MLSYSIM_FAIL_MODE``).

:func:`resolve` merges the mappings of levels 2, 3 and 5 key by key (``sig-figs`` and
``sig_figs`` are one key) and validates the result with :meth:`Options.from_mapping`, which
accepts tolerances as ``0.05`` or ``"5%"`` and rejects anything else with a ConfigError.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlsysim.core.exceptions import ConfigError

__all__ = ["Options", "canonical_key", "parse_fraction", "resolve"]

_FAIL_MODES = ("error", "warn")


def parse_fraction(value: Any, *, name: str = "tolerance") -> float:
    """``0.05``, ``"0.05"`` or ``"5%"`` → 0.05; ConfigError unless finite and in [0, 1)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number or a percentage, got {value!r}")
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            out = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ConfigError(
                f"{name} must be a number or a percentage, got {value!r}",
                fix="write e.g. 0.05 or '5%'",
            ) from None
    else:
        raise ConfigError(f"{name} must be a number or a percentage, got {value!r}")
    if not math.isfinite(out) or not 0 <= out < 1:
        raise ConfigError(
            f"{name} must be a relative tolerance from 0 up to (not including) 100 %, "
            f"got {value!r}",
            fix="write e.g. 0.05 or '5%'",
        )
    return out


def canonical_key(key: Any) -> str:
    """``sig-figs``, ``sig_figs`` and ``mlsysim_sig_figs`` are all ``sig_figs``."""
    return str(key).replace("-", "_").removeprefix("mlsysim_")


@lru_cache(maxsize=128)
def _quantities(texts: tuple[str, ...]) -> tuple[Any, ...]:
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.units import quantity_from_text

    out = []
    for text in texts:
        try:
            q = quantity_from_text(text, name="abs_tolerance")
        except MlsysimError as exc:
            raise ConfigError(exc.what, why=exc.why, fix=exc.fix) from None
        if q.dimensionless or q.magnitude < 0:
            raise ConfigError(
                f"abs_tolerance {text!r} must be a non-negative quantity with a unit",
                fix="write e.g. abs-tolerance: 0.1 ms (or a list: [0.1 ms, 1 MB])",
            )
        out.append(q)
    return tuple(out)


def _text_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ConfigError(
        f"abs_tolerance must be a quantity or a list of quantities, got {value!r}",
        fix="write e.g. abs-tolerance: 0.1 ms",
    )


@dataclass(frozen=True, slots=True)
class Options:
    """Engine options. ``tolerance`` is the default relative claim tolerance (0.05 = 5 %);
    ``abs_tolerance`` optional absolute ones (quantity texts such as ``"0.1 ms"``), each used
    only for claims of its own dimension (values near zero). ``fail_mode`` is for hosts:
    ``error`` fails the build, ``warn`` only reports. ``plot_style`` themes the book's charts
    (matplotlib rc parameters laid over the engine's base style, checked here)."""

    sig_figs: int = 3
    tolerance: float = 0.05
    abs_tolerance: tuple[str, ...] = ()
    siunitx: bool = False
    fail_mode: str = "error"
    thousands: bool = True
    #: matplotlib rc parameters every napkin-plot of the chapter is drawn with (``plot-style``
    #: in any option layer: conf.py's ``mlsysim_plot_style``, ``_quarto.yml``, front matter)
    plot_style: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if (
            isinstance(self.sig_figs, bool)
            or not isinstance(self.sig_figs, int)
            or not 1 <= self.sig_figs <= 15
        ):
            raise ConfigError(f"sig_figs must be an integer from 1 to 15, got {self.sig_figs!r}")
        if self.fail_mode not in _FAIL_MODES:
            raise ConfigError(
                f"fail_mode must be one of {', '.join(_FAIL_MODES)}, got {self.fail_mode!r}"
            )
        parse_fraction(self.tolerance)
        if isinstance(self.abs_tolerance, str):
            object.__setattr__(self, "abs_tolerance", _text_list(self.abs_tolerance))
        self.absolute_tolerances()  # validates them now, not at the first claim

    def absolute_tolerances(self) -> tuple[Any, ...]:
        """The absolute tolerances as quantities (checked, cached)."""
        return _quantities(tuple(self.abs_tolerance)) if self.abs_tolerance else ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Options:
        """Options from a config mapping (keys with ``-`` or ``_``, optional ``mlsysim_``)."""
        if not data:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = canonical_key(raw_key)
            if key not in known:
                from mlsysim.core.exceptions import UnknownNameError

                raise UnknownNameError("option", str(raw_key), sorted(known))
            if value is None:
                continue
            if key == "sig_figs":
                if isinstance(value, bool) or not isinstance(value, int | str):
                    raise ConfigError(f"sig_figs must be an integer, got {value!r}")
                try:
                    value = int(value)
                except ValueError:
                    raise ConfigError(f"sig_figs must be an integer, got {value!r}") from None
            elif key == "tolerance":
                value = parse_fraction(value)
            elif key in ("siunitx", "thousands"):
                value = _boolean(value, key)
            elif key == "abs_tolerance":
                value = _text_list(value)
            elif key == "fail_mode":
                value = str(value)
            elif key == "plot_style":
                value = _style(value)
            kwargs[key] = value
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)


def resolve(layers: Iterable[Mapping[str, Any] | None]) -> Options:
    """Options from mappings in precedence order (lowest first): later keys win."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is not None:
                merged[canonical_key(key)] = value
    return Options.from_mapping(merged)


def _style(value: Any) -> tuple[tuple[str, Any], ...]:
    """A ``plot-style`` mapping as sorted (rc key, value) pairs, checked by the plot renderer
    (a key matplotlib does not know is a ConfigError with did-you-mean)."""
    from mlsysim.viz.plot.render import check_style

    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)
    check_style(value)
    return tuple(sorted((str(k), v) for k, v in value.items()))


def _boolean(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, got {value!r}")
