"""Every column of the cluster sweeps of ``bench_sweep.py``, saved to compare two trees exactly.

A change that makes the sweeps faster must leave every number as it was: this dumps every
column of the 576 (Llama-2-70B, 64 A100s) and the 2,688 (GPT-530B, 2,520 A100s) grids —
fresh (after :func:`mlsysim.core.cache.clear_all`), warm, and in chunks of 7 points, fresh
and warm — and some refused grids' error texts and columns with the refusing points marked
(``invalid='mark'``) to one ``.npz``; ``compare`` says which arrays differ in dtype, shape
or any byte.

    PYTHONPATH=<tree> .venv/bin/python benchmarks/sweep_columns.py dump <tree>.npz
    .venv/bin/python benchmarks/sweep_columns.py compare main.npz branch.npz
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

SMALL: dict[str, Any] = {
    "model": "Llama2_70B",
    "system": "DGX_A100",
    "phase": "training",
    "devices": 64,
    "tp": [1, 2, 4, 8],
    "pp": [1, 2, 4, 8],
    "zero": [0, 1, 3],
    "recompute": ["none", "selective", "full"],
    "microbatch": [1, 2],
    "batch": [256, 512],
    "seq_len": 4096,
}
LARGE: dict[str, Any] = {
    "model": "GPT_530B",
    "system": "DGX_A100",
    "phase": "training",
    "devices": 2520,
    "tp": [1, 2, 4, 8],
    "pp": [1, 3, 5, 7, 15, 21, 35],
    "zero": [0, 1, 2, 3],
    "recompute": ["none", "selective", "full"],
    "microbatch": [1, 2],
    "sp": [False, True],
    "batch": [5040, 10080],
    "seq_len": 2048,
}
#: Grids every point of which is not solved the same way: tp or pp not dividing, a batch
#: that does not split, too few devices for whole nodes, a context too long, bad names.
REFUSED: list[dict[str, Any]] = [
    {**SMALL, "tp": [1, 3]},
    {**SMALL, "batch": [255, 256]},
    {**SMALL, "pp": [1, 3]},
    {**LARGE, "microbatch": [1, 7]},
    {**SMALL, "devices": 60},
    {**SMALL, "seq_len": [4096, 999999]},
    {**SMALL, "zero": [0, 5]},
    {**SMALL, "recompute": ["none", "bogus"]},
]


def dump(path: str) -> None:
    import mlsysim
    from mlsysim.core.cache import clear_all

    out: dict[str, Any] = {}
    for name, grid in (("576", SMALL), ("2688", LARGE)):
        for tag, chunk in (("", None), ("chunk7", 7)):
            kw = grid if chunk is None else {**grid, "chunk": chunk}
            clear_all()
            for when in ("fresh", "warm"):
                result = mlsysim.sweep(**kw)
                for column in result:  # (the column names)
                    out[f"{name}/{tag}{when}/{column}"] = np.asarray(result[column])
    errors = []
    for k, grid in enumerate(REFUSED):
        clear_all()
        try:
            mlsysim.sweep(**grid)
            errors.append("solved")
        except mlsysim.MlsysimError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        try:  # the refusing points marked, the others solved
            marked = mlsysim.sweep(**grid, invalid="mark")
        except mlsysim.MlsysimError as exc:
            errors.append(f"marking: {type(exc).__name__}: {exc}")
            continue
        for column in marked:
            out[f"refused{k}/marked/{column}"] = np.asarray(marked[column])
    out["errors"] = np.asarray(errors)
    np.savez(path, **out)
    print(f"{path}: {len(out)} arrays from {mlsysim.__file__}")


def compare(a_path: str, b_path: str) -> int:
    a, b = np.load(a_path), np.load(b_path)
    names = sorted(set(a.files) | set(b.files))
    differ = [
        n
        for n in names
        if n not in a.files
        or n not in b.files
        or a[n].dtype != b[n].dtype
        or a[n].shape != b[n].shape
        or a[n].tobytes() != b[n].tobytes()
    ]
    print(f"{len(names)} arrays, {len(differ)} differ" + (f": {differ[:20]}" if differ else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
