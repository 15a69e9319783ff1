"""``BaseSimulation``: the extension point of the simulation layer (a new lab is one subclass).

A simulation pairs an application with a persona and turns choices into a
:class:`~mlsysim.sim.ledger.Ledger`::

    class BatteryLab(BaseSimulation):
        '''How long a battery device lasts, and what limits it.'''

        name = "BatteryLab"
        domains = ("sustainability",)            # the ledger sections it fills
        extra_choices: ClassVar = {"battery": "battery energy per device, e.g. 10 Wh"}

        def extend(self, ctx):                   # optional: add figures of its own
            ...ctx.evaluation.put("sustainability", "battery_life", figure(...))

Defining the subclass registers it by ``name`` (:data:`SIMULATIONS`), so the napkin
language (``Simulation("BatteryLab", Doorbell, TinyPioneer)``) and the command line
(``mlsysim sim Doorbell TinyPioneer --simulation BatteryLab --load lab.py``) find it. The data
(the application and persona entries) come from the registries; the physics from the solvers
and formulas: a lab adds neither equations nor numbers of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.sim.choices import Choices, resolve_choices
from mlsysim.sim.figures import Evaluation, assumed_sources, figure, unknown
from mlsysim.sim.ledger import DOMAINS, ConstraintsSection, Ledger, make_section
from mlsysim.sim.registry import Applications, Personas
from mlsysim.solvers.run.ledger import Figure

__all__ = [
    "SIMULATIONS",
    "BaseSimulation",
    "NotApplicableError",
    "SimulationContext",
    "applicability",
]

#: Every simulation class by name (subclasses register themselves when defined).
SIMULATIONS: dict[str, type[BaseSimulation]] = {}

# the standard figures of each section: present in every ledger (known or unknown)
_STANDARD: dict[str, tuple[str, ...]] = {
    "performance": ("latency", "throughput", "slo_met"),
    "sustainability": (
        "average_power",
        "energy",
        "carbon",
        "embodied_carbon",
        "total_carbon",
        "water",
    ),
    "economics": ("capex", "opex", "tco", "cost_per_inference"),
    "reliability": ("mtbf", "availability", "failures_per_year"),
}


class NotApplicableError(MlsysimError, ValueError):
    """A persona does not run an application (the message says why)."""


def applicability(application: Any, persona: Any) -> str | None:
    """Why ``persona`` does not run ``application``, or None when it does."""
    app, who = _application(application), _persona(persona)
    if who.id in app.fleets:
        return None
    if who.id in app.not_applicable:
        return app.not_applicable[who.id]
    runs = ", ".join(app.fleets) or "no persona"
    return f"{app.id} states a fleet for {runs} only, none for {who.id}"


def _application(value: Any) -> Any:
    return Applications[value] if isinstance(value, str) else value


def _persona(value: Any) -> Any:
    return Personas[value] if isinstance(value, str) else value


@dataclass
class SimulationContext:
    """What a lab's :meth:`~mlsysim.sim.BaseSimulation.extend` sees: data, choices and the
    figures so far."""

    application: Any
    persona: Any
    choices: Choices
    evaluation: Evaluation
    extra: dict[str, Any] = field(default_factory=dict)  # the lab's own choices


@dataclass(frozen=True, eq=False)
class BaseSimulation:
    """An application run by a persona, evaluated into a ledger (subclass to add a lab)."""

    application: Any
    persona: Any

    #: the name the napkin language and the CLI use for this simulation
    name: ClassVar[str] = "BaseSimulation"
    #: the ledger sections this simulation fills, among :data:`~mlsysim.sim.ledger.DOMAINS`
    domains: ClassVar[tuple[str, ...]] = DOMAINS
    #: choices this simulation accepts beyond :data:`~mlsysim.sim.choices.CHOICES`
    extra_choices: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__
        bad = [d for d in cls.domains if d not in DOMAINS]
        if bad:
            raise ConfigError(
                f"{cls.__name__}.domains has unknown domain(s) {', '.join(bad)}",
                fix="domains are " + ", ".join(DOMAINS),
            )
        SIMULATIONS[cls.name] = cls

    def __post_init__(self) -> None:
        app, who = _application(self.application), _persona(self.persona)
        object.__setattr__(self, "application", app)
        object.__setattr__(self, "persona", who)
        why = applicability(app, who)
        if why is not None:
            raise NotApplicableError(
                f"{app.id} does not apply to {who.id}",
                where=f"{self.name}({app.id}, {who.id})",
                why=why,
                fix=f"{app.id} runs for: {', '.join(app.fleets) or 'no persona'}",
            )

    # -- the extension hook ---------------------------------------------------------------
    def extend(self, ctx: SimulationContext) -> None:
        """Add a lab's own figures to ``ctx.evaluation`` (the default adds none)."""

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, choices: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Ledger:
        """The ledger for ``choices`` (a dict, or keywords): region, duration_days, hardware,
        precision, batch, fleet_size, datacenter, part, and this simulation's extra choices."""
        if choices is not None and not isinstance(choices, Mapping):
            raise ConfigError(
                f"evaluate() takes a dict of choices or keywords, got {type(choices).__name__}",
                where=f"{self.name}.evaluate",
                fix='e.g. evaluate({"region": "Quebec"}) or evaluate(region="Quebec")',
            )
        given = dict(choices or {})
        both = set(given) & set(kwargs)
        if both:
            raise ConfigError(
                f"choice {sorted(both)[0]!r} is given twice (in the dict and as a keyword)",
                where=f"{self.name}.evaluate",
                fix="give each choice once",
            )
        given.update(kwargs)
        extra = {k: given.pop(k) for k in list(given) if k in self.extra_choices}
        app, who = self.application, self.persona
        c = resolve_choices(given, who.region, tuple(self.extra_choices))
        ev = self._evaluate(c)
        self.extend(SimulationContext(app, who, c, ev, extra))
        return self._ledger(c, ev)

    def _evaluate(self, c: Choices) -> Evaluation:
        from mlsysim.infra.registry import Grids

        app, who = self.application, self.persona
        ev = Evaluation()
        units = c.fleet_size if c.fleet_size is not None else app.fleets[who.id]
        _check_applies(app, c)
        if app.deployment is not None:
            from mlsysim.hardware.registry import Hardware
            from mlsysim.sim.devices import DeviceRun, evaluate_devices
            from mlsysim.workload.registry import Models

            dep = app.deployment
            hw = Hardware[c.hardware or dep.hardware]
            run = DeviceRun(
                app=app,
                persona=who,
                hw=hw,
                model=Models[app.workload.model],
                units=units,
                devices=units * dep.devices_per_unit,
                duration_days=c.duration_days,
                grid=Grids[c.region],
                precision=c.precision or app.workload.precision,
                batch=c.batch or app.workload.batch,
                on_default_hardware=hw.id == dep.hardware,
            )
            evaluate_devices(run, ev)
        else:
            from mlsysim.sim.cloud import CloudRun, evaluate_cloud

            evaluate_cloud(
                CloudRun(
                    app=app,
                    persona=who,
                    units=units,
                    duration_days=c.duration_days,
                    region=c.region,
                    datacenter=c.datacenter or who.datacenter,
                    part=c.part,
                    hardware=c.hardware,
                ),
                ev,
            )
        return ev

    def _ledger(self, c: Choices, ev: Evaluation) -> Ledger:
        sections = {}
        for domain in self.domains:
            figs = dict(ev.figures[domain])
            for key in _STANDARD[domain]:
                if key not in figs:
                    figs[key] = unknown(domain, key, key.replace("_", " "), "not evaluated")
            sections[domain] = make_section(domain, figs)
        constraints = _constraints(self.persona, ev)
        assumptions = list(ev.assumptions)
        used: list[str] = list(self.application.assumptions)
        for section in [*sections.values(), constraints]:
            for fig in section.figures.values():
                used += [s for s in assumed_sources(fig.sources) if s not in used]
        assumptions += [_citation_title(s) for s in used]
        return Ledger(
            simulation=self.name,
            application=self.application.id,
            persona=self.persona.id,
            choices=c.to_dict(),
            fleet=dict(ev.fleet),
            sections=sections,
            constraints=constraints,
            assumptions=tuple(assumptions),
            warnings=tuple(ev.warnings),
        )


