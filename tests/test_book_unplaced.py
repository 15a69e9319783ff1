"""An item the filter receives but the chapter does not hold as written (printed by a code
cell, made by a shortcode such as ``{{< meta >}}``): ``mlsysim check`` cannot see it, and its
failure was reported at the previous item's line without a column. It is placed at the item
before it (line and column), and says why there and what to do.

The stand-in for a cell's output is a Lua filter run before the extension that adds an
inline napkin element to the document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "quarto_shim"))
from harness import WITH_SHIM, pandoc_path

pytestmark = pytest.mark.slow

_PRINTED = """
function Pandoc(doc)
  doc.blocks:insert(pandoc.Para({ pandoc.Str("Printed:"), pandoc.Space(),
    pandoc.Code("1 + H10.tdp", pandoc.Attr("", { "napkin" })) }))
  return doc
end
"""


@pytest.mark.parametrize("project", [False, True])
def test_an_item_not_in_the_source_is_placed_and_says_why(tmp_path: Path, project: bool) -> None:
    (tmp_path / "printed.lua").write_text(_PRINTED, encoding="utf-8")
    (tmp_path / "ch.qmd").write_text(
        "# C\n\nFirst `H100.tdp`{.napkin} here.\n\n  Then `2 * H100.tdp`{.napkin}.\n",
        encoding="utf-8",
    )
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_FAIL_MODE": "warn"}
    env.pop("QUARTO_PROJECT_DIR", None)
    env["MLSYSIM_CACHE_DIR"] = str(tmp_path / "cache")
    if project:
        (tmp_path / "_quarto.yml").write_text("project:\n  type: default\n", encoding="utf-8")
        env["QUARTO_PROJECT_DIR"] = str(tmp_path)
    args = [pandoc_path(), "-f", "markdown", "-L", "printed.lua", "-L", str(WITH_SHIM)]
    args += ["-t", "html", "ch.qmd", "-o", os.devnull]
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    found = re.findall(r"^(\S+?):(\d+):(\d+): warning\[mlsysim\.error\]: (.*)$", proc.stderr, re.M)
    assert found == [("ch.qmd", "5", "9", "no name 'H10'; did you mean H100, H200, hfu?")]
    assert "not in the source as written" in proc.stderr and "item before it" in proc.stderr
