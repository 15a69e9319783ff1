"""How much work a Sphinx build of napkin math does, counted (never timed): every chapter is
scanned once per build (the shared-values pre-pass's scan is the chapter's own), the project's
files are listed once per build, and a value is one text leaf in the doctree (every transform
walks every node). ``benchmarks/bench_sphinx.py`` measures what these counts cost."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from docutils import nodes
from test_sphinx_book import SPHINX_EXT  # (also puts the extension on sys.path)

import mlsysim.book.books as books
import mlsysim.book.sources as sources

_CONF = 'extensions = ["myst_parser", "mlsysim_sphinx"]\nexclude_patterns = ["_build"]\n'
_INDEX = "# Book\n\n```{toctree}\nroofline\nserving\nquotes\n```\n"
_ROOFLINE = """# Roofline

```{napkin}
bw = H100.memory.bandwidth
```

The H100 streams {napkin}`bw -> TB/s` and its ridge point is {napkin}`ridge_point(H100, "bf16")`.
"""
_SERVING = """# Serving

Decoding the Llama 2 7B weights takes {napkin}`weights_bytes(Llama2_7B, "bf16") / bw -> ms`.
"""
_QUOTES = """Quotes
======

The "HBM" of the H100 moves :napkin:`H100.memory.bandwidth` -- "fast".
"""


def _book(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    (src / "conf.py").write_text(_CONF, encoding="utf-8")
    for name, text in [
        ("index.md", _INDEX),
        ("roofline.md", _ROOFLINE),
        ("serving.md", _SERVING),
        ("quotes.rst", _QUOTES),
    ]:
        (src / name).write_text(text, encoding="utf-8")
    return src


def _app(src: Path, tmp: Path) -> Any:
    from sphinx.testing.util import SphinxTestApp

    return SphinxTestApp("html", srcdir=src, builddir=tmp / "build", freshenv=True)


def _html(app: Any, page: str) -> str:
    return (Path(app.outdir) / f"{page}.html").read_text(encoding="utf-8")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Scans (by file name) and listings of the project's files, as they happen."""
    seen: Counter[str] = Counter()
    scan, listing = sources.scan_source, books._project_files

    def counting_scan(file: str, *args: Any, **kwargs: Any) -> Any:
        seen[Path(file).name] += 1
        return scan(file, *args, **kwargs)

    def counting_listing(project: Any) -> Any:
        seen["<project files>"] += 1
        return listing(project)

    monkeypatch.setattr(sources, "scan_source", counting_scan)
    monkeypatch.setattr(books, "_project_files", counting_listing)
    return seen


def test_a_build_scans_each_chapter_once_and_lists_the_project_once(
    tmp_path: Path, counted: Counter[str]
) -> None:
    app = _app(_book(tmp_path), tmp_path)
    try:
        app.build()
        assert app.statuscode == 0, app.warning.getvalue()
        assert "4.02\u202fms" in _html(app, "serving"), "the shared value still reaches serving"
        # the pre-pass's scan is each chapter's own; roofline is read before serving needs its
        # ``bw``, and a chapter's scan is not kept past its own reading: one scan more for it
        chapters = ["index.md", "quotes.rst", "roofline.md", "serving.md"]
        assert [counted[name] for name in chapters] == [1, 1, 2, 1]
        assert counted["<project files>"] == 1
    finally:
        app.cleanup()


def test_a_second_build_in_the_same_process_sees_the_changed_definition(
    tmp_path: Path, counted: Counter[str]
) -> None:
    """The book is pinned for one build only: the next build reads the edited chapter."""
    src = _book(tmp_path)
    app = _app(src, tmp_path)
    try:
        app.build()
        assert "4.02\u202fms" in _html(app, "serving")
        roof = src / "roofline.md"
        roof.write_text(roof.read_text().replace("bw = H100", "bw = 2 * H100"), encoding="utf-8")
        app.build()
        assert app.statuscode == 0, app.warning.getvalue()
        assert "2.01\u202fms" in _html(app, "serving"), "serving was re-read with the new bw"
        assert counted["<project files>"] == 2  # once per build
    finally:
        app.cleanup()


