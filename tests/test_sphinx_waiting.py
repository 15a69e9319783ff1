"""Sphinx reads on while the worker's records are on their way (``mlsysim_sphinx.waiting``):
values in plain paragraphs wait, so reading never waits for the worker's start-up; what the
build writes and logs is an in-process build's. The worker is held stopped from the moment
its chapters are sent until Sphinx's process first takes a record (then it is let go), so
which chapters wait does not depend on timing. Counted (records taken while reading,
modules imported), never timed."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from test_sphinx_book import SPHINX_EXT

_ENGINE = {"pint", "numpy", "pydantic", "mlsysim.core.units"}

#: stops the worker once it has its chapters; each record taken lets it go first, and is
#: logged with whether Sphinx was still reading; writes the modules Sphinx's process loaded
_PROBE = """import os, signal, sys

READING = [False]


def _log(app, line):
    with open(os.path.join(app.outdir, "takes.txt"), "a") as fh:
        fh.write(line + "\\n")


def _pause(app, *args):
    from mlsysim_sphinx import worker

    ahead = worker.current()
    if ahead is None:
        return
    READING[0] = True
    os.kill(ahead.pid, signal.SIGSTOP)
    take = worker.take

    def resumed(key):
        _log(app, "reading" if READING[0] else "after")
        os.kill(ahead.pid, signal.SIGCONT)
        return take(key)

    worker.take = resumed


def _read(app, *args):
    READING[0] = False


def _dump(app, exc):
    with open(os.path.join(app.outdir, "modules.txt"), "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))


def setup(app):
    app.connect("env-before-read-docs", _pause, priority=900)  # the worker has its jobs
    app.connect("env-updated", _read, priority=100)  # before the waiting chapters resolve
    app.connect("build-finished", _dump)
    return {"parallel_read_safe": True}
"""

_CONF = """import sys, os
sys.path.insert(0, os.path.dirname(__file__))
project = "waiting"
extensions = ["myst_parser", "mlsysim_sphinx", "probe"]
myst_enable_extensions = ["colon_fence", "deflist"]
mlsysim_fail_mode = "warn"
"""

#: chapters whose values all sit in plain paragraphs (lists, tables, definitions), with
#: failures in a block, a claim and a value; one chapter with no napkin item
_PLAIN = {
    "a.md": """# Roofline

```{napkin}
t = weights_bytes(Llama2_7B, "bf16") / H100.memory.bandwidth
check(t > 1 s, "wrong on purpose")
```

Reading the weights takes {napkin}`t -> ms`, and {claim}`9 ms ~ t` (wrong on purpose).

- the ridge: {napkin}`ridge_point(H100, "bf16")`
- a bad unit: {napkin}`t -> kg`

| part | value |
|------|-------|
| A100 | {napkin}`ridge_point(A100, "bf16")` |
""",
    "b.md": "# Prose\n\nNo napkin math here.\n",
    "c.md": """# Scale

Term
: defined as {napkin}`amdahl(p=0.9, speedup=8) | style=multiplier`.

The ring takes {napkin}`ring_allreduce(size=2 GB, n=8, bandwidth=900 GB/s) -> ms`.
""",
}

#: values that cannot wait (a title, text next to quotes, an admonition's body, a
#: derivation), each in a chapter whose earlier values wait
_EAGER = {
    "d.md": """# Heading

A value first: {napkin}`ridge_point(H100, "bf16")`.

## Ridge {napkin}`ridge_point(A100, "bf16")`

After the title: {napkin}`ridge_point(H100, "fp8")`.
""",
    "e.md": """# Quotes

First {napkin}`ridge_point(H100, "bf16")` then "{napkin}`ridge_point(A100, "bf16")`" quoted.
""",
    "f.md": """# Notes

Plain {napkin}`ridge_point(H100, "bf16")` first.

:::{note}
Inside a note: {napkin}`ridge_point(A100, "bf16")`, and
{claim}`1 FLOP/B ~ ridge_point(A100, "bf16")`.
:::

```{napkin-eq} amdahl(p=0.95, speedup=247)
```
""",
}


def _book(tmp_path: Path, chapters: dict[str, str]) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(_CONF, encoding="utf-8")
    (src / "probe.py").write_text(_PROBE, encoding="utf-8")
    toc = "\n".join(Path(name).stem for name in chapters)
    (src / "index.md").write_text(f"# Book\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    for name, text in chapters.items():
        (src / name).write_text(text, encoding="utf-8")
    return src


def _build(src: Path, out: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A fresh build whose chapters have no stored record (the registry snapshot kept)."""
    shutil.rmtree(home / "sphinx", ignore_errors=True)
    run_env = {**os.environ, "MLSYSIM_CACHE_HOME": str(home), **env}
    run_env.pop("MLSYSIM_DATA_PATH", None)
    run_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(SPHINX_EXT), run_env.get("PYTHONPATH")])
    )
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", str(src), str(out)]
    return subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600)


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


