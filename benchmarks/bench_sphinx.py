"""Build cost of napkin math in Sphinx: a generated book with napkin roles vs plain text.

Generates a 20-chapter MyST book holding 1,000 napkin items (per chapter: one ``napkin`` block
of 5 statements and 45 inline roles and claims), the same book with the values typed as plain
text in their place, and a third twin whose ``napkin``/``claim`` roles come from a do-nothing
extension (each role returns its own text): what any role costs in MyST and docutils, before
mlsysim does anything (more nodes for every transform to walk, MyST's role machinery). All
three are built from scratch (``sphinx-build -E -b html``) in the same run, ``REPEAT`` times
each, alternating; it prints the median and the best (fastest round) wall and CPU times,
their ratios to the plain build (target: napkin build ≤ 1.3 × the plain build), the median
of each round's own ratio (a napkin build over the plain build next to it: the steadiest
figure when other work loads the machine) and each build's peak memory. The CPU ratio is
steadier than wall time on a busy machine (other processes stretch wall time more than CPU).
Then an incremental rebuild of each (one chapter touched, no ``-E``). ``--per-chapter 500``
makes the 10,000-item book.

The registry snapshot (``mlsysim.core.snapshot``: the validated data files, made once per
install and data state, like bytecode) is warmed by a first untimed build, in a cache
directory of the run's own. The headline builds keep nothing of the books themselves
between them: every chapter's stored results (``mlsysim_sphinx.replay``) are deleted before
each napkin build, so the engine evaluates every item (a book's first build). A fourth
build per round, ``napkin, recorded``, rebuilds the unchanged book from scratch (``-E``)
with its chapters' results stored by the build before: what CI pays for a book whose
chapters did not change, when it keeps the cache directory (``MLSYSIM_CACHE_HOME``). A fifth,
``napkin, in-process``, is the first build with ``MLSYSIM_WORKER=off``: every item evaluated
in Sphinx's own process, with no worker evaluating the chapters while Sphinx starts up and
reads (``mlsysim_sphinx.worker``): the same-run measure of what the worker saves. CPU
counts the build's reaped children (the worker) too: it is the machine's cost, wall time
the author's.

    .venv/bin/python benchmarks/bench_sphinx.py [--chapters 20] [--per-chapter 50] [--jobs 1]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
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


#: the roles' floor: ``napkin``/``claim`` roles and a ``napkin`` directive that do nothing
_NOOP_EXT = """from docutils import nodes
from sphinx.util.docutils import SphinxDirective, SphinxRole


class Role(SphinxRole):
    def run(self):
        return [nodes.Text(self.text)], []


class Block(SphinxDirective):
    has_content = True

    def run(self):
        return []


def setup(app):
    app.add_role("napkin", Role())
    app.add_role("claim", Role())
    app.add_directive("napkin", Block)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""


def write_book(
    root: Path, chapters: int, napkin: bool, per: int = PER_CHAPTER, *, noop: bool = False
) -> Path:
    """The napkin book (``napkin``), its roles served by the do-nothing extension (also
    ``noop``), or its plain-text twin."""
    root.mkdir(parents=True)
    ext = ', "noop_roles"' if noop else ', "mlsysim_sphinx"' if napkin else ""
    conf = _CONF.format(ext=ext)
    if noop:
        (root / "noop_roles.py").write_text(_NOOP_EXT, encoding="utf-8")
        conf = "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n" + conf
    (root / "conf.py").write_text(conf, encoding="utf-8")
    names = [f"ch{n:02d}" for n in range(1, chapters + 1)]
    toc = "\n".join(names)
    (root / "index.md").write_text(f"# Bench\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    for n, name in enumerate(names, 1):
        (root / f"{name}.md").write_text(chapter(n, napkin, per), encoding="utf-8")
    return root


def build(
    src: Path, out: Path, jobs: int, *, fresh: bool = True, worker: bool = True
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, of the build and its workers) and peak
    resident megabytes of one HTML build (``fresh``: from scratch, ``-E``; else Sphinx's
    incremental build of what changed; ``worker``: else ``MLSYSIM_WORKER=off``, every item
    evaluated in the build's own process); fails loudly on a non-zero exit."""
    env = bench_env()
    if not worker:
        env["MLSYSIM_WORKER"] = "off"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "sphinx_ext"), env.get("PYTHONPATH")])
    )
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-q",
        *(["-E"] if fresh else []),
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
    # the build's CPU with that of the children it reaped (the napkin worker, -j N readers)
    # and the peak memory of its largest process
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


_STARTUP = """import time
import sphinx.application, sphinx.builders.html, myst_parser.sphinx_ext.main  # a build has them
t0 = time.process_time()
from mlsysim.book import Document
from mlsysim.core.registry import catalog
catalog()
Document("x.md").inline('ridge_point(H100, "bf16")', 1)
print(time.process_time() - t0)
"""


def engine_startup() -> float:
    """CPU seconds the napkin engine needs before its first value (import, registries,
    formulas) in a process that has loaded Sphinx and MyST already."""
    cmd = [sys.executable, "-c", _STARTUP]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=bench_env()).stdout
    return float(out)


