"""Build cost of napkin math in Sphinx: a generated book with napkin roles vs plain text.

Generates a 20-chapter MyST book holding 1,000 napkin items (per chapter: one ``napkin`` block
of 5 statements and 45 inline roles and claims) and the same book with the values typed as
plain text in their place, builds both from scratch (``sphinx-build -E -b html``) in the same
run, ``REPEAT`` times each alternating, and prints the median wall times and their ratio
(target: napkin build ≤ 1.3 × the plain build).

    .venv/bin/python benchmarks/bench_sphinx.py [--chapters 20] [--jobs 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _env import bench_env

ROOT = Path(__file__).resolve().parents[1]
PER_CHAPTER = 50
BLOCK_STATEMENTS = 5

_CONF = """project = "bench"
extensions = ["myst_parser"{ext}]
myst_enable_extensions = ["colon_fence"]
"""

# (napkin role text, the plain text an author would otherwise type); {i} varies per use
_INLINE = [
    ('{napkin}`ridge_point(H100, "bf16")`', "295 FLOP/B"),
    ("{napkin}`H100.memory.bandwidth * {i} -> TB/s`", "{i} TB/s"),
    ("{napkin}`amdahl(p=0.9, speedup={i}) | style=multiplier`", "{i}x"),
    ('{napkin}`weights_bytes(Llama2_7B, "bf16") / A100.memory.bandwidth -> ms`', "6.61 ms"),
    ("{napkin}`{i} GB / 3.35 TB/s -> ms | sig=2`", "{i} ms"),
    ("{napkin}`ring_allreduce(size={i} GB, n=8, bandwidth=900 GB/s) -> ms`", "{i} ms"),
    ("{napkin}`energy * Quebec.carbon_intensity -> kgCO2e`", "181 kgCO2e"),
    ("{napkin}`t_token -> ms`", "4.02 ms"),
    ('{claim}`295 FLOP/B ~ ridge_point(H100, "bf16")`', "295 FLOP/B"),
]

_BLOCK = """```{napkin}
weights = weights_bytes(Llama2_7B, "bf16")
t_token = weights / H100.memory.bandwidth
energy = 1000 * H100.tdp * 30 day
ridge = ridge_point(H100, "bf16")
check(t_token > 1 ms, "decode streams every weight")
```
"""

_PLAIN_BLOCK = """We take the Llama 2 7B weights in BF16, the time per token on an H100, the energy
of a month on 1,000 H100s and the H100's ridge point, and check decode takes over a millisecond.
"""


def chapter(n: int, napkin: bool) -> str:
    """One chapter: a heading, a block (or its prose) and 45 sentences with one value each."""
    parts = [f"# Chapter {n}\n", _BLOCK if napkin else _PLAIN_BLOCK]
    for k in range(PER_CHAPTER - BLOCK_STATEMENTS):
        role, plain = _INLINE[k % len(_INLINE)]
        i = 2 + (n * PER_CHAPTER + k) % 97
        value = (role if napkin else plain).replace("{i}", str(i))
        parts.append(f"Sentence {k} of chapter {n} states a figure, {value}, and moves on.\n")
    return "\n".join(parts)


def write_book(root: Path, chapters: int, napkin: bool) -> Path:
    root.mkdir(parents=True)
    ext = ', "mlsysim_sphinx"' if napkin else ""
    (root / "conf.py").write_text(_CONF.format(ext=ext), encoding="utf-8")
    names = [f"ch{n:02d}" for n in range(1, chapters + 1)]
    toc = "\n".join(names)
    (root / "index.md").write_text(f"# Bench\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    for n, name in enumerate(names, 1):
        (root / f"{name}.md").write_text(chapter(n, napkin), encoding="utf-8")
    return root


def build(src: Path, out: Path, jobs: int) -> float:
    """Wall seconds of one fresh HTML build; fails loudly on a non-zero exit."""
    env = bench_env()
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "sphinx_ext"), env.get("PYTHONPATH")])
    )
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-q",
        "-E",
        "-j",
        str(jobs),
        "-b",
        "html",
        str(src),
        str(out),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"build of {src} failed (exit {proc.returncode}):\n{proc.stderr}")
    return elapsed


_STARTUP = """import time
t0 = time.perf_counter()
from mlsysim.book import Document
from mlsysim.core.registry import catalog
catalog()
Document("x.md").inline('ridge_point(H100, "bf16")', 1)
print(time.perf_counter() - t0)
"""


def engine_startup() -> float:
    """Seconds the napkin engine needs before its first value (import, registries, formulas)."""
    out = subprocess.run(
        [sys.executable, "-c", _STARTUP], capture_output=True, text=True, check=True
    ).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        napkin = write_book(base / "napkin", args.chapters, napkin=True)
        plain = write_book(base / "plain", args.chapters, napkin=False)
        items = args.chapters * PER_CHAPTER
        build(napkin, base / "warm", args.jobs)  # warm the OS file cache and bytecode
        t_napkin, t_plain, t_start = [], [], []
        for r in range(args.repeat):
            t_plain.append(build(plain, base / f"out-plain-{r}", args.jobs))
            t_napkin.append(build(napkin, base / f"out-napkin-{r}", args.jobs))
            t_start.append(engine_startup())
    m_napkin, m_plain = statistics.median(t_napkin), statistics.median(t_plain)
    m_start = statistics.median(t_start)
    print(
        f"book: {args.chapters} chapters, {items} napkin items, -j {args.jobs}, "
        f"median of {args.repeat} fresh builds"
    )
    print(f"  plain text build : {m_plain:6.2f} s")
    print(
        f"  napkin build     : {m_napkin:6.2f} s  ({(m_napkin - m_plain) / items * 1e3:.2f} ms "
        "per napkin item)"
    )
    print(f"  ratio            : {m_napkin / m_plain:6.2f} x  (target <= 1.30 x)")
    per_item = (m_napkin - m_plain - m_start) / items * 1e3
    print(
        f"  of which engine start-up (import, registries, first value): {m_start:.2f} s; "
        f"per item beyond it: {per_item:.2f} ms"
    )


if __name__ == "__main__":
    main()
