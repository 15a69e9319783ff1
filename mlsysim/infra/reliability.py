"""Fleet reliability studies: published failure counts (or rates) per component, as data.

Entries live in ``infra/data/reliability.toml`` (schema ``mlsysim.failure_study/1``). A study
observed ``population`` units (devices or nodes, ``per``) for ``observed`` time and counted the
interruptions by root-cause component (``failures``), or states per-unit rates (``rates``).
The rate of one component is ``failures / (population · observed)`` per unit
(:func:`~mlsysim.core.formulas.failure_rate`); a job of n such units fails at Σ nλ.

Component names form one vocabulary (:data:`COMPONENTS`), so studies can be compared and a
book can ask for ``Llama3_405B_Pretraining.rate("hbm")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from mlsysim.core.exceptions import UnknownNameError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:
    _Time = Any
    _Frequency = Any
else:
    _Time = Q["time"]
    _Frequency = Q["frequency"]

__all__ = ["COMPONENTS", "FailureStudies", "FailureStudySpec"]

#: Root-cause components a study may count interruptions for (one vocabulary for all studies).
COMPONENTS: dict[str, str] = {
    "gpu": "accelerator (faulty GPU, NVLink)",
    "hbm": "accelerator HBM memory",
    "gpu_sram": "accelerator on-chip SRAM",
    "gpu_processor": "accelerator system processor",
    "gpu_thermal": "accelerator thermal interface and sensors",
    "sdc": "silent data corruption",
    "nic": "network interface card",
    "switch": "network switch",
    "cable": "network cable or optics",
    "switch_cable": "network switch or cable (counted together)",
    "psu": "power supply",
    "host": "host (other than the parts listed)",
    "host_maintenance": "unplanned host maintenance",
    "cpu": "host CPU",
    "host_memory": "host DRAM",
    "ssd": "host SSD",
    "chassis": "server chassis",
    "io_board": "I/O expansion board",
    "software": "software bug",
    "dependency": "dependency (external service)",
    "unknown": "undiagnosed (e.g. collective-communication watchdog timeouts)",
    "all": "all causes (the study gives no breakdown)",
}


class FailureStudySpec(Spec):
    """Interruptions of a fleet (or one long job) by component, with what was observed."""

    hardware: str | None = None  # hardware id of the accelerators observed
    per: Literal["device", "node"]
    population: int = Field(ge=1)  # units (devices or nodes) observed
    devices_per_node: int = Field(default=8, ge=1)
    observed: _Time | None = None  # needed with ``failures``
    failures: dict[str, int] = Field(default_factory=dict)
    rates: dict[str, _Frequency] = Field(default_factory=dict)  # per unit (device or node)
    planned: int | None = Field(default=None, ge=0)  # planned interruptions, not failures
    restart_time: _Time | None = None  # detection + restart + reload, per interruption
    effective_training_time: float | None = Field(default=None, gt=0, le=1)  # as reported

    @field_validator("failures", "rates")
    @classmethod
    def _known_components(cls, value: dict[str, Any]) -> dict[str, Any]:
        for c in value:
            if c not in COMPONENTS:
                raise ValueError(f"unknown component {c!r}; known: {', '.join(COMPONENTS)}")
        return value

    @model_validator(mode="after")
    def _counts_or_rates(self) -> FailureStudySpec:
        if not self.failures and not self.rates:
            raise ValueError("give failures (counts per component) or rates (per unit)")
        if self.failures and self.observed is None:
            raise ValueError("failures need observed (how long the population was watched)")
        both = set(self.failures) & set(self.rates)
        if both:
            raise ValueError(f"component(s) {', '.join(sorted(both))} given as count and rate")
        return self

    def components(self) -> tuple[str, ...]:
        """Components with a count or a rate, in :data:`COMPONENTS` order."""
        return tuple(c for c in COMPONENTS if c in self.failures or c in self.rates)

    def rate_s(self, component: str) -> float:
        """Failures per unit per second for ``component`` (float, root units)."""
        from mlsysim.core.units import si

        if component in self.rates:
            return si(self.rates[component], "frequency", "rate")
        if component in self.failures:
            T = si(self.observed, "time", "observed")
            return self.failures[component] / (self.population * T)
        raise UnknownNameError(
            f"component of {self.id}", component, self.components(), fix="see COMPONENTS"
        )

    def rate(self, component: str) -> Any:
        """Failures per unit-day for ``component`` (a Quantity)."""
        from mlsysim.core.units import from_si

        return from_si(self.rate_s(component), "1/s").to("1/d")

    def total_rate_s(self) -> float:
        """Failures per unit per second, all components together."""
        return sum(self.rate_s(c) for c in self.components())

    @property
    def total_rate(self) -> Any:
        """Failures per unit-day, all components together."""
        from mlsysim.core.units import from_si

        return from_si(self.total_rate_s(), "1/s").to("1/d")

    @property
    def unit_mtbf(self) -> Any:
        """MTBF of one unit (device or node) at the study's total rate."""
        from mlsysim.core.units import from_si

        return from_si(1.0 / self.total_rate_s(), "s").to("yr")


FailureStudies: Registry[FailureStudySpec] = register_kind(
    "failure_study", FailureStudySpec, "failure study", Path(__file__).parent / "data"
)