Runs = dict[str, list[tuple[float, float, float]]]
#: the napkin book's other builds per round: (name, what it measures)
_MORE = (
    ("in-process", "first build, MLSYSIM_WORKER=off: no worker"),
    ("recorded", "unchanged chapters replayed"),
)


def _median(runs: Runs) -> dict[str, list[float]]:
    return {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in runs.items()}


def _best(runs: Runs) -> dict[str, list[float]]:
    """Each build's fastest round (wall, CPU and memory taken apart): on a machine shared with
    other work, the round least disturbed by it."""
    return {k: [min(x[i] for x in v) for i in range(3)] for k, v in runs.items()}


def _print_ratios(med: dict[str, list[float]]) -> None:
    w_p, c_p, _ = med["plain"]
    names = {"plain": "plain text", "roles": "do-nothing roles", "napkin": "napkin"}
    for key, name in names.items():
        w, c, m = med[key]
        ratio = "" if key == "plain" else f"  = {w / w_p:.2f} x wall, {c / c_p:.2f} x CPU"
        print(f"  {name:17}: {w:6.2f} s wall, {c:6.2f} s CPU, {m:5.0f} MB peak{ratio}")


def _touch(path: Path) -> None:
    """Change a chapter as an author saving it does (a new modification time)."""
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", type=int, default=20)
    parser.add_argument("--per-chapter", type=int, default=PER_CHAPTER)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    books = ("plain", "roles", "napkin")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        # a cache of its own: on a machine shared with other checkouts of mlsysim, their
        # processes would evict this one's snapshot between the builds (a rebuild each time)
        os.environ["MLSYSIM_CACHE_HOME"] = str(base / "cache")
        src = {
            "napkin": write_book(base / "napkin", args.chapters, True, args.per_chapter),
            "plain": write_book(base / "plain", args.chapters, False, args.per_chapter),
            "roles": write_book(base / "roles", args.chapters, True, args.per_chapter, noop=True),
        }
        items = args.chapters * args.per_chapter
        build(src["napkin"], base / "warm", args.jobs)  # warm the OS file cache, bytecode, snapshot
        runs: Runs = {k: [] for k in (*books, "recorded", "in-process")}
        t_start = []
        for r in range(args.repeat):
            for k in books:
                if k == "napkin":
                    shutil.rmtree(base / "cache" / "sphinx", ignore_errors=True)
                runs[k].append(build(src[k], base / f"out-{k}-{r}", args.jobs))
            shutil.rmtree(base / "cache" / "sphinx", ignore_errors=True)
            out = base / f"out-inproc-{r}"
            runs["in-process"].append(build(src["napkin"], out, args.jobs, worker=False))
            runs["recorded"].append(build(src["napkin"], base / f"out-rec-{r}", args.jobs))
            t_start.append(engine_startup())
        incremental: Runs = {k: [] for k in books}
        for _ in range(args.repeat):
            for k in books:
                _touch(src[k] / "ch01.md")
                out = base / f"out-{k}-{args.repeat - 1}"
                incremental[k].append(build(src[k], out, args.jobs, fresh=False))
    m_start = statistics.median(t_start)
    print(f"book: {args.chapters} chapters, {items} napkin items, -j {args.jobs}")
    for label, stat in (("median", _median), ("best", _best)):
        med = stat(runs)
        (w_n, c_n, _), (w_p, c_p, _), c_r = med["napkin"], med["plain"], med["roles"][1]
        print(f"{label} of {args.repeat} fresh builds:")
        _print_ratios(med)
        print(
            f"  ratio            : {w_n / w_p:6.2f} x wall, {c_n / c_p:.2f} x CPU"
            "  (target <= 1.30 x)"
        )
        print(
            f"  of the napkin build's extra CPU ({c_n - c_p:.2f} s): any roles' own (MyST, "
            f"docutils) {c_r - c_p:.2f} s, mlsysim's {c_n - c_r:.2f} s"
        )
        for key, what in _MORE:
            w_c, c_c, m_c = med[key]
            print(
                f"  {'napkin, ' + key:17}: {w_c:6.2f} s wall, {c_c:6.2f} s CPU, {m_c:5.0f} MB "
                f"peak  = {w_c / w_p:.2f} x wall, {c_c / c_p:.2f} x CPU  ({what})"
            )
    for name in ("napkin", "in-process", "recorded"):
        paired = [
            (n[0] / p[0], n[1] / p[1]) for n, p in zip(runs[name], runs["plain"], strict=True)
        ]
        print(
            f"paired ({name}): median of the {args.repeat} rounds' own ratios (each build over "
            f"the plain build of its round): {statistics.median(w for w, _ in paired):.2f} x "
            f"wall, {statistics.median(c for _, c in paired):.2f} x CPU  (target <= 1.30 x)"
        )
    print(f"the engine's start-up alone (import, registries, first value; median): {m_start:.2f} s")
    for label, stat in (("median", _median), ("best", _best)):
        print(f"incremental rebuild (one chapter changed), {label} of {args.repeat}:")
        _print_ratios(stat(incremental))


if __name__ == "__main__":
    main()
