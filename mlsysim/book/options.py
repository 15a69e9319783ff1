"""Options of the napkin engine: display defaults, claim tolerance, fail mode.

Hosts read them from project config (Sphinx ``mlsysim_*``, Quarto ``mlsysim:`` metadata, a
batch request's ``options``) through :meth:`Options.from_mapping`, which accepts ``sig-figs``
or ``sig_figs`` spellings and tolerances as ``0.05`` or ``"5%"``, and rejects anything else
with a :class:`~mlsysim.core.exceptions.ConfigError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError

__all__ = ["Options", "parse_fraction"]

_FAIL_MODES = ("error", "warn")


def parse_fraction(value: Any, *, name: str = "tolerance") -> float:
    """``0.05``, ``"0.05"`` or ``"5%"`` → 0.05; ConfigError otherwise (or when negative)."""
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
    if not out >= 0:
        raise ConfigError(f"{name} must not be negative, got {value!r}")
    return out


@dataclass(frozen=True, slots=True)
class Options:
    """Engine options. ``tolerance`` is the default relative claim tolerance (0.05 = 5 %);
    ``abs_tolerance`` an optional absolute one (a quantity text such as ``"0.1 ms"``), used for
    values near zero. ``fail_mode`` is for hosts: ``error`` fails the build, ``warn`` only
    reports."""

    sig_figs: int = 3
    tolerance: float = 0.05
    abs_tolerance: str | None = None
    siunitx: bool = False
    fail_mode: str = "error"
    thousands: bool = True

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

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Options:
        """Options from a config mapping (keys with ``-`` or ``_``, optional ``mlsysim_``)."""
        if not data:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = str(raw_key).replace("-", "_")
            key = key.removeprefix("mlsysim_")
            if key not in known:
                from mlsysim.core.exceptions import UnknownNameError

                raise UnknownNameError("option", str(raw_key), sorted(known))
            if value is None:
                continue
            if key == "sig_figs":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise ConfigError(f"sig_figs must be an integer, got {value!r}") from None
            elif key == "tolerance":
                value = parse_fraction(value)
            elif key in ("siunitx", "thousands"):
                value = _boolean(value, key)
            elif key in ("abs_tolerance", "fail_mode"):
                value = str(value)
            kwargs[key] = value
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)


def _boolean(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, got {value!r}")