def _check_applies(app: Any, c: Choices) -> None:
    """Refuse a choice the application's kind ignores (never drop it silently)."""
    if app.deployment is not None:
        ignored = {"part": c.part != "both", "datacenter": c.datacenter is not None}
        kind = "a device fleet (it has a deployment table)"
    else:
        ignored = {
            "precision": c.precision is not None,
            "batch": c.batch is not None,
            "fleet_size": c.fleet_size is not None,
        }
        kind = "a cloud application (training and serving tables)"
    bad = [k for k, given in ignored.items() if given]
    if bad:
        raise ConfigError(
            f"choice {bad[0]!r} does not apply to {app.id}",
            where="evaluate",
            why=f"{app.id} is {kind}",
            fix=f"drop {bad[0]}=; device fleets take precision, batch and fleet_size, cloud "
            "applications take part and datacenter",
        )


def _citation_title(sid: str) -> str:
    from mlsysim.core.registry import catalog

    cite = catalog().sources.get(sid)
    return f"{cite.title} [{sid}]" if cite is not None else sid


# constraint -> (persona field, the design meets it when f(value, limit))
_LIMITS: tuple[tuple[str, str, Callable[[float, float], bool]], ...] = (
    ("power", "power_budget", lambda v, lim: v <= lim),
    ("latency", "latency_slo", lambda v, lim: v <= lim),
    ("cost", "cost_ceiling", lambda v, lim: v <= lim),
    ("battery_life", "battery_life", lambda v, lim: v >= lim),
)


def _constraints(persona: Any, ev: Evaluation) -> ConstraintsSection:
    figs: dict[str, Figure] = {}
    limits: dict[str, tuple[Figure, bool | None]] = {}
    cons = persona.constraints
    for key, attr, ok in _LIMITS:
        limit = getattr(cons, attr)
        if limit is None:
            continue
        lim = figure(
            "constraints",
            key,
            f"{persona.id} {attr.replace('_', ' ')}",
            limit,
            persona.id,
            (persona.source_of(f"constraints.{attr}"),),
        )
        value = ev.per_unit.get(key)
        if value is None or value.value is None:
            figs[key] = unknown(
                "constraints", key, key.replace("_", " "), "the design's value is unknown"
            )
            limits[key] = (lim, None)
            continue
        figs[key] = value
        limits[key] = (lim, bool(ok(value.value, lim.value or 0.0)))
    return ConstraintsSection(figs, limits)
