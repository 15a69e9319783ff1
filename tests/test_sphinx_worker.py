"""A book's first Sphinx build takes its chapters' results from a worker that evaluated them
while Sphinx started up (a fork, ``mlsysim.book.ahead``, wired by ``mlsysim_sphinx.worker``): the
same pages, failures and exit status as an in-process build, without the engine in Sphinx's
process; a worker that dies, stalls or declines costs only speed. Counted (modules imported,
processes alive, records kept), never timed."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_sphinx_book import BROKEN, SPHINX_EXT, expected_failures, summary_locations
from test_sphinx_replay import DATA

from mlsysim.book.ahead import Ahead
from mlsysim.book.records import Chapter, evaluate
from mlsysim.book.sources import scan_source
from mlsysim.book.sources.project import chapter_options

_ENGINE = {"pint", "numpy", "pydantic", "mlsysim.core.units"}

#: an extension that writes the modules Sphinx's process imported, and, at ``ACTION``, does
#: something to the build's worker (its pid is kept in ``worker.pid``)
_PROBE = """import os, signal, sys

ACTION = os.environ.get("PROBE_ACTION", "")


def _act(app, *args):
    from mlsysim_sphinx import worker

    ahead = worker.current()
    if ahead is None:
        return
    with open(os.path.join(app.outdir, "worker.pid"), "w") as fh:
        fh.write(str(ahead.pid))
    if ACTION == "kill":
        os.kill(ahead.pid, signal.SIGKILL)
    elif ACTION == "stop":
        import mlsysim.book.ahead as ahead_module

        ahead_module.SILENCE = 1.0
        os.kill(ahead.pid, signal.SIGSTOP)


def _rewrite(app, docname, source):
    # another extension changes what Sphinx parses (not the file the chapters are read from)
    if ACTION == "rewrite":
        source[0] = source[0].replace("{napkin}`ridge`", "{napkin}`2 * ridge`")


