"""What one rank holds whatever its micro-batch and sequence: the optimizer update on its
state shard, its resident state by ZeRO stage and the data-parallel collectives of a step
(:mod:`mlsysim.workload.lowering.sharded` says how they are counted)."""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.formulas.memory import optimizer_state_per_param_B, training_memory_B
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.workload.lowering.facts import ModelFacts
from mlsysim.workload.lowering.ops import Op, optimizer_update
from mlsysim.workload.lowering.shard import RankShard, rank_params, rank_shard
from mlsysim.workload.lowering.sharded_comms import LIST_COLLECTIVE_PER_RANK_S, CommOp

__all__ = ["StaticShare", "static_reads", "static_share", "training_state_bytes"]


class StaticShare(NamedTuple):
    """What one rank's step holds whatever its micro-batch and sequence: the optimizer
    update on its state shard, its resident state and the gradients' format (training)."""

    optimizer: Op | None
    state: tuple[float, float, float]  # weights, gradients, optimizer state (training)
    grad_bytes: float
    dp_comms: tuple[CommOp, ...]  # the data-parallel collectives of a training step


_STATIC = DerivedCache("workload.sharded_static")


def _static(
    f: ModelFacts, par: ParallelPlan, rp: Any, entry: RankShard, training: bool
) -> StaticShare:
    """The rank's static share (cached per facts and what it reads of the plans: no batch,
    micro-batch or sequence length in the key, and recomputation only where ZeRO-3 gathers
    modules again for it)."""
    key = (id(f), training, par.tp, par.pp, par.chunks, par.ep, par.dp, par.cp, par.zero)
    key = (*key, *static_reads(rp, par.zero))
    hit = _STATIC.get(key)
    if hit is not None and hit[0] is f:
        return hit[1]
    dense, expert = entry.dense, entry.expert
    if training:
        bg = _gradient_bytes(rp, par)
        K = optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
        dp_z = float(par.dp * par.cp)
        edp_z = max(1.0, dp_z / par.ep)
        # the update runs on this rank's optimizer-state shard, on its main gradients
        shard = dense / (dp_z if par.zero >= 1 else 1.0) + expert / (
            edp_z if par.zero >= 1 else 1.0
        )
        update = optimizer_update(shard, rp, bg, K)
        # the recomputed forward gathers a module again; a layer unit is still gathered for
        # its backward when its recomputation runs inside it (FSDP)
        unit = rp.plan.shard_unit
        passes = 3.0 if rp.plan.recompute == "full" and unit == "module" else 2.0
        units = _shard_units(f, par, unit) if par.zero >= 3 else (1.0, 1.0)
        listed = rp.plan.list_collectives
        per_tensor = par.zero >= 3 and unit == "module" and listed
        small = _small_tensors(f, par) if per_tensor else (0.0, 0.0)
        host = LIST_COLLECTIVE_PER_RANK_S if listed else 0.0
        dp = _dp_comms(par, dense, expert, bg, rp.weight_bytes, units, passes, host, small)
        state = _state_of(dense, expert, rp.weight_bytes, bg, K, par, dp_z, edp_z)
        made = _new(StaticShare, (update, state, bg, dp))
    else:
        made = StaticShare(None, ((dense + expert) * rp.weight_bytes, 0.0, 0.0), 0.0, ())
    if len(_STATIC) > 4096:  # a sweep must not accumulate
        _STATIC.clear()
    _STATIC.put(key, (f, made))
    return made


def static_reads(rp: Any, zero: int) -> tuple[Any, ...]:
    """What :func:`static_share` reads of a resolved plan at ZeRO stage ``zero`` (a cache
    key: plans that agree on it share their static share): the optimizer, the gradient and
    weight formats and bytes, ZeRO-3's gather unit, whether the collectives take a list of
    buffers and (ZeRO-3) whether the recomputed forward gathers modules again."""
    plan = rp.plan
    unit = plan.shard_unit
    regather = zero >= 3 and plan.recompute == "full" and unit == "module"
    formats = (plan.optimizer, plan.gradients, rp.weights, rp.weight_bytes, rp.gradient_bytes)
    return (*formats, unit, plan.list_collectives, regather)


