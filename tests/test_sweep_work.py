"""The work a fresh distributed sweep does, counted: a micro-batch row's shard read once, and
a dense rank's resident state without expert terms."""

from __future__ import annotations

import importlib
from typing import Any

import mlsysim
from mlsysim.core.cache import clear_all

sharded_comms = importlib.import_module("mlsysim.workload.lowering.sharded_comms")

#: tp × pp × zero × micro-batch × sp: 4 (tp, pp) × 4 ZeRO stages × 4 (micro-batch, sp).
_GRID: dict[str, Any] = {
    "model": "Llama2_7B",
    "system": "DGX_A100",
    "phase": "training",
    "devices": 16,
    "tp": [1, 2],
    "pp": [1, 2],
    "zero": [0, 1, 2, 3],
    "recompute": ["selective", "full"],
    "microbatch": [1, 2],
    "sp": [False, True],
    "batch": [32, 64],
    "seq_len": 1024,
}


def test_a_microbatch_row_reads_the_ranks_shard_once(count_calls: Any) -> None:
    """A micro-batch row's collectives and activation parts take the shard the row read:
    neither looks it up again (two lookups per row before)."""
    clear_all()
    again = count_calls(sharded_comms, "rank_shard")
    mlsysim.sweep(**_GRID)
    assert again[0] == 0


def test_a_dense_ranks_state_has_no_expert_terms(count_calls: Any) -> None:
    """A dense model's rank holds no expert parameters: its resident state is the dense
    part's alone, one ``training_memory_B`` per static share (two before, the second all
    0.0), and a mixture of experts still adds its experts' state."""
    sharded_state = importlib.import_module("mlsysim.workload.lowering.sharded_state")
    clear_all()
    terms = count_calls(sharded_state, "training_memory_B")
    mlsysim.sweep(**_GRID)
    assert terms[0] == len(sharded_state._STATIC) > 0
    clear_all()
    terms[0] = 0
    moe = mlsysim.sweep("Mixtral_8x7B", "DGX_H100", phase="training", devices=16, tp=2,
                        ep=[1, 8], zero=[0, 3], batch=32, seq_len=1024)  # fmt: skip
    assert terms[0] == 2 * len(sharded_state._STATIC) > 0
    for i in range(len(moe)):
        row = moe.row(i)
        clear_all()
        r = mlsysim.solve("Mixtral_8x7B", "DGX_H100", phase="training", devices=16, tp=2,
                          ep=row["ep"], zero=row["zero"], batch=32, seq_len=1024)  # fmt: skip
        assert row["weights_bytes"] == r.memory.weights_bytes
        assert row["optimizer_bytes"] == r.memory.optimizer_bytes


def test_a_static_share_computes_the_optimizer_state_bytes_once(count_calls: Any) -> None:
    """A training rank's static share reads the optimizer's state bytes per parameter once:
    its update and its resident state take the same K (each computed it before)."""
    sharded_state = importlib.import_module("mlsysim.workload.lowering.sharded_state")
    ops = importlib.import_module("mlsysim.workload.lowering.ops")
    clear_all()
    mlsysim.sweep(**_GRID)  # (every lowering frame made: only static shares are new below)
    sharded_state._STATIC.clear()
    here = count_calls(sharded_state, "optimizer_state_per_param_B")
    there = count_calls(ops, "optimizer_state_per_param_B")
    again = mlsysim.sweep(**_GRID)
    assert here[0] + there[0] == len(sharded_state._STATIC) > 0
    clear_all()
    fresh = mlsysim.sweep(**_GRID)
    for name in ("optimizer_bytes", "weights_bytes", "gradients_bytes", "step_time_s"):
        assert again[name].tobytes() == fresh[name].tobytes()


def test_step_parts_do_not_hash_the_engines_efficiencies(monkeypatch: Any) -> None:
    """What a step part reads of a resolved plan (its formats, the peaks, the engine's
    efficiencies) is numbered once per resolved plan and call, and a warm optimizer timing
    is found by the efficiencies' identity: a warm sweep hashes the efficiencies a few
    times per resolved plan, not once or twice per step part (it did both before)."""
    from mlsysim.hardware.engines import Efficiencies

    sharded_state = importlib.import_module("mlsysim.workload.lowering.sharded_state")
    clear_all()
    mlsysim.sweep(**_GRID)
    hashed = [0]
    plain = tuple.__hash__

    def counted(self: Any) -> int:
        hashed[0] += 1
        return plain(self)

    monkeypatch.setattr(Efficiencies, "__hash__", counted)
    mlsysim.sweep(**_GRID)
    assert 0 < hashed[0] < len(sharded_state._STATIC)


def test_a_dense_training_lowering_times_each_op_once(count_calls: Any) -> None:
    """A shared dense training lowering times each of its ops once: its parts (per
    recomputation class), its layers with and without the embedding and its LM head are
    those timings summed in op order (three passes over the layers before), and every
    point still equals solve() (tests/test_sweep_distributed.py, test_recompute_share.py)."""
    lowering = importlib.import_module("mlsysim.solvers.sweeps.distributed_lowering")
    made: list[Any] = []
    timed: list[int] = []
    lower, time = lowering.lower_ops, lowering.time_ops

    def lowered(*args: Any) -> Any:
        made.append(lower(*args))
        return made[-1]

    def counted(ops: Any, *args: Any) -> Any:
        timed.append(len(ops))
        return time(ops, *args)

    grid = {**_GRID, "zero": 0, "sp": False}
    clear_all()
    ref = mlsysim.sweep(**grid)
    clear_all()
    try:
        lowering.lower_ops, lowering.time_ops = lowered, counted
        got = mlsysim.sweep(**grid)
    finally:
        lowering.lower_ops, lowering.time_ops = lower, time
    assert made and sum(timed) == sum(len(low.ops) + len(low.head_ops) for low in made)
    assert got["step_time_s"].tobytes() == ref["step_time_s"].tobytes()