def test_a_value_is_one_text_leaf_that_keeps_its_forms(tmp_path: Path) -> None:
    from mlsysim_sphinx.render import napkin_value

    app = _app(_book(tmp_path), tmp_path)
    try:
        app.build()
        tree = app.env.get_doctree("roofline")  # read back from its pickle
        values = list(tree.findall(napkin_value))
        assert len(values) == 2
        paragraph = values[0].parent
        assert [type(c).__name__ for c in paragraph.children] == [
            "Text",
            "napkin_value",
            "Text",
            "napkin_value",
            "Text",
        ]
        assert isinstance(values[0], nodes.Text) and values[0].html
        assert '<span class="napkin">3.35\u202fTB/s</span>' in _html(app, "roofline")
        # smart quotes (reStructuredText) educate the author's quotes and keep the value
        quotes = _html(app, "quotes")
        assert "\u201cHBM\u201d" in quotes and "\u201cfast\u201d" in quotes
        assert '<span class="napkin">3.35\u202fTB/s</span>' in quotes
    finally:
        app.cleanup()


def test_copies_and_trims_of_a_value_keep_its_forms() -> None:
    from mlsysim_sphinx.render import napkin_value, value_node

    from mlsysim.viz.rendered import Rendered

    shown = Rendered(text="3 ms", latex=r"3\,\mathrm{ms}", html="3&#8239;ms", markdown="$3$")
    node = value_node("{napkin}`x`", shown, failed=True)
    paragraph = nodes.paragraph("", "", node)
    for copy in (
        node.copy(),
        node.deepcopy(),
        node.rstrip(),
        node.lstrip(),
        paragraph.deepcopy()[0],
    ):
        assert isinstance(copy, napkin_value)
        assert (copy.html, copy.latex, copy.failed, str(copy)) == (
            "3&#8239;ms",
            node.latex,
            True,
            "3 ms",
        )
    back = pickle.loads(pickle.dumps(paragraph))[0]
    assert isinstance(back, napkin_value) and back.html == node.html and back.failed


def test_an_incremental_build_scans_only_the_changed_chapter(
    tmp_path: Path, counted: Counter[str]
) -> None:
    """The names each unchanged chapter binds come from the environment; a changed chapter is
    scanned (once) and its moved definition still re-reads the chapter that uses it."""
    src = _book(tmp_path)
    app = _app(src, tmp_path)
    try:
        app.build()
        counted.clear()
        from sphinx.testing.util import SphinxTestApp

        roof = src / "roofline.md"
        roof.write_text(roof.read_text().replace("bw = H100", "\nbw = 2 * H100"), encoding="utf-8")
        again = SphinxTestApp("html", srcdir=src, builddir=tmp_path / "build")  # incremental
        try:
            again.build()
            assert again.statuscode == 0, again.warning.getvalue()
            assert "2.01\u202fms" in _html(again, "serving")
            scanned = {name: n for name, n in counted.items() if not name.startswith("<")}
            # the pre-pass scans roofline only; serving, re-read because its ``bw`` moved, is
            # scanned when read; roofline once more for serving's ``bw`` (as in a fresh build)
            assert scanned == {"roofline.md": 2, "serving.md": 1}
        finally:
            again.cleanup()
    finally:
        app.cleanup()


def test_a_build_lists_the_data_files_once_not_once_per_chapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chapter depends on every registry data file; the files are listed for the build
    (and by the snapshot check), not again for each of the chapters."""
    from mlsysim.core.registry import data_dirs

    listed: Counter[Path] = Counter()
    rglob = Path.rglob

    def counting_rglob(self: Path, pattern: str, *args: Any, **kwargs: Any) -> Any:
        if pattern == "*.toml":
            listed[self] += 1
        return rglob(self, pattern, *args, **kwargs)

    monkeypatch.setattr(Path, "rglob", counting_rglob)
    app = _app(_book(tmp_path), tmp_path)
    try:
        app.build()
        assert app.statuscode == 0, app.warning.getvalue()
        dirs = [d for d in data_dirs() if d.is_dir()]
        assert dirs and max(listed[d] for d in dirs) <= 2  # 4 documents read
        roofline = app.env.dependencies["roofline"]
        assert {str(f) for d in dirs for f in rglob(d, "*.toml")} <= {str(f) for f in roofline}
    finally:
        app.cleanup()


_DUMP = """import sys


