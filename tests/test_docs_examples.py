"""Documentation examples are fixtures: every ```python block in README.md and docs/*.md runs.

Blocks of one file share a namespace and run in order, like a reader following along. A block
whose first line is ``# not-run: <reason>`` is skipped (and must say why). A comment line
``# prints: <text>`` states a line the block prints: the block's output must contain those lines,
in order (other comments are prose, not checked).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_CHAPTER = re.compile(r"^````(?P<lang>myst|qmd)\n(?P<body>.*?)^````", re.S | re.M)
_PRINTS = re.compile(r"^\s*# prints: (.*)$", re.M)


def _blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlsysim.core.registry as reg

    blocks = _blocks(path)
    if not blocks:
        pytest.skip(f"{path.name} has no python blocks")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLSYSIM_DATA_PATH", raising=False)
    ns: dict[str, object] = {"__name__": "__docs__"}
    try:
        for line, code in blocks:
            if code.startswith("# not-run:"):
                continue
            compiled = compile(code, f"{path.name}:{line}", "exec")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compiled, ns)
            printed = [s.strip() for s in out.getvalue().splitlines()]
            expected = [e.strip() for e in _PRINTS.findall(code)]
            remaining = iter(printed)
            for want in expected:
                assert any(got == want for got in remaining), (
                    f"{path.name}:{line}: the block should print {want!r}; it printed {printed}"
                )
    finally:
        reg._extra_dirs.clear()
        os.environ.pop("MLSYSIM_DATA_PATH", None)
        reg.reset()


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_chapter_snippets_check_clean(path: Path, tmp_path: Path) -> None:
    """Every ````myst / ````qmd chapter snippet passes `mlsysim check` with no failure."""
    from mlsysim.book import Options, check_paths

    snippets = list(_CHAPTER.finditer(path.read_text(encoding="utf-8")))
    if not snippets:
        pytest.skip(f"{path.name} has no chapter snippets")
    files = []
    for i, m in enumerate(snippets):
        suffix = ".md" if m["lang"] == "myst" else ".qmd"
        f = tmp_path / f"snippet{i}{suffix}"
        f.write_text(m["body"], encoding="utf-8")
        files.append(f)
    checked, failures = check_paths(files, Options())
    assert checked >= 2 * len(files)
    assert failures == [], [f.headline() for f in failures]
