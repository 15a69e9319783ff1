"""Documentation examples are fixtures: every ```python block in README.md and docs/*.md runs.

Blocks of one file share a namespace and run in order, like a reader following along. A block
whose first line is ``# not-run: <reason>`` is skipped (and must say why).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


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
            exec(compiled, ns)  # noqa: S102 - running our own documentation, by design
    finally:
        reg._extra_dirs.clear()
        os.environ.pop("MLSYSIM_DATA_PATH", None)
        reg.reset()