def _dump(app, exc):
    names = sorted(m for m in sys.modules if m.startswith("mlsysim."))
    (app.outdir / "modules.txt").write_text("\\n".join([*names, *sorted(sys.modules)]))


def setup(app):
    app.connect("build-finished", _dump)
    return {"parallel_read_safe": True}
"""


def _modules_of_a_build(
    tmp: Path, chapter: str, jobs: int = 1, *, replayed: bool = False
) -> set[str]:
    """The modules a fresh ``sphinx-build`` process imported for a one-chapter book (the
    registry snapshot warmed by a first build); the chapter's stored results of that first
    build are deleted first, so the engine evaluates it, unless ``replayed``."""
    import os
    import shutil
    import subprocess
    import sys

    src = tmp / "src"
    src.mkdir(parents=True)
    conf = "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n"
    conf += 'extensions = ["myst_parser", "mlsysim_sphinx", "dump_modules"]\n'
    (src / "conf.py").write_text(conf, encoding="utf-8")
    (src / "dump_modules.py").write_text(_DUMP, encoding="utf-8")
    (src / "index.md").write_text(chapter, encoding="utf-8")
    env = {**os.environ, "MLSYSIM_CACHE_HOME": str(tmp / "cache")}
    env.pop("MLSYSIM_DATA_PATH", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SPHINX_EXT), env.get("PYTHONPATH")]))
    # what Sphinx's own process loads when it evaluates (a worker would evaluate instead:
    # tests/test_sphinx_worker.py)
    env["MLSYSIM_WORKER"] = "off"
    for run in range(2):
        if run and not replayed:
            shutil.rmtree(tmp / "cache" / "sphinx")
        out = tmp / f"out{run}"
        cmd = [sys.executable, "-m", "sphinx", "-q", "-E", "-j", str(jobs), "-b", "html"]
        cmd += [str(src), str(out)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
    return set((out / "modules.txt").read_text(encoding="utf-8").split())


def test_a_build_imports_only_the_layers_its_items_read(tmp_path: Path) -> None:
    """Registry entries come from the snapshot kind by kind: a book reading the H100 imports
    the hardware layer's spec classes, never the simulation or systems layers' (nor the
    solvers); a book of unit arithmetic imports no spec class and no pydantic."""
    hardware = _modules_of_a_build(
        tmp_path / "hw", "# HW\n\nIt streams {napkin}`H100.memory.bandwidth -> TB/s`.\n"
    )
    assert "mlsysim.hardware.registry" in hardware and "pydantic" in hardware
    assert not {m for m in hardware if m.startswith(("mlsysim.sim.", "mlsysim.systems."))}
    assert not {m for m in hardware if m.startswith("mlsysim.solvers")}
    units = _modules_of_a_build(
        tmp_path / "units",
        "# Units\n\n```{napkin}\nx = 80 GB\n```\n\nIt takes {napkin}`x / 3.35 TB/s -> ms`.\n",
    )
    assert not {m for m in units if m.endswith(".registry") and m.startswith("mlsysim.")} - {
        "mlsysim.core.registry"
    }
    assert "pydantic" not in units


def test_a_parallel_build_loads_the_registries_before_its_readers_fork(tmp_path: Path) -> None:
    """``-j 2`` readers are forked from the main process: it loads every kind first, so they
    share one copy instead of each loading the layers again."""
    chapter = "# HW\n\nIt streams {napkin}`H100.memory.bandwidth -> TB/s`.\n"
    modules = _modules_of_a_build(tmp_path, chapter, jobs=2)
    assert {"mlsysim.sim.registry", "mlsysim.systems.registry", "pint"} <= modules


def test_a_parallel_build_that_replays_every_chapter_loads_no_registry(tmp_path: Path) -> None:
    """When every document to read has a stored record, no reader starts the engine: the
    main process of ``-j 2`` loads neither pint nor a layer before forking."""
    chapter = "# HW\n\nIt streams {napkin}`H100.memory.bandwidth -> TB/s`.\n"
    modules = _modules_of_a_build(tmp_path, chapter, jobs=2, replayed=True)
    assert not modules & {"pint", "pydantic", "mlsysim.hardware.registry", "mlsysim.sim.registry"}
