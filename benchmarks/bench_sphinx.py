"""Build cost of napkin math in Sphinx: a generated book with napkin roles vs plain text.

Generates a 20-chapter MyST book holding 1,000 napkin items (per chapter: one ``napkin`` block
of 5 statements and 45 inline roles and claims) and the same book with the values typed as
plain text in their place, builds both from scratch (``sphinx-build -E -b html``) in the same
run, ``REPEAT`` times each alternating, and prints the median wall and CPU times, their
ratios (target: napkin build ≤ 1.3 × the plain build) and each build's peak memory. The CPU
ratio is the steadier one on a busy machine (other processes stretch wall time, not CPU).
``--per-chapter 500`` makes the 10,000-item book.

    .venv/bin/python benchmarks/bench_sphinx.py [--chapters 20] [--per-chapter 50] [--jobs 1]
        [--repeat 3]
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


def chapter(n: int, napkin: bool, per: int = PER_CHAPTER) -> str:
    """One chapter: a heading, a block (or its prose) and sentences with one value each."""
    parts = [f"# Chapter {n}\n", _BLOCK if napkin else _PLAIN_BLOCK]
    for k in range(per - BLOCK_STATEMENTS):
        role, plain = _INLINE[k % len(_INLINE)]
        i = 2 + (n * per + k) % 97
        value = (role if napkin else plain).replace("{i}", str(i))
        parts.append(f"Sentence {k} of chapter {n} states a figure, {value}, and moves on.\n")
    return "\n".join(parts)


def write_book(root: Path, chapters: int, napkin: bool, per: int = PER_CHAPTER) -> Path:
    root.mkdir(parents=True)
    ext = ', "mlsysim_sphinx"' if napkin else ""
    (root / "conf.py").write_text(_CONF.format(ext=ext), encoding="utf-8")
    names = [f"ch{n:02d}" for n in range(1, chapters + 1)]
    toc = "\n".join(names)
    (root / "index.md").write_text(f"# Bench\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    for n, name in enumerate(names, 1):
        (root / f"{name}.md").write_text(chapter(n, napkin, per), encoding="utf-8")
    return root


def build(src: Path, out: Path, jobs: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, of the build and its workers) and peak
    resident megabytes of one fresh HTML build; fails loudly on a non-zero exit."""
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
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"build of {src} failed (exit {proc.returncode}):\n{err.read()}")
    # the build's own CPU and peak memory (-j N workers are forked children of it: their CPU
    # is not included, so compare -j 1 builds for CPU)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


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
    parser.add_argument("--per-chapter", type=int, default=PER_CHAPTER)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        napkin = write_book(base / "napkin", args.chapters, napkin=True, per=args.per_chapter)
        plain = write_book(base / "plain", args.chapters, napkin=False, per=args.per_chapter)
        items = args.chapters * args.per_chapter
        build(napkin, base / "warm", args.jobs)  # warm the OS file cache, bytecode, snapshots
        runs: dict[str, list[tuple[float, float, float]]] = {"napkin": [], "plain": []}
        t_start = []
        for r in range(args.repeat):
            runs["plain"].append(build(plain, base / f"out-plain-{r}", args.jobs))
            runs["napkin"].append(build(napkin, base / f"out-napkin-{r}", args.jobs))
            t_start.append(engine_startup())
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in runs.items()}
    (w_n, c_n, m_n), (w_p, c_p, m_p) = med["napkin"], med["plain"]
    m_start = statistics.median(t_start)
    print(
        f"book: {args.chapters} chapters, {items} napkin items, -j {args.jobs}, "
        f"median of {args.repeat} fresh builds"
    )
    print(f"  plain text build : {w_p:6.2f} s wall, {c_p:6.2f} s CPU, {m_p:5.0f} MB peak")
    print(f"  napkin build     : {w_n:6.2f} s wall, {c_n:6.2f} s CPU, {m_n:5.0f} MB peak")
    print(
        f"  ratio            : {w_n / w_p:6.2f} x wall, {c_n / c_p:.2f} x CPU  (target <= 1.30 x)"
    )
    per_item = (w_n - w_p - m_start) / items * 1e3
    print(
        f"  of which engine start-up (import, registries, first value): {m_start:.2f} s; "
        f"per item beyond it: {per_item:.2f} ms"
    )


if __name__ == "__main__":
    main()