def _doctrees(out: Path) -> dict[str, str]:
    """Each stored doctree's text form (what a later build reads back)."""
    docs = {}
    for path in sorted((out / ".doctrees").glob("*.doctree")):
        with path.open("rb") as fh:
            docs[path.name] = pickle.load(fh).pformat()
    return docs


def _takes(out: Path) -> list[str]:
    path = out / "takes.txt"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _compare(tmp_path: Path, chapters: dict[str, str]) -> list[str]:
    """The served build equals the in-process one (pages, stored doctrees, log, status and
    the records it stores); the records it took, each while reading or after."""
    src, home = _book(tmp_path, chapters), tmp_path / "cache"
    _build(src, tmp_path / "warm", home, MLSYSIM_WORKER="off")  # the registry snapshot
    base = _build(src, tmp_path / "inproc", home, MLSYSIM_WORKER="off")
    assert base.returncode == 0, base.stderr
    assert "WARNING" in base.stderr
    served = _build(src, tmp_path / "served", home)
    assert served.returncode == base.returncode
    assert served.stderr == base.stderr
    assert _pages(tmp_path / "served") == _pages(tmp_path / "inproc")
    assert _doctrees(tmp_path / "served") == _doctrees(tmp_path / "inproc")
    modules = set((tmp_path / "served" / "modules.txt").read_text(encoding="utf-8").split())
    assert not modules & _ENGINE, "every chapter came from the worker"
    stored = len(list((home / "sphinx").glob("*.pickle")))
    assert stored == sum(1 for text in chapters.values() if "{napkin" in text)
    return _takes(tmp_path / "served")


def test_reading_never_waits_for_the_worker_when_every_value_can_wait(tmp_path: Path) -> None:
    """Every record is taken after reading ended (fails on a host that waits at each
    chapter: it takes the first record while reading, from the first item on)."""
    takes = _compare(tmp_path, _PLAIN)
    assert takes == ["after", "after"], takes


def test_values_that_cannot_wait_resolve_their_chapter_first(tmp_path: Path) -> None:
    """A value in a title, next to a quote, in a note's body or a derivation is evaluated
    where it is read (its chapter and every one waiting before it resolved then): the same
    pages, doctrees and log as an in-process build."""
    takes = _compare(tmp_path, _EAGER)
    assert takes.count("reading") >= 3, takes


#: counts, in Sphinx's process, the data files noted one by one
_COUNT = """import os


def _count(app, *args):
    from sphinx.environment import BuildEnvironment

    seen = app.mlsysim_noted = [0]
    note = BuildEnvironment.note_dependency

    def counting_note(self, filename, **kwargs):
        seen[0] += str(filename).endswith(".toml")
        return note(self, filename, **kwargs)

    BuildEnvironment.note_dependency = counting_note


def _dump(app, exc):
    with open(os.path.join(app.outdir, "noted.txt"), "w") as fh:
        fh.write(str(app.mlsysim_noted[0]))


def setup(app):
    app.connect("config-inited", _count)
    app.connect("build-finished", _dump)
    return {"parallel_read_safe": True}
"""


def test_the_data_files_are_noted_once_per_build_not_per_chapter(tmp_path: Path) -> None:
    """The data files are noted one by one for the build's first chapter and as that set for
    the others (every chapter still depends on every one of them)."""
    from mlsysim.book.fingerprints import data_files

    src, home = _book(tmp_path, _PLAIN), tmp_path / "cache"
    (src / "probe.py").write_text(_COUNT, encoding="utf-8")
    _build(src, tmp_path / "warm", home)
    done = _build(src, tmp_path / "out", home)
    assert done.returncode == 0, done.stderr
    noted = int((tmp_path / "out" / "noted.txt").read_text(encoding="utf-8"))
    assert noted == len(data_files())
    with (tmp_path / "out" / ".doctrees" / "environment.pickle").open("rb") as fh:
        env = pickle.load(fh)
    names = {f.name for f in data_files()}
    for docname in ("a", "c"):
        assert {Path(f).name for f in env.dependencies[docname]} >= names


def test_polling_the_worker_never_waits() -> None:
    """``Reader.poll`` gives what has arrived, "later" for a message still on its way (a
    part of it, or nothing), and says when the pipe closed: it never blocks."""
    from mlsysim.book.pipes import Reader

    receive, send = os.pipe()
    try:
        reader = Reader(receive)
        assert reader.poll() == ("later", None)
        data = pickle.dumps(("record", "k", 1))
        header = len(data).to_bytes(4, "big")
        os.write(send, header + data[:3])
        assert reader.poll() == ("later", None)
        os.write(send, data[3:] + header + data)
        assert reader.poll() == ("ok", ("record", "k", 1))
        assert reader.poll() == ("ok", ("record", "k", 1))
        assert reader.poll() == ("later", None)
        os.close(send)
        send = -1
        assert reader.poll() == ("its pipe closed", None)
    finally:
        os.close(receive)
        if send >= 0:
            os.close(send)