def static_share(f: ModelFacts, par: ParallelPlan, rp: Any, training: bool) -> StaticShare:
    """The rank's optimizer update, resident state (weights, gradients, optimizer bytes),
    gradient format and data-parallel collectives: :func:`rank_share`'s parts that no
    micro-batch or sequence length changes."""
    return _static(f, par, rp, rank_shard(f, par), training)


def _gradient_bytes(rp: Any, par: ParallelPlan) -> float:
    """Bytes per gradient element: ZeRO-2/3 keep gradients in the weights' format unless the
    plan names one (Rajbhandari et al. 2020); otherwise the plan's (fp32 main gradients by
    default, Megatron-LM)."""
    if par.zero >= 2 and rp.plan.gradients is None:
        return float(rp.weight_bytes)
    return float(rp.gradient_bytes)


def _state(dense: float, expert: float, rp: Any, par: ParallelPlan) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes of the first stage's rank, ZeRO-sharded."""
    bw, bg = rp.weight_bytes, _gradient_bytes(rp, par)
    K = optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
    dp_z = float(par.dp * par.cp)
    return _state_of(dense, expert, bw, bg, K, par, dp_z, max(1.0, dp_z / par.ep))


def _state_of(
    dense: float,
    expert: float,
    bw: float,
    bg: float,
    K: float,
    par: ParallelPlan,
    dp_z: float,
    edp_z: float,
) -> tuple[float, float, float]:
    """:func:`_state` of the bytes per element and shard degrees the caller has."""
    w1, g1, o1 = training_memory_B(dense, bw, bg, K, par.zero, dp_z)
    if expert == 0.0:  # a dense model: no expert state (its terms would be 0.0 each)
        return w1, g1, o1
    w2, g2, o2 = training_memory_B(expert, bw, bg, K, par.zero, edp_z)
    return w1 + w2, g1 + g2, o1 + o2


def training_state_bytes(f: ModelFacts, par: ParallelPlan, rp: Any) -> float:
    """Weights, gradients and optimizer state per device of a training step (bytes): what
    :func:`lower_rank` reports for the first pipeline stage, without lowering any operation
    (a design-space search prunes plans whose state alone cannot fit)."""
    dense, expert = rank_params(f, par)
    return sum(_state(dense, expert, rp, par))


