"""A fresh Sphinx build of unchanged chapters replays their stored results
(``mlsysim_sphinx.replay``): the same pages and the same failures, without the engine; any
change a result depends on (the chapter, another chapter's shared name, the values file)
evaluates the chapter again. Counted (modules imported, records kept), never timed."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from test_sphinx_book import BROKEN, SPHINX_EXT, expected_failures, summary_locations

DATA = Path(__file__).parent / "data" / "shared" / "sphinx"

_DUMP = """import sys

def _dump(app, exc):
    with open(app.outdir + "/modules.txt", "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))

def setup(app):
    app.connect("build-finished", _dump)
    return {"parallel_read_safe": True}
"""

_CHAPTER = """# Decode

```{napkin}
t_token = weights_bytes(Llama2_7B, "bf16") / H100.memory.bandwidth
check(t_token > 1 ms, "decode streams every weight")
```

A token takes {napkin}`t_token -> ms`; the ridge is {napkin}`ridge_point(H100, "bf16")`.
The author says {claim}`900 FLOP/B ~ ridge_point(H100, "bf16")` (wrong on purpose).

```{napkin-eq} amdahl(p=0.95, speedup=247)
```
"""


def _build(src: Path, out: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLSYSIM_CACHE_HOME": str(home)}
    env.pop("MLSYSIM_DATA_PATH", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SPHINX_EXT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", *args, "-b", "html", str(src), str(out)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


def _records(home: Path) -> list[Path]:
    return sorted((home / "sphinx").glob("*.pickle"))


def test_an_unchanged_chapter_replays_its_results_without_the_engine(tmp_path: Path) -> None:
    """The second fresh build imports neither pint, numpy nor pydantic, and writes the same
    pages and reports the same failures (a claim that fails, in warn mode) as the first."""
    src = tmp_path / "src"
    src.mkdir()
    conf = "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n"
    conf += 'extensions = ["myst_parser", "mlsysim_sphinx", "dump_modules"]\n'
    conf += 'mlsysim_fail_mode = "warn"\n'
    (src / "conf.py").write_text(conf, encoding="utf-8")
    (src / "dump_modules.py").write_text(_DUMP, encoding="utf-8")
    (src / "index.md").write_text(_CHAPTER, encoding="utf-8")
    home = tmp_path / "cache"
    first = _build(src, tmp_path / "out1", home)
    assert first.returncode == 0, first.stderr
    assert len(_records(home)) == 1
    second = _build(src, tmp_path / "out2", home)
    assert second.returncode == 0, second.stderr
    modules = set((tmp_path / "out2" / "modules.txt").read_text(encoding="utf-8").split())
    assert not modules & {"pint", "numpy", "pydantic", "mlsysim.core.units"}
    assert "mlsysim.core.units" in (tmp_path / "out1" / "modules.txt").read_text()
    assert _pages(tmp_path / "out1") == _pages(tmp_path / "out2")
    assert "ridge_point" in first.stderr and "900" in first.stderr
    assert second.stderr == first.stderr


def test_a_record_that_does_not_fit_its_items_is_evaluated_again(tmp_path: Path) -> None:
    """A stored record whose items differ from the chapter's (as when another extension
    rewrites a role) is not trusted: the engine evaluates the chapter from its first item."""
    src = tmp_path / "src"
    shutil.copytree(DATA, src)
    home = tmp_path / "cache"
    first = _build(src, tmp_path / "out1", home)
    assert first.returncode == 0, first.stderr
    records = _records(home)
    assert records
    for path in records:
        record = pickle.loads(path.read_bytes())
        record.steps = [
            replace(s, rendered=replace(s.rendered, html="STALE")) if s.rendered else s
            for s in record.steps
        ]
        if record.steps:  # the first item no longer fits the chapter
            record.steps[0] = replace(record.steps[0], item=("inline", "other", 1))
        path.write_bytes(pickle.dumps(record))
    second = _build(src, tmp_path / "out2", home)
    assert second.returncode == 0, second.stderr
    assert _pages(tmp_path / "out2") == _pages(tmp_path / "out1")


def test_a_changed_shared_name_or_values_file_evaluates_its_readers_again(
    tmp_path: Path,
) -> None:
    """``serving.md`` reads ``bw`` from ``roofline.md`` and ``batch`` from the values file:
    a fresh build after either changes shows the new values (its record no longer fits)."""
    src = tmp_path / "src"
    shutil.copytree(DATA, src)
    home = tmp_path / "cache"
    first = _build(src, tmp_path / "out1", home)
    assert first.returncode == 0, first.stderr
    html = (tmp_path / "out1" / "serving.html").read_text(encoding="utf-8")
    assert "295" in html and "4.18" in html and "32" in html
    roof = src / "roofline.md"
    roof.write_text(roof.read_text(encoding="utf-8").replace("bw = H100", "bw = 2 * H100"))
    second = _build(src, tmp_path / "out2", home)
    assert second.returncode == 0, second.stderr
    html = (tmp_path / "out2" / "serving.html").read_text(encoding="utf-8")
    assert "148" in html and "2.09" in html
    (src / "mlsysim-values.napkin").write_text("batch = 48\n", encoding="utf-8")
    third = _build(src, tmp_path / "out3", home)
    assert third.returncode == 0, third.stderr
    assert "48" in (tmp_path / "out3" / "serving.html").read_text(encoding="utf-8")


def test_no_cache_home_records_nothing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(DATA, src)
    env_home = Path("off")
    done = _build(src, tmp_path / "out", env_home)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "off").exists() and not Path("off").exists()


def test_a_broken_book_replayed_in_parallel_fails_as_it_did(tmp_path: Path) -> None:
    """The broken twin, read by two processes (``-j 2``): the rebuild from stored results
    exits 1 with exactly the expected ``file:line`` list and writes the same pages."""
    src = tmp_path / "src"
    shutil.copytree(BROKEN, src)
    home = tmp_path / "cache"
    first = _build(src, tmp_path / "out1", home, "-j", "2")
    assert _records(home), "its chapters were recorded"
    second = _build(src, tmp_path / "out2", home, "-j", "2")
    assert first.returncode == second.returncode == 1
    assert summary_locations(second.stderr) == summary_locations(first.stderr)
    assert summary_locations(second.stderr) == expected_failures()
    assert _pages(tmp_path / "out2") == _pages(tmp_path / "out1")


def test_a_build_lists_its_stored_records_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Saving a chapter's record lists none of the cache (a book of many chapters with a full
    cache would list and stat it once per chapter); the oldest records go once, at the end of
    the build, down to the records kept."""
    from mlsysim_sphinx import replay

    from mlsysim.core import snapshot

    monkeypatch.setenv("MLSYSIM_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(replay, "_KEEP", 3)
    listed: list[str] = []
    glob = Path.glob

    def counted(self: Path, pattern: str) -> Any:
        listed.append(pattern)
        return glob(self, pattern)

    monkeypatch.setattr(Path, "glob", counted)
    for n in range(5):
        replay.save(f"k{n}", replay.Record())
        os.utime(tmp_path / "sphinx" / f"k{n}.pickle", (n, n))
    assert listed == [] and len(_records(tmp_path)) == 5
    listed.clear()
    replay.prune()
    assert len(listed) == 1
    assert [p.stem for p in _records(tmp_path)] == ["k2", "k3", "k4"]
    assert isinstance(replay.load("k4"), replay.Record) and snapshot.cache_home() == tmp_path
