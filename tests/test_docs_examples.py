"""Documentation examples are fixtures: every ```python block of README.md and the docs runs.

Blocks of one file share a namespace and run in order, like a reader following along. A block
whose first line is ``# not-run: <reason>`` is skipped (and must say why). A comment
``# prints: <text>``, on a line of its own or after the code on a line, states a line the block
prints: the block's output must contain those lines, in order (other comments are prose, not
checked).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the README, the documentation site's pages (docs/), and the host READMEs it includes
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "sphinx_ext" / "mlsysim_sphinx" / "README.md",
    ROOT / "quarto_ext" / "README.md",
]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_CHAPTER = re.compile(r"^````(?P<lang>myst|qmd)\n(?P<body>.*?)^````", re.S | re.M)
_PRINTS = re.compile(r"# prints: (.*)$", re.M)


def _blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
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


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
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


_CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)


def _console_runs(text: str) -> list[tuple[str, list[str]]]:
    """``$ mlsysim …`` commands of console blocks, with the output lines shown after each."""
    runs: list[tuple[str, list[str]]] = []
    for block in _CONSOLE.finditer(text):
        lines = block.group(1).splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line.startswith("$ "):
                continue
            command = line[2:]
            while command.rstrip().endswith("\\") and i < len(lines):
                command = command.rstrip()[:-1] + " " + lines[i].strip()
                i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            runs.append((command.split("  #", 1)[0].strip(), output))
    return runs


def _matches(printed: list[str], expected: list[str]) -> bool:
    """``expected`` lines in order; ``...`` stands for any lines, ``text...`` for a prefix."""
    if not expected:
        return not printed
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(_matches(printed[k:], rest) for k in range(len(printed) + 1))
    if not printed:
        return False
    line = printed[0]
    ok = line.startswith(head[:-3]) if head.endswith("...") else line == head
    return ok and _matches(printed[1:], rest)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_console_outputs_are_exact(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``$ mlsysim …`` command shown with its output prints exactly that output."""
    import shlex

    from mlsysim.cli.main import main

    runs = [(c, out) for c, out in _console_runs(path.read_text()) if c.startswith("mlsysim ")]
    shown = [(c, out) for c, out in runs if out]
    if not shown:
        pytest.skip(f"{path.name} shows no mlsysim output")
    monkeypatch.chdir(ROOT)
    for command, expected in shown:
        main(shlex.split(command)[1:])
        captured = capsys.readouterr()  # a failing command's report is on stderr, after stdout
        printed = captured.out.splitlines() + captured.err.splitlines()
        assert _matches(printed, expected), (command, printed[:40])


def test_the_quarto_extension_is_laid_out_for_quarto_add() -> None:
    """``quarto add …/quarto_ext`` installs ``_extensions/mlsysim/``: the fields Quarto's
    extension format documents, and the files they name."""
    import yaml

    ext = ROOT / "quarto_ext" / "_extensions" / "mlsysim"
    meta = yaml.safe_load((ext / "_extension.yml").read_text())
    assert set(meta) <= {"title", "author", "version", "quarto-required", "contributes"}
    assert meta["title"] and meta["author"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(meta["version"]))
    assert re.fullmatch(r">=\s*\d+\.\d+(\.\d+)?", str(meta["quarto-required"]))
    contributes = meta["contributes"]
    assert set(contributes) <= {"shortcodes", "filters", "formats", "metadata", "project"}
    files = list(contributes.get("shortcodes", []))
    for f in contributes["filters"]:
        files.append(f["path"] if isinstance(f, dict) else f)
        if isinstance(f, dict):
            assert f.get("at") in (None, "pre-ast", "post-ast", "pre-quarto", "post-quarto")
    assert files and all((ext / f).is_file() for f in files)


def test_no_doc_tells_readers_to_install_pypis_other_mlsysim() -> None:
    docs = [*DOCS, ROOT / "quarto_ext" / "README.md", ROOT / "sphinx_ext" / "mlsysim_sphinx"]
    for path in docs:
        for f in [path] if path.is_file() else sorted(path.glob("*.md")):
            for block in re.finditer(
                r"^```(?:sh|console|bash)\n(.*?)^```", f.read_text(), re.S | re.M
            ):
                for line in block.group(1).splitlines():
                    words = line.split("#", 1)[0].split()
                    if words[:2] == ["pip", "install"]:
                        assert "mlsysim" not in words[2:], f"{f.name}: {line}"
