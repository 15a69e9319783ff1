"""Which walls dominate a training run or a fleet, in one sentence each with its numbers.

* fragility (wall 16): the share of wall time lost to failures (rework and restarts), the
  expected interruptions and the checkpoint interval to use;
* checkpoint: the share spent writing checkpoints;
* sustainability: how much of the carbon is operational, and how much a move to the cleanest
  grid in the registry would cut it — comparing grids on different accounting bases adds a
  warning to the sentence;
* capital: renting against owning, where both are known.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.units import si
from mlsysim.infra.registry import Grids

__all__ = ["cleanest_grid", "run_walls", "sustainability_sentence"]


def _pct(x: float) -> str:
    return f"{x * 100:.2g} %" if x < 0.1 else f"{x * 100:.3g} %"


def cleanest_grid(current: Any) -> tuple[Any, str]:
    """The lowest-intensity grid (preferring the current grid's basis) and a basis warning."""
    grids = list(Grids)
    same = [g for g in grids if g.carbon_basis == current.carbon_basis]
    best_same = min(same, key=lambda g: si(g.carbon_intensity, "carbon_intensity", "ci"))
    best_all = min(grids, key=lambda g: si(g.carbon_intensity, "carbon_intensity", "ci"))
    if best_all.carbon_basis != current.carbon_basis:
        warn = (
            f" (on the {current.carbon_basis} basis; {best_all.id}'s "
            f"{best_all.carbon_basis} figure is not comparable with {current.id}'s)"
        )
    else:
        warn = ""
    return best_same, warn


def sustainability_sentence(carbon: Any, grid_id: str) -> str:
    """'71 % of the carbon is operational; moving to Quebec cuts it 37×'."""
    grid = Grids[grid_id]
    op = carbon.figures["operational"]
    total = carbon.figures["total"]
    intensity = carbon.figures["intensity"].value or 0.0
    head = (
        f"{_pct((op.value or 0.0) / total.value)} of the carbon is operational"
        if total.value
        else f"operational carbon {op.value:.3g} {op.unit} (embodied unknown)"
    )
    best, warn = cleanest_grid(grid)
    best_i = si(best.carbon_intensity, "carbon_intensity", "ci") * 3.6e6
    if best.id == grid.id or best_i <= 0 or intensity <= best_i:
        return f"{head}; {grid.id} is already the cleanest {grid.carbon_basis}-basis grid{warn}"
    return f"{head}; moving to {best.id} cuts it {intensity / best_i:.3g}×{warn}"


def run_walls(r: Any) -> list[tuple[str, str]]:
    """(wall id, sentence) for a run result, the most binding wall first."""
    rel = r.reliability
    figs = rel.figures
    walls: list[tuple[float, str, str]] = []
    if r.loss_v is None:
        walls.append(
            (
                1.0,
                "fragility",
                "failures leave no useful work: the job's MTBF "
                f"({figs['mtbf'].value:.3g} h) is shorter than a checkpoint cycle plus "
                "restart",
            )
        )
    else:
        iv = rel.checkpoint_interval.figures["used"]
        n = figs["interruptions"].value
        walls.append(
            (
                r.loss_v,
                "fragility",
                f"{_pct(r.loss_v)} of wall time is lost to failures"
                + (f" ({n:.3g} interruptions, MTBF {figs['mtbf'].value:.3g} h)" if n else "")
                + f"; checkpoint every {iv.value:.3g} min ({iv.derivation})",
            )
        )
        ck = figs["lost_to_checkpoints"].value or 0.0
        walls.append(
            (
                ck,
                "checkpoint",
                f"{_pct(ck)} of wall time writes checkpoints "
                f"({figs['checkpoint_size'].value:.4g} GB in "
                f"{figs['checkpoint_time'].value:.3g} s)",
            )
        )
    walls.sort(key=lambda w: -w[0])
    out = [(w, text) for _, w, text in walls]
    out.append(("sustainability", sustainability_sentence(r.carbon, r.region)))
    cloud, owned = r.cost.figures["cloud"], r.cost.figures["owned"]
    if cloud.value is not None and owned.value is not None:
        out.append(
            (
                "capital",
                f"renting costs {cloud.value:,.0f} USD, owning "
                f"{owned.value:,.0f} USD over the run ({cloud.value / owned.value:.2g}×)",
            )
        )
    return out
