"""The choices a simulation evaluates: what an author may vary, validated before anything runs.

``evaluate({"region": "Quebec", "duration_days": 365})`` and
``evaluate(region="Quebec", duration_days=365)`` are the same call. Every key is checked: an
unknown key is an error that suggests the closest known one (``duraton_days`` → did you mean
``duration_days``?), a value of the wrong kind says what was expected, and registry ids
(regions, hardware, datacenters) are resolved with the registry's own did-you-mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError, suggest

__all__ = ["CHOICES", "PARTS", "Choices", "resolve_choices"]

#: Every choice a simulation accepts, with what it means (shown in errors and ``--help``).
CHOICES: dict[str, str] = {
    "region": "grid region id (default: the persona's region), e.g. 'Quebec'",
    "duration_days": "days of operation evaluated (default 365)",
    "hardware": "hardware id to deploy on (default: the application's)",
    "precision": "number format of the weights (default: the application's)",
    "batch": "samples per inference (default: the application's)",
    "fleet_size": "units of the persona's scale (default: the application's fleet)",
    "datacenter": "datacenter id for cloud parts (default: the persona's)",
    "part": "which parts of a cloud application: 'training', 'serving' or 'both' (default)",
}

#: Values of the ``part`` choice.
PARTS = ("both", "training", "serving")


@dataclass(frozen=True)
class Choices:
    """Validated choices; None means "the application's or persona's default"."""

    region: str
    duration_days: float
    hardware: str | None = None
    precision: str | None = None
    batch: int | None = None
    fleet_size: int | None = None
    datacenter: str | None = None
    part: str = "both"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"choice {name!r} must be a registry id (text), got {value!r}",
            where="evaluate",
            fix=f"{name}: {CHOICES[name]}",
        )
    return value


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        raise ConfigError(
            f"choice {name!r} must be a whole number ≥ 1, got {value!r}",
            where="evaluate",
            fix=f"{name}: {CHOICES[name]}",
        )
    if float(value) != int(value):
        raise ConfigError(
            f"choice {name!r} must be a whole number, got {value!r}",
            where="evaluate",
            fix=f"pass {name}={int(value)}",
        )
    return int(value)


def _days(value: Any) -> float:
    if hasattr(value, "units"):
        from mlsysim.core.units import si

        days = si(value, "time", "duration_days") / 86400.0
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"choice 'duration_days' must be a number of days, got {value!r}",
            where="evaluate",
            fix="e.g. duration_days=365",
        )
    else:
        days = float(value)
    if not math.isfinite(days) or days <= 0:
        raise ConfigError(
            f"choice 'duration_days' must be positive, got {value!r}",
            where="evaluate",
            fix="e.g. duration_days=365",
        )
    return days


def resolve_choices(
    given: Mapping[str, Any], default_region: str, extra: tuple[str, ...] = ()
) -> Choices:
    """Check every key and value of ``given`` (``extra``: a lab's own keys, already taken out,
    named in the error); fill the region default."""
    unknown = [k for k in given if k not in CHOICES]
    if unknown:
        key = unknown[0]
        known = [*CHOICES, *extra]
        close = suggest(str(key), known)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"unknown choice {key!r}{hint}",
            where="evaluate",
            why="this simulation accepts: " + ", ".join(known),
            fix=f"use {close[0]!r}" if close else "see the choices listed above",
        )
    out: dict[str, Any] = {}
    for key, value in given.items():
        if value is None:
            continue
        if key in ("region", "hardware", "precision", "datacenter"):
            out[key] = _text(key, value)
        elif key in ("batch", "fleet_size"):
            out[key] = _count(key, value)
        elif key == "duration_days":
            out[key] = _days(value)
        elif key == "part":
            if value not in PARTS:
                raise ConfigError(
                    f"choice 'part' must be one of {', '.join(PARTS)}, got {value!r}",
                    where="evaluate",
                    fix="e.g. part='training'",
                )
            out[key] = value
    if "region" in out:
        from mlsysim.infra.registry import Grids

        out["region"] = Grids[out["region"]].id  # did-you-mean for a misspelt region
    if "datacenter" in out:
        from mlsysim.infra.registry import Datacenters

        out["datacenter"] = Datacenters[out["datacenter"]].id
    if "hardware" in out:
        from mlsysim.hardware.registry import Hardware
        from mlsysim.systems.registry import Nodes

        hw = out["hardware"]
        out["hardware"] = Nodes[hw].id if hw not in Hardware and hw in Nodes else Hardware[hw].id
    out.setdefault("region", default_region)
    out.setdefault("duration_days", 365.0)
    return Choices(**out)