def _dump(app, exc):
    with open(os.path.join(app.outdir, "modules.txt"), "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))


def setup(app):
    app.connect("env-before-read-docs", _act, priority=900)  # after the worker has its jobs
    app.connect("source-read", _rewrite)
    app.connect("build-finished", _dump)
    return {"parallel_read_safe": True}
"""


def _book(tmp_path: Path, source: Path = DATA) -> Path:
    src = tmp_path / "src"
    shutil.copytree(source, src)
    conf = src / "conf.py"
    text = conf.read_text(encoding="utf-8")
    text = "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n" + text
    text = text.replace('"mlsysim_sphinx"', '"mlsysim_sphinx", "probe"')
    assert '"probe"' in text
    conf.write_text(text, encoding="utf-8")
    (src / "probe.py").write_text(_PROBE, encoding="utf-8")
    return src


def _build(
    src: Path, out: Path, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """A fresh build whose chapters have no stored record (the registry snapshot kept)."""
    shutil.rmtree(home / "sphinx", ignore_errors=True)
    return _build_kept(src, out, home, *args, **env)


def _build_kept(
    src: Path, out: Path, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """A fresh build (``-E``) with the stored records kept."""
    run_env = {**os.environ, "MLSYSIM_CACHE_HOME": str(home), **env}
    run_env.pop("MLSYSIM_DATA_PATH", None)
    run_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(SPHINX_EXT), run_env.get("PYTHONPATH")])
    )
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", *args, "-b", "html", str(src), str(out)]
    return subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600)


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


def _modules(out: Path) -> set[str]:
    return set((out / "modules.txt").read_text(encoding="utf-8").split())


def _gone(out: Path) -> bool:
    """The worker of the build that wrote ``out`` no longer runs (reaped, not orphaned)."""
    pid = int((out / "worker.pid").read_text(encoding="utf-8"))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _in_process(
    tmp_path: Path, src: Path, home: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    _build(src, tmp_path / "warm", home)  # the registry snapshot, made once
    return _build(src, tmp_path / "inproc", home, MLSYSIM_WORKER="off", **env)


def _without_values(src: Path) -> Path:
    """The shared-names book without its values file (which Sphinx's process evaluates
    itself, before reading): each chapter reads a name the other defines."""
    (src / "mlsysim-values.napkin").unlink()
    serving = src / "serving.md"
    text = serving.read_text(encoding="utf-8").replace("{napkin}`batch`", "{napkin}`2 * ridge`")
    serving.write_text(text, encoding="utf-8")
    return src


def test_the_worker_serves_a_first_build_without_the_engine_in_sphinx(tmp_path: Path) -> None:
    """Every chapter of the shared-names book (each reads a name the other defines) comes
    from the worker: Sphinx's process imports neither pint, numpy nor pydantic, and writes
    the pages, log and exit status of an in-process build; the records it stores replay in
    the next build. (A values file is evaluated by Sphinx's process itself, before reading:
    this book has none.)"""
    src, home = _without_values(_book(tmp_path)), tmp_path / "cache"
    base = _in_process(tmp_path, src, home)
    assert base.returncode == 0, base.stderr
    assert _modules(tmp_path / "inproc") >= _ENGINE
    served = _build(src, tmp_path / "served", home)
    assert served.returncode == 0, served.stderr
    assert not _modules(tmp_path / "served") & _ENGINE
    assert _pages(tmp_path / "served") == _pages(tmp_path / "inproc")
    assert served.stderr == base.stderr
    assert _gone(tmp_path / "served")
    assert len(list((home / "sphinx").glob("*.pickle"))) == 2, "the chapters with items: stored"
    again = _build_kept(src, tmp_path / "again", home)
    assert again.returncode == 0 and again.stderr == base.stderr
    assert _pages(tmp_path / "again") == _pages(tmp_path / "inproc")
    assert not (tmp_path / "again" / "worker.pid").exists(), "all replayed: no worker left"


@pytest.mark.parametrize("action", ["kill", "stop"])
def test_a_killed_or_stalled_worker_falls_back_in_process(tmp_path: Path, action: str) -> None:
    """The broken twin (failures in every syntax, tables evaluated in-process) with its
    worker killed, or stopped (a bounded wait, then killed), once its chapters were sent:
    every chapter is evaluated in Sphinx's process with the same failures, pages and exit
    status, and the worker is reaped."""
    src, home = _book(tmp_path, BROKEN), tmp_path / "cache"
    base = _in_process(tmp_path, src, home)
    assert base.returncode == 1
    assert summary_locations(base.stderr) == expected_failures()
    broken = _build(src, tmp_path / "broken", home, PROBE_ACTION=action)
    assert broken.returncode == 1
    assert broken.stderr == base.stderr
    assert _pages(tmp_path / "broken") == _pages(tmp_path / "inproc")
    assert _modules(tmp_path / "broken") >= _ENGINE
    assert _gone(tmp_path / "broken")


def test_a_worker_record_that_does_not_fit_what_sphinx_parses_gives_way(tmp_path: Path) -> None:
    """Another extension rewrites a role in what Sphinx parses (the chapters are read from
    their files): the worker's record of that chapter no longer fits its items, and Sphinx's
    process evaluates it, as an in-process build does."""
    src, home = _without_values(_book(tmp_path)), tmp_path / "cache"
    base = _in_process(tmp_path, src, home, PROBE_ACTION="rewrite")
    assert base.returncode == 0, base.stderr
    served = _build(src, tmp_path / "served", home, PROBE_ACTION="rewrite")
    assert served.returncode == 0, served.stderr
    assert served.stderr == base.stderr
    assert _pages(tmp_path / "served") == _pages(tmp_path / "inproc")
    assert 'Ridge <span class="napkin">591' in _pages(tmp_path / "served")["roofline.html"]
    assert _modules(tmp_path / "served") >= _ENGINE
    assert _gone(tmp_path / "served")


def test_a_parallel_build_starts_no_worker(tmp_path: Path) -> None:
    src, home = _book(tmp_path), tmp_path / "cache"
    done = _build(src, tmp_path / "out", home, "-j", "2")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "out" / "worker.pid").exists()


def _chapter(tmp_path: Path, text: str) -> Chapter:
    path = tmp_path / "ch.md"
    path.write_text(text, encoding="utf-8")
    options = chapter_options(path, text, None)
    items = scan_source(str(path), text, "myst", root=tmp_path).items
    return Chapter("ch.md", str(path), options, text, items, items)


_TEXT = """# Ch

```{napkin}
t_read = weights_bytes(Llama2_7B, "bf16") / H100.memory.bandwidth
```

{napkin}`t_read -> ms`, and {claim}`9 ms ~ t_read` (wrong on purpose).
"""


def test_a_worker_record_is_the_in_process_record(tmp_path: Path) -> None:
    """What the worker sends for a chapter is what evaluating it here gives; a key not
    submitted is None at once; the worker ends when its jobs are done."""
    chapter = _chapter(tmp_path, _TEXT)
    ahead = Ahead.start()
    assert ahead is not None
    try:
        ahead.configure([])
        ahead.submit([("k1", chapter)], [])
        assert ahead.take("other") is None
        got = ahead.take("k1")
        assert got is not None and ahead.failed is None
        assert got == evaluate(chapter)
        assert [s.ok for s in got.steps] == [True, True, False]
    finally:
        ahead.close()
    assert not ahead.running


def test_a_worker_of_other_code_declines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker whose code, data or kinds differ from the host's evaluates nothing."""
    import mlsysim.book.ahead as ahead_module

    ahead = Ahead.start()
    assert ahead is not None
    # the host's code changes after the fork (the worker keeps its own)
    monkeypatch.setattr(ahead_module, "facts", lambda extra: ("another checkout",))
    ahead.configure([])
    ahead.submit([("k1", _chapter(tmp_path, _TEXT))], [])
    assert ahead.take("k1") is None
    assert ahead.failed is not None and "declined" in ahead.failed
    assert not ahead.running  # given up: killed and reaped


def test_workers_are_off_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSYSIM_WORKER", "off")
    assert Ahead.start() is None


def test_an_incremental_build_follows_a_changed_fail_mode_variable(tmp_path: Path) -> None:
    """``MLSYSIM_FAIL_MODE`` overrides every chapter's fail mode: an incremental build (no
    ``-E``) after it changes reads the chapters again, so a draft's warnings become errors
    (exit 1) and back, and an unchanged variable re-reads nothing."""
    src = tmp_path / "src"
    shutil.copytree(BROKEN, src)
    out, home = tmp_path / "out", tmp_path / "cache"

    def build(mode: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MLSYSIM_CACHE_HOME": str(home), "MLSYSIM_FAIL_MODE": mode}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SPHINX_EXT), env.get("PYTHONPATH")]))
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", str(src), str(out)]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)

    draft = build("warn")
    assert draft.returncode == 0, draft.stderr
    assert "WARNING: claim" in draft.stderr and "ERROR: claim" not in draft.stderr
    strict = build("error")
    assert strict.returncode == 1
    assert "ERROR: claim" in strict.stderr
    assert summary_locations(strict.stderr) == expected_failures()
    assert "reading sources... [" in strict.stdout
    same = build("error")
    assert same.returncode == 1, "the stored failures still fail the build"
    assert "reading sources... [" not in same.stdout, "nothing changed: nothing re-read"
    again = build("warn")
    assert again.returncode == 0, again.stderr


def test_what_a_build_sends_and_stores_pickles_as_its_fields() -> None:
    """Items, failures, steps and renderings (thousands per book, sent to and from the worker
    and stored) pickle as their fields in order, and come back equal with every field set."""
    import pickle
    from dataclasses import fields

    from mlsysim.book.failures import Failure
    from mlsysim.book.records import Shown, Step
    from mlsysim.book.syntax import Item

    item = Item(
        "claim",
        "9 ms ~ t",
        3,
        7,
        {"tol": "5%"},
        "inc.md",
        (("tol", 4),),
        (("of", 3, 9),),
        ((3, 8),),
    )
    failure = Failure(
        "ch.md",
        3,
        "claim",
        "off",
        "t",
        7,
        "6 ms",
        "9 ms",
        ("t = 6 ms",),
        ("src",),
        "fix it",
        {"severity": "warning"},
    )
    shown = Shown("6 ms", "6\\,ms", "<b>6 ms</b>", "$6$", False)
    step = Step(("claim", "9 ms ~ t", 3, 7, None, ()), False, shown, (failure,), ("src",))
    for obj in (item, failure, shown, step):
        values = tuple(getattr(obj, f.name) for f in fields(obj))
        assert all(v != f.default for v, f in zip(values, fields(obj), strict=True))
        assert obj.__reduce__() == (type(obj), values)
        assert pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) == obj


def test_the_host_never_blocks_sending_a_worker_that_is_still_starting(tmp_path: Path) -> None:
    """A book's chapters larger than the pipe sent to a worker that reads nothing yet (stopped):
    ``submit`` returns at once (what does not fit is written while the host waits for a
    record), and every record then comes as evaluating here gives it."""
    import signal

    text = _TEXT + "".join(
        f"\nLine {i}: {{napkin}}`{i} GB / 3.35 TB/s -> ms`.\n" for i in range(3000)
    )
    folders = [tmp_path / f"c{n}" for n in range(3)]
    for folder in folders:
        folder.mkdir()
    chapters = [(f"k{n}", _chapter(folder, text)) for n, folder in enumerate(folders)]
    ahead = Ahead.start()
    assert ahead is not None
    os.kill(ahead.pid, signal.SIGSTOP)

    def _blocked(*_: object) -> None:
        raise AssertionError("submit blocked on a full pipe")

    old = signal.signal(signal.SIGALRM, _blocked)
    signal.alarm(20)
    try:
        ahead.configure([])
        ahead.submit(chapters, [])
        signal.alarm(0)
        os.kill(ahead.pid, signal.SIGCONT)
        for key, chapter in chapters:
            got = ahead.take(key)
            assert got is not None and ahead.failed is None, ahead.failed
            assert got == evaluate(chapter)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        with contextlib.suppress(ProcessLookupError):
            os.kill(ahead.pid, signal.SIGCONT)
        ahead.close()
    assert not ahead.running


def test_the_worker_takes_the_hosts_scan_of_the_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's chapters read the book the host pinned (its pre-pass, passed with the
    jobs): no chapter of the book is scanned again in the worker, and the records are the
    ones a worker scanning the book itself makes."""
    from mlsysim.book import prepass
    from mlsysim.book.books import project_at
    from mlsysim.book.shared import BookValues
    from mlsysim.book.sources.files import book_files

    src = _without_values(_book(tmp_path))
    chapters = []
    for name in ("roofline.md", "serving.md"):
        path = src / name
        text = path.read_text(encoding="utf-8")
        items = scan_source(str(path), text, "myst", root=src).items
        options = chapter_options(path, text, None)
        chapters.append((name, Chapter(name, str(path), options, text, items, items)))
    project = project_at(src / "conf.py")
    assert project is not None
    # the host's pre-pass (made apart: a book this process holds would be the worker's too)
    book = BookValues(project.root, book_files(project), project.kind)
    assert set(book.known) >= {"roofline.md", "serving.md"}
    log = tmp_path / "scans.txt"
    scan = prepass.PrePass._definitions_of

    def counted(self: Any, label: str, path: Path, state: Any) -> Any:
        with open(log, "a", encoding="utf-8") as fh:  # (in the worker: a file, not a list)
            fh.write(label + "\n")
        return scan(self, label, path, state)

    monkeypatch.setattr(prepass.PrePass, "_definitions_of", counted)
    records = {}
    for known in (book.known, None):
        ahead = Ahead.start()
        assert ahead is not None
        try:
            ahead.configure([])
            ahead.submit(chapters, [], str(src / "conf.py"), known)
            records[known is None] = [ahead.take(key) for key, _ in chapters]
        finally:
            ahead.close()
        scanned = log.read_text(encoding="utf-8").split() if log.exists() else []
        assert len(scanned) == (0 if known is not None else len(book.files)), scanned
        log.unlink(missing_ok=True)
    assert records[False] == records[True]
    assert all(r is not None and r.steps for r in records[False])


@pytest.mark.parametrize("broken", [False, True])
def test_the_worker_evaluates_the_values_file_too(tmp_path: Path, broken: bool) -> None:
    """The shared-names book with its values file (a chapter reads its name): the worker
    evaluates the values file as well, so Sphinx's process never imports the engine, and the
    pages, log (a values file's failure logged before any chapter's) and exit status are an
    in-process build's."""
    src, home = _book(tmp_path), tmp_path / "cache"
    if broken:
        values = src / "mlsysim-values.napkin"
        text = values.read_text(encoding="utf-8") + 'check(batch > 64, "a big batch")\n'
        values.write_text(text, encoding="utf-8")
    base = _in_process(tmp_path, src, home)
    assert base.returncode == (1 if broken else 0), base.stderr
    assert ("mlsysim-values.napkin:3" in base.stderr) is broken
    assert _modules(tmp_path / "inproc") >= _ENGINE
    served = _build(src, tmp_path / "served", home)
    assert served.returncode == base.returncode
    assert served.stderr == base.stderr
    assert not _modules(tmp_path / "served") & _ENGINE
    assert _pages(tmp_path / "served") == _pages(tmp_path / "inproc")
    assert _gone(tmp_path / "served")
