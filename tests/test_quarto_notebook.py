"""The notebook path: a Quarto `engine: jupyter` chapter with inline `{python}` calls to
``mlsysim.book.napkin`` renders the same values as the filter.

Quarto evaluates inline ``{python} expr`` as a kernel user expression and inserts its
``text/markdown`` output; here the chapter's code cells and inline expressions become an
``.ipynb`` executed with nbclient and ipykernel (kernelspec in a temporary dir pointing at
this interpreter), and each output is compared with the batch engine's rendering of the same
expression.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import BOOK

pytestmark = pytest.mark.slow

CHAPTER = BOOK / "chapters" / "notebook.qmd"
CELL = re.compile(r"^```\{python\}\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`\{python\} (.+?)`", re.S)


def _chapter_parts() -> tuple[list[str], list[str]]:
    text = CHAPTER.read_text()
    cells = [c for c in CELL.findall(text)]
    inline = [" ".join(e.split()) for e in INLINE.findall(text)]
    return cells, inline


def _execute(tmp: Path, cells: list[str], inline: list[str], kernel: str) -> list[dict[str, Any]]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.cells += [nbformat.v4.new_code_cell(e) for e in inline]
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(tmp)}}
    )
    client.execute()
    outputs = []
    for cell in nb.cells[len(cells) :]:
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert len(results) == 1, cell.outputs
        outputs.append(dict(results[0].data))
    return outputs


def _napkin_call(expression: str) -> tuple[str, dict[str, Any]]:
    """The expression text and keyword options of ``napkin("...", k=v)`` (literal args)."""
    call = ast.parse(expression, mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    assert call.func.id == "napkin"
    text = ast.literal_eval(call.args[0])
    options = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    return text, options


def _batch(tmp: Path, inline: list[str]) -> list[dict[str, Any]]:
    items = []
    for i, expression in enumerate(inline, 1):
        text, options = _napkin_call(expression)
        attrs = {k.replace("_", "-"): str(v) for k, v in options.items()}
        items.append({"id": str(i), "kind": "inline", "text": text, "attrs": attrs, "line": i})
    request = {"version": 1, "file": "notebook.qmd", "format": "html", "options": {},
               "source": "\n".join(inline), "items": items}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "mlsysim", "batch"],
        input=json.dumps(request),
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    )
    response = json.loads(proc.stdout)
    assert response["failures"] == []
    results: list[dict[str, Any]] = response["results"]
    return results


def test_notebook_chapter_renders_the_filter_values(tmp_path: Path, jupyter_kernel: str) -> None:
    cells, inline = _chapter_parts()
    assert len(inline) == 4 and all(e.startswith("napkin(") for e in inline)
    outputs = _execute(tmp_path, cells, inline, jupyter_kernel)
    expected = _batch(tmp_path, inline)
    for out, want in zip(outputs, expected, strict=True):
        assert want["latex"] in out["text/markdown"]
        assert want["text"] in out["text/plain"] or want["latex"] in out["text/plain"]
    # published: H100 989.4 TFLOP/s / 3.35 TB/s, Amdahl 1/(0.05 + 0.95/247)
    assert "295" in outputs[0]["text/markdown"]
    assert "18.6" in outputs[3]["text/markdown"]
