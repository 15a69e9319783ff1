"""A lab added in its own file: how long a battery device lasts on a battery of one's choice.

It is one subclass of BaseSimulation plus the data the registries already hold: the test
suite checks that it works through ``evaluate``, the napkin language and ``mlsysim sim``.
"""

from __future__ import annotations

from typing import ClassVar

from mlsysim.core.exceptions import ConfigError
from mlsysim.core.units import Q_, check_dimension
from mlsysim.sim import BaseSimulation
from mlsysim.sim.base import SimulationContext
from mlsysim.sim.figures import figure, unknown


class BatteryLab(BaseSimulation):
    """Battery life of one device on the ``battery`` chosen (default: the application's)."""

    name = "BatteryLab"
    domains = ("sustainability",)
    extra_choices: ClassVar[dict[str, str]] = {"battery": "battery energy per device, e.g. 10 Wh"}

    def extend(self, ctx: SimulationContext) -> None:
        battery = ctx.extra.get("battery", ctx.application.deployment.battery)
        if battery is None:
            raise ConfigError("BatteryLab needs battery=", fix="e.g. battery=10 Wh")
        battery = check_dimension(Q_(battery) if isinstance(battery, str) else battery, "energy")
        power = ctx.evaluation.get("sustainability", "average_power")
        key = "battery_life"
        if power.value is None:
            fig = unknown("sustainability", key, "battery life", power.missing)
        else:
            fig = figure(
                "sustainability",
                key,
                "battery life (lab)",
                battery / Q_(power.value, "W"),
                f"battery / P̄ = {battery:~P} / {power.value:.4g} W",
                power.sources,
            )
        ctx.evaluation.put("sustainability", key, fig)
