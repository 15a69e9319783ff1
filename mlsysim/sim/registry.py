"""The simulation layer's data: applications (scenarios) and personas, as sourced registries.

Entries live in ``sim/data/*.toml`` with schemas ``mlsysim.application/1`` and
``mlsysim.persona/1`` (grammar: ``docs/registry-grammar.md``). An application names its
workload (model, phase, targets for rate, latency and accuracy), the hardware it is deployed
on with the power states of that deployment, and the fleet each persona runs; a frontier
model also states a training run and a serving demand. A persona is a reader's role: a scale
(how many units it operates) and the constraints it is judged by.

Figures that are assumptions, not facts, cite a source whose id starts with ``assumed_``
(:data:`ASSUMED_PREFIX`); the simulations list every assumption a ledger rests on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:  # mypy sees Any (pint Quantities are untyped); pydantic checks dimensions
    _Time = Any
    _Power = Any
    _Energy = Any
    _Currency = Any
    _Carbon = Any
    _Rate = Any
    _Computation = Any
    _Params = Any
    _Tokens = Any
    _Information = Any
else:
    _Time = Q["time"]
    _Power = Q["power"]
    _Energy = Q["energy"]
    _Currency = Q["currency"]
    _Carbon = Q["carbon"]
    _Rate = Q["frequency"]
    _Computation = Q["computation"]
    _Params = Q["parameter"]
    _Tokens = Q["token"]
    _Information = Q["information"]

__all__ = [
    "ASSUMED_PREFIX",
    "ApplicationSpec",
    "Applications",
    "Deployment",
    "PersonaConstraints",
    "PersonaSpec",
    "Personas",
    "Serving",
    "Training",
    "Workload",
]

#: Citation ids of assumptions start with this prefix (``assumed_doorbell_events``).
ASSUMED_PREFIX = "assumed_"

_FROZEN = ConfigDict(defer_build=True, frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Workload(BaseModel):
    """What the application computes, and the targets it must meet."""

    model_config = _FROZEN

    model: str  # a model id
    phase: Literal["inference", "prefill", "decode", "training"]
    precision: str | None = None
    batch: int = Field(default=1, ge=1)  # samples per inference (cameras per frame)
    seq_len: int | None = Field(default=None, ge=1)
    events_per_day: float | None = Field(default=None, gt=0)  # wake-ups of a duty cycle
    inferences_per_event: float | None = Field(default=None, gt=0)
    rate: _Rate | None = None  # inferences per second while the device is on
    latency_target: _Time | None = None
    accuracy_metric: str | None = None  # e.g. "top-1", "mAP", "AUC"
    accuracy_target: float | None = None  # in the metric's own scale (0.80, 67.66)

    @model_validator(mode="after")
    def _one_rate(self) -> Workload:
        by_event = self.events_per_day is not None or self.inferences_per_event is not None
        if by_event and (self.events_per_day is None or self.inferences_per_event is None):
            raise ValueError("give both events_per_day and inferences_per_event")
        if by_event and self.rate is not None:
            raise ValueError("give either rate or events_per_day/inferences_per_event, not both")
        return self


class Deployment(BaseModel):
    """The hardware a device fleet runs on and the power states of that deployment."""

    model_config = _FROZEN

    hardware: str  # a hardware id
    supply: Literal["battery", "mains", "vehicle"]
    devices_per_unit: int = Field(default=1, ge=1)  # devices per unit of the persona's scale
    active_power: _Power | None = None  # measured while inferring (else the solver's model)
    idle_power: _Power | None = None  # between inferences, device on (else the device idle model)
    off_power: _Power | None = None  # while the unit is off (needs hours_per_day)
    hours_per_day: float | None = Field(default=None, gt=0, le=24)  # time the unit is on
    measured_latency: _Time | None = None  # a published measurement on this deployment
    measured_energy: _Energy | None = None  # per inference, measured
    battery: _Energy | None = None
    unit_price: _Currency | None = None  # per device (else the hardware's list price)
    lifetime: _Time | None = None  # service life, for amortising price and embodied carbon
    embodied_carbon: _Carbon | None = None  # per device (else the hardware's figure)
    mtbf: _Time | None = None  # per device
    mttr: _Time | None = None  # time to repair or replace one device

    @model_validator(mode="after")
    def _off_needs_hours(self) -> Deployment:
        if (self.off_power is None) != (self.hours_per_day is None):
            raise ValueError("give hours_per_day and off_power together (power while off)")
        return self


class Training(BaseModel):
    """A training run stated by public estimates (``training_run``'s duration mode)."""

    model_config = _FROZEN

    hardware: str  # a device or node id
    devices: int = Field(ge=1)
    duration: _Time
    params: _Params  # total parameters (the checkpoint's size)
    tokens: _Tokens | None = None
    compute: _Computation | None = None  # training FLOP, as estimated
    tp: int = Field(default=1, ge=1)  # tensor-parallel degree (checkpoint shards)
    pp: int = Field(default=1, ge=1)  # pipeline-parallel degree
    region: str | None = None
    datacenter: str | None = None


class Serving(BaseModel):
    """A serving demand: requests per day, tokens per request and the latency objective."""

    model_config = _FROZEN

    hardware: str
    requests_per_day: float = Field(gt=0)
    prompt_tokens: int | None = Field(default=None, ge=1)
    output_tokens: int | None = Field(default=None, ge=1)
    slo: _Time  # time per output token (LLM) or per request
    weights: _Information | None = None  # model size when the registry has no such model


class ApplicationSpec(Spec):
    """A scenario of the book: a workload on its hardware, and who runs how much of it."""

    drifting = ("deployment.unit_price",)

    summary: str
    workload: Workload
    deployment: Deployment | None = None
    training: Training | None = None
    serving: Serving | None = None
    #: citation ids of assumptions the whole evaluation rests on (``assumed_*`` sources)
    assumptions: tuple[str, ...] = ()
    fleets: dict[str, int] = Field(default_factory=dict)  # persona id -> units of its scale
    not_applicable: dict[str, str] = Field(default_factory=dict)  # persona id -> why not

    @model_validator(mode="after")
    def _something_to_evaluate(self) -> ApplicationSpec:
        if self.deployment is None and self.training is None and self.serving is None:
            raise ValueError("give a [ID.deployment], [ID.training] or [ID.serving] table")
        odd = [a for a in self.assumptions if not a.startswith(ASSUMED_PREFIX)]
        if odd:
            raise ValueError(f"assumptions must cite {ASSUMED_PREFIX}* sources, got {odd}")
        both = set(self.fleets) & set(self.not_applicable)
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: both in fleets and not_applicable")
        return self


class PersonaConstraints(BaseModel):
    """What a persona's designs are judged by, per unit of its scale."""

    model_config = _FROZEN

    power_budget: _Power | None = None  # average, per unit of scale
    battery: _Energy | None = None  # per device
    battery_life: _Time | None = None  # the shortest acceptable time between charges
    latency_slo: _Time | None = None
    cost_ceiling: _Currency | None = None  # per unit of scale per year


class PersonaSpec(Spec):
    """A reader's role: who they are, how much they run, and what binds them."""

    role: str
    scale: int = Field(ge=1)  # units of scale the persona operates
    scale_unit: str  # cluster, vehicle, user, device
    tier: Literal["cloud", "edge", "mobile", "tiny"]
    primary_constraint: str
    region: str  # default grid id
    datacenter: str | None = None  # default datacenter id (cloud personas)
    # a factory, not an instance: building one at import would build its validator (and
    # load pydantic's plugins, ~25 ms) in every process that imports the registries
    constraints: PersonaConstraints = Field(default_factory=PersonaConstraints)


Applications: Registry[ApplicationSpec] = register_kind(
    "application", ApplicationSpec, "application", Path(__file__).parent / "data"
)
Personas: Registry[PersonaSpec] = register_kind(
    "persona", PersonaSpec, "persona", Path(__file__).parent / "data"
)
