"""The first build's critical path with the worker (``mlsysim.book.ahead``), in CPU seconds.

On a machine that other work keeps busy, the wall time of two processes that run in parallel
says little about what they cost where both find a free core. This measures, for the
20-chapter, 1,000-item bench book (``bench_sphinx.write_book``) built from scratch with its
chapters' stored results deleted, the CPU time of each side, logged as it goes:

* Sphinx's process: its CPU at the fork, and at each chapter it asks the worker for;
* the worker: its CPU (from the fork) at each chapter it sends.

and replays them as if each process had a core of its own: Sphinx's process waits for a
chapter only when the worker's CPU at sending it exceeds Sphinx's own CPU since the fork
plus the waits so far. The estimate of the build's wall time on an idle 2-core machine is
Sphinx's process's total CPU plus those waits; it is compared with the CPU of the plain-text
twin and of the in-process build (``MLSYSIM_WORKER=off``) of the same round, and with the
wall times measured (which the machine's other load stretches). Best and median of
``--repeat`` rounds.

    .venv/bin/python benchmarks/bench_sphinx_worker.py [--repeat 5]
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
from bench_sphinx import ROOT, write_book

#: run Sphinx with the worker's messages and the host's waits logged (CPU seconds)
_RUNNER = """import os, resource, sys, time
LOG = os.environ["PROBE_LOG"]

def log(line):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, (line + "\\n").encode())
    os.close(fd)

import mlsysim.book.ahead as ahead

import mlsysim.book.pipes as pipes

_write, _start, _take = ahead.write, ahead.Ahead.start.__func__, ahead.Ahead.take
_submit, _next = ahead.Ahead.submit, pipes.Reader.next

def submit(self, *args):
    log(f"submit {time.process_time()}")
    return _submit(self, *args)

def next_message(self, timeout, outbox=None):
    got = _next(self, timeout, outbox)
    if got[0] == "ok" and got[1][0] == "begin":
        log(f"jobs {time.process_time()}")
    return got

def write(fd, message):
    _write(fd, message)
    if message[0] == "record":
        log(f"worker {time.process_time()}")

def start(cls):
    log(f"fork {time.process_time()}")
    return _start(cls)

def take(self, key):
    log(f"ask {time.process_time()}")
    return _take(self, key)

ahead.write = write
ahead.Ahead.start = classmethod(start)
ahead.Ahead.take = take
ahead.Ahead.submit = submit
pipes.Reader.next = next_message
from sphinx.cmd.build import main
code = main(sys.argv[1:])
use = resource.getrusage(resource.RUSAGE_SELF)
log(f"total {use.ru_utime + use.ru_stime}")
sys.exit(code)
"""


def _run(src: Path, out: Path, *, worker: bool, log: Path | None = None) -> tuple[float, float]:
    """Wall seconds and the build process's own CPU seconds (user + system)."""
    env = bench_env(PYTHONPATH=os.pathsep.join([str(ROOT / "sphinx_ext"), str(ROOT)]))
    if not worker:
        env["MLSYSIM_WORKER"] = "off"
    if log is not None:
        env["PROBE_LOG"] = str(log)
        cmd = [sys.executable, "-c", _RUNNER]
    else:
        cmd = [sys.executable, "-m", "sphinx"]
    cmd += ["-q", "-E", "-j", "1", "-b", "html", str(src), str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0 or err:
        raise SystemExit(f"build of {src} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def _estimate(log: Path) -> tuple[float, float]:
    """(estimated idle wall of the build, Sphinx's process's waits in it) from ``log``."""
    at: dict[str, float] = {}
    asks: list[float] = []
    sent: list[float] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        tag, value = line.split()
        if tag == "ask":
            asks.append(float(value))
        elif tag == "worker":
            sent.append(float(value))
        else:
            at[tag] = float(value)
    if len(sent) < len(asks) or not {"fork", "submit", "jobs", "total"} <= set(at):
        raise SystemExit(f"the worker did not serve every chapter: {log}")
    # Sphinx's process's wall since the fork = its CPU since the fork + its waits so far; the
    # worker evaluates from the later of its own readiness and the jobs' arrival
    begin = max(at["jobs"], at["submit"] - at["fork"])
    waited = 0.0
    for asked, ready in zip(asks, sent, strict=False):
        ready_wall = begin + (ready - at["jobs"])
        waited += max(0.0, ready_wall - (asked - at["fork"] + waited))
    return at["total"] + waited, waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {k: [] for k in ("est", "wait", "cpu_in", "cpu_plain")}
    walls: dict[str, list[float]] = {k: [] for k in ("worker", "in", "plain")}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["MLSYSIM_CACHE_HOME"] = str(base / "cache")
        napkin = write_book(base / "napkin", 20, True)
        plain = write_book(base / "plain", 20, False)
        _run(napkin, base / "warm", worker=False)  # the registry snapshot, bytecode
        for r in range(args.repeat):
            shutil.rmtree(base / "cache" / "sphinx", ignore_errors=True)
            log = base / f"log-{r}.txt"
            w_worker, _ = _run(napkin, base / f"w-{r}", worker=True, log=log)
            est, wait = _estimate(log)
            shutil.rmtree(base / "cache" / "sphinx", ignore_errors=True)
            w_in, c_in = _run(napkin, base / f"i-{r}", worker=False)
            w_plain, c_plain = _run(plain, base / f"p-{r}", worker=False)
            for key, value in (("est", est), ("wait", wait), ("cpu_in", c_in)):
                rows[key].append(value)
            rows["cpu_plain"].append(c_plain)
            walls["worker"].append(w_worker)
            walls["in"].append(w_in)
            walls["plain"].append(w_plain)
    ratios = [e / p for e, p in zip(rows["est"], rows["cpu_plain"], strict=True)]
    in_ratios = [c / p for c, p in zip(rows["cpu_in"], rows["cpu_plain"], strict=True)]
    print(f"bench book: 20 chapters, 1000 napkin items, -j 1, {args.repeat} rounds")
    print(
        f"  idle 2-core estimate, with the worker: median {statistics.median(ratios):.2f} x, "
        f"best {min(ratios):.2f} x the plain build's CPU  (target <= 1.30 x)"
    )
    print(
        f"  in-process (MLSYSIM_WORKER=off), CPU: median {statistics.median(in_ratios):.2f} x, "
        f"best {min(in_ratios):.2f} x the plain build's CPU"
    )
    print(
        f"  Sphinx's process waited for the worker: median {statistics.median(rows['wait']):.2f}"
        f" s (CPU-time model); plain build {statistics.median(rows['cpu_plain']):.2f} s CPU"
    )
    w = {k: statistics.median(v) for k, v in walls.items()}
    print(
        f"  measured wall (median; stretched by the machine's load): worker {w['worker']:.2f} s"
        f" = {w['worker'] / w['plain']:.2f} x, in-process {w['in']:.2f} s = "
        f"{w['in'] / w['plain']:.2f} x, plain {w['plain']:.2f} s"
    )


if __name__ == "__main__":
    main()