def _shard_units(f: ModelFacts, par: ParallelPlan, unit: str) -> tuple[float, float]:
    """ZeRO-3's gather units on the first stage's rank: (dense, expert). ``"module"``: each
    weight-holding submodule — a layer's attention as Megatron lays it out (fused QKV and
    the output projection; MLA's five projections), each MLP matrix (two, three gated), a
    MoE layer's router and shared experts — plus the embedding (and the untied LM head with
    one stage); each local expert's matrices. ``"layer"``: one unit per layer (and the
    embedding), every expert of a layer in it."""
    L0 = float(par.stage_layers(f.layers)[0])
    moe = L0 * f.moe_layers / f.layers if f.layers else 0.0
    ends = 1.0 + (1.0 if par.pp == 1 and not f.tied else 0.0)
    if unit == "layer":
        return L0 + ends, max(moe, 1.0)
    mlp = 3.0 if f.gated else 2.0
    attn = 5.0 if f.mla is not None else 2.0
    dense = L0 * attn + (L0 - moe) * mlp + moe * (1.0 + f.shared_experts * mlp) + ends
    local = max(1.0, float(f.experts // par.ep)) if f.experts > 1 else 0.0
    return dense, max(moe * local * mlp, 1.0)


def _small_tensors(f: ModelFacts, par: ParallelPlan) -> tuple[float, float]:
    """The first stage rank's parameter tensors besides the weight matrices, as DeepSpeed's
    ZeRO-3 of the list-form collectives (0.3-0.5) reduce-scatters them: (tensors,
    parameters). Its gradient hook is registered on every parameter
    (``create_reduce_and_remove_grad_hooks``) and a full bucket is reduced one parameter at a
    time (``_reduce_scatter_gradients`` calls ``_reduce_scatter_gradient`` per parameter:
    ``deepspeed/runtime/zero/partition_parameters.py``, v0.3.13 to v0.5.x; v0.6 coalesces a
    bucket), so each bias vector and each norm's scale and shift is a collective of its own.
    They are not gathered for each pass: tensors under ``stage3_param_persistence_threshold``
    (10^5 elements by default) stay whole on every rank. Not counted: a learned position
    table (gathered as a module of its own) and the biases of MoE experts."""
    L0 = float(par.stage_layers(f.layers)[0])
    h = float(f.hidden)
    norms = L0 * (2.0 + (2.0 if f.mla is not None else 0.0))
    norms += float(f.end_norms) if par.pp == 1 else 0.0
    count = norms * f.norm_tensors
    params = count * h
    count += L0 * f.bias_tensors
    # a column-parallel layer's bias is split over TP, a row-parallel one's is whole on every
    # rank (added after the all-reduce: Megatron-LM's RowParallelLinear holds all of it)
    params += L0 * (f.bias_split / par.tp + f.bias_whole)
    return count, params


def _dp_comms(
    par: ParallelPlan,
    dense: float,
    expert: float,
    bg: float,
    bw: float,
    units: tuple[float, float],
    passes: float,
    host: float = 0.0,
    small: tuple[float, float] = (0.0, 0.0),
) -> tuple[CommOp, ...]:
    """The data-parallel collectives of a training step: they move the rank's gradients and
    weights, whatever the micro-batch or sequence (see the module doc). ZeRO-3 gathers each
    of ``units`` (dense, expert) gather units ``passes`` times a micro-batch (forward,
    backward, and the recomputed forward) and reduce-scatters its gradients once, each call
    one unit's bytes; ``small`` (tensors, parameters) are dense tensors whose gradients are
    reduce-scattered one call each besides (:func:`_small_tensors`)."""
    out: list[CommOp] = []
    if par.dp * par.cp > 1:
        for grp, params, n in (("dp", dense, units[0]), ("edp", expert, units[1])):
            if params <= 0.0 or (grp == "edp" and par.dp * par.cp // par.ep <= 1):
                continue
            grads, weights = params * bg, params * bw
            ar, rs, ag, small_rs = _DP_NAMES[grp]
            if par.zero == 0:
                out.append(
                    _new(CommOp, (ar, grp, "all_reduce", grads, 1.0, "step", "backward", 0.0))
                )
            elif par.zero < 3:
                out.append(
                    _new(CommOp, (rs, grp, "reduce_scatter", grads, 1.0, "step", "backward", 0.0))
                )
                out.append(
                    _new(CommOp, (ag, grp, "all_gather", weights, 1.0, "step", "forward", 0.0))
                )
            else:
                k, p_small = small if grp == "dp" else (0.0, 0.0)
                gather = (ag, grp, "all_gather", weights / n, passes * n, "microbatch", "compute")
                out.append(_new(CommOp, (*gather, host)))
                size = (params - p_small) * bg / n
                scatter = (rs, grp, "reduce_scatter", size, n, "microbatch", "compute", host)
                out.append(_new(CommOp, scatter))
                if k > 0.0:
                    tensor = p_small * bg / k
                    small_op = (small_rs, grp, "reduce_scatter", tensor, k, "microbatch")
                    out.append(_new(CommOp, (*small_op, "compute", host)))
    return tuple(out)


#: Each data-parallel group's collectives' names: (all-reduce, reduce-scatter, all-gather,
#: the small tensors' reduce-scatter).
_DP_NAMES = {
    grp: (
        f"{grp}_grad_all_reduce",
        f"{grp}_grad_reduce_scatter",
        f"{grp}_param_all_gather",
        f"{grp}_small_grad_reduce_scatter",
    )
    for grp in ("dp", "edp")
}
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
