"""`mlsysim check` reads each chapter's own options: _quarto.yml, then front matter, then flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlsysim.book import check_paths
from mlsysim.cli.main import main

CHAPTER = """---
title: Options
mlsysim:
  tolerance: 20%
---

```{.napkin}
ridge = ridge_point(H100, "bf16")
```

About [250 FLOP/B]{.claim of="ridge"}.
"""


def test_front_matter_tolerance_applies(tmp_path: Path) -> None:
    # 250 vs 295 FLOP/B is 15 % off: fails at the default 5 %, passes at the chapter's 20 %.
    (tmp_path / "c.qmd").write_text(CHAPTER)
    checked, failures = check_paths([tmp_path])
    assert checked >= 2 and failures == []
    plain = CHAPTER.replace("mlsysim:\n  tolerance: 20%\n", "")
    (tmp_path / "c.qmd").write_text(plain)
    _, failures = check_paths([tmp_path])
    assert [(f.kind, f.line) for f in failures] == [("claim", 9)]  # two lines fewer


def test_project_file_then_front_matter_then_flags(tmp_path: Path, capsys) -> None:
    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\nmlsysim:\n  tolerance: 20%\n")
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    plain = CHAPTER.replace("mlsysim:\n  tolerance: 20%\n", "")
    (chapters / "c.qmd").write_text(plain)
    assert check_paths([chapters])[1] == []  # the project's 20 % applies
    assert main(["check", str(chapters), "--tolerance", "1%", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["line"] for f in report["failures"]] == [9]


def test_bad_front_matter_option_is_a_located_failure(tmp_path: Path) -> None:
    bad = CHAPTER.replace("tolerance: 20%", "tolerance: lots")
    (tmp_path / "c.qmd").write_text(bad)
    _, failures = check_paths([tmp_path])
    assert failures[0].kind == "error" and failures[0].line == 3
    assert "tolerance" in failures[0].message


def test_quarto_pre_render_input_files(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "c.qmd").write_text(CHAPTER.replace("250 FLOP/B", "100 FLOP/B"))
    monkeypatch.setenv("QUARTO_PROJECT_INPUT_FILES", str(tmp_path / "c.qmd"))
    assert main(["check"]) == 1
    assert "c.qmd:11:8: error[mlsysim.claim]" in capsys.readouterr().out
    monkeypatch.delenv("QUARTO_PROJECT_INPUT_FILES")
    assert main(["check"]) == 2


def test_fail_mode_environment_variable_is_the_same_in_every_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """MLSYSIM_FAIL_MODE=warn builds a draft under the Quarto filter; ``mlsysim check`` and
    Sphinx (both through ``chapter_options``) read it too, below an explicit flag."""
    plain = CHAPTER.replace("mlsysim:\n  tolerance: 20%\n", "")
    (tmp_path / "c.qmd").write_text(plain)
    assert main(["check", str(tmp_path)]) == 1
    monkeypatch.setenv("MLSYSIM_FAIL_MODE", "warn")
    assert main(["check", str(tmp_path)]) == 0
    assert "warning[mlsysim.claim]" in capsys.readouterr().out
    assert main(["check", str(tmp_path), "--fail-mode", "error"]) == 1
    monkeypatch.setenv("MLSYSIM_FAIL_MODE", "loud")
    capsys.readouterr()
    assert main(["check", str(tmp_path)]) == 1
    assert "MLSYSIM_FAIL_MODE='loud' is invalid" in capsys.readouterr().out
