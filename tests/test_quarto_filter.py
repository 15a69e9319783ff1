"""The Quarto/pandoc filter: rendered values, failures with file:line, one process per
document, cache hits, warn mode, plain pandoc without Quarto, concatenated books.

Values are checked against datasheet arithmetic (NVIDIA H100/A100 datasheets, Llama 2 paper
parameter count), not against our own output; golden files pin the full HTML on top of that
(refresh with ``MLSYSIM_UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import (
    BOOK,
    BROKEN,
    FILTER,
    copy_book,
    expected_failures,
    failure_locations,
    merged_book,
    pandoc_path,
    render,
)

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden" / "quarto"
CHAPTERS = [
    "index.qmd",
    "chapters/roofline.qmd",
    "chapters/serving.qmd",
    "chapters/scale.qmd",
    "chapters/simulations.qmd",
]
BROKEN_CHAPTERS = [
    "index.qmd",
    "chapters/roofline.qmd",
    "chapters/serving.qmd",
    "chapters/simulations.qmd",
]

# H100 SXM: 989.4 TFLOP/s dense BF16, 3.35 TB/s -> 295 FLOP/B; A100: 312 / 2.039 -> 153.
# Llama 2 7B (6.74e9 params, Touvron et al. 2023) in BF16 = 13.5 GB; / 3.35 TB/s = 4.02 ms.
# Amdahl 1/((1-0.95)+0.95/247) = 18.6. Ring all-reduce 2*(8-1)/8 * 13.5 GB / 450 GB/s
# = 52.4 ms (Thakur et al. 2005); 8 x 700 W x 24 h = 134 kWh. Doorbells (Espressif ESP32-S3
# currents x 3.3 V: 126 mW active, 3.07 mW idle): 1e7 x 3.078 mW x 8,760 h = 270 MWh a year.
PUBLISHED = {
    "chapters/roofline.qmd": ["295", "153"],
    "chapters/serving.qmd": ["4.02", "18.6"],
    "chapters/scale.qmd": ["52.4", "134"],
    "chapters/simulations.qmd": ["270"],
}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_book(BOOK, tmp_path_factory.mktemp("quarto") / "book")


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_book(BROKEN, tmp_path_factory.mktemp("quarto") / "broken")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_sample_chapter_matches_golden(book: Path, chapter: str) -> None:
    r = render(book / chapter, cwd=book, metadata_file=book / "_quarto.yml")
    assert r.returncode == 0, r.stderr
    assert len(r.calls) == 1, "one Python process per document"
    for number in PUBLISHED.get(chapter, []):
        assert number in r.stdout, f"{number} missing from {chapter}"
    assert "napkin" not in r.stdout.replace("napkin-source", ""), "unprocessed napkin element"
    golden = GOLDEN / (Path(chapter).stem + ".html")
    if os.environ.get("MLSYSIM_UPDATE_GOLDEN"):
        golden.write_text(r.stdout)
    assert r.stdout == golden.read_text(), f"{golden} differs; refresh: MLSYSIM_UPDATE_GOLDEN=1"


def test_broken_twin_lists_every_failure_and_exits_non_zero(broken: Path) -> None:
    found = []
    for chapter in BROKEN_CHAPTERS:
        r = render(broken / chapter, cwd=broken, metadata_file=broken / "_quarto.yml")
        assert r.returncode == 1, f"{chapter} rendered despite wrong claims:\n{r.stderr}"
        assert len(r.calls) == 1
        found += failure_locations(r.stderr)
    assert found == expected_failures()


def test_concatenated_book_sends_one_batch_with_chapter_files(broken: Path) -> None:
    merged = merged_book(broken, BROKEN_CHAPTERS)
    r = render(merged, cwd=broken, metadata_file=broken / "_quarto.yml", to="latex")
    assert r.returncode == 1
    assert len(r.calls) == 1, "a whole concatenated book is still one batch"
    request = r.calls[0][0]
    files = [item.get("file") for item in request["items"]]
    assert files[0] == "index.qmd" and set(files) == set(BROKEN_CHAPTERS)
    assert [f.split(":")[0] for f in failure_locations(r.stderr)] == [
        f.split(":")[0] for f in expected_failures()
    ]


def test_concatenated_book_maps_failures_to_chapter_lines(broken: Path) -> None:
    merged = merged_book(broken, BROKEN_CHAPTERS)
    r = render(merged, cwd=broken, metadata_file=broken / "_quarto.yml", to="latex")
    assert failure_locations(r.stderr) == expected_failures()


def test_warn_mode_prints_failures_and_renders(broken: Path) -> None:
    r = render(
        broken / "chapters/serving.qmd",
        cwd=broken,
        metadata_file=broken / "_quarto.yml",
        env={"MLSYSIM_FAIL_MODE": "warn"},
    )
    assert r.returncode == 0, r.stderr
    assert failure_locations(r.stderr, "warning") == [
        x for x in expected_failures() if x.startswith("chapters/serving.qmd")
    ]
    assert "mlsysim-failed" in r.stdout


def test_warn_mode_from_metadata(broken: Path, tmp_path: Path) -> None:
    meta = tmp_path / "warn.yml"
    meta.write_text("mlsysim:\n  fail-mode: warn\n")
    r = render(broken / "index.qmd", cwd=broken, metadata_file=meta)
    assert r.returncode == 0, r.stderr
    assert failure_locations(r.stderr, "warning") == ["index.qmd:7"]


def test_unchanged_document_hits_the_cache(book: Path) -> None:
    first = render(book / "chapters/serving.qmd", cwd=book, metadata_file=book / "_quarto.yml")
    second = render(book / "chapters/serving.qmd", cwd=book, metadata_file=book / "_quarto.yml")
    assert first.returncode == second.returncode == 0
    assert second.calls[0][1]["cached"] is True
    assert first.stdout == second.stdout


def test_document_without_napkin_math_starts_no_python(tmp_path: Path) -> None:
    doc = tmp_path / "plain.md"
    doc.write_text("# Nothing here\n\nJust prose and `code`.\n")
    r = render(doc, cwd=tmp_path, shim=False)
    assert r.returncode == 0, r.stderr
    assert r.calls == []


OUTSIDE = """\
# An outside chapter

```{.napkin}
ridge = ridge_point(H100, "bf16")
```

The ridge point is `ridge`{.napkin}, about [300 FLOP/B]{.claim of="ridge" tol="5%"}.
A token of Llama 2 7B takes
`Llama2_7B.params * 2 B/param / H100.memory.bandwidth`{.napkin unit="ms"}.
"""


def test_plain_pandoc_without_quarto(tmp_path: Path) -> None:
    doc = tmp_path / "outside.md"
    doc.write_text(OUTSIDE)
    r = render(doc, cwd=tmp_path, shim=False)
    assert r.returncode == 0, r.stderr
    assert "295" in r.stdout and "4.02" in r.stdout
    assert r.calls[0][0]["file"] == "outside.md"
    assert r.calls[0][0]["format"] == "html"


def test_plain_pandoc_wrong_claim_fails_with_location(tmp_path: Path) -> None:
    doc = tmp_path / "outside.md"
    doc.write_text(OUTSIDE.replace("[300 FLOP/B]", "[200 FLOP/B]"))
    r = render(doc, cwd=tmp_path, shim=False)
    assert r.returncode == 1
    assert failure_locations(r.stderr) == ["outside.md:7"]
    assert "error[mlsysim.claim]" in r.stderr


@pytest.mark.parametrize(("to", "fmt"), [("latex", "latex"), ("plain", "plain")])
def test_output_formats(tmp_path: Path, to: str, fmt: str) -> None:
    doc = tmp_path / "outside.md"
    doc.write_text(OUTSIDE)
    r = render(doc, cwd=tmp_path, shim=False, to=to)
    assert r.returncode == 0, r.stderr
    assert r.calls[0][0]["format"] == fmt
    if fmt == "latex":
        assert r"\({295\,\mathrm{FLOP/B}}\)" in r.stdout
    else:
        assert "295 FLOP/B" in r.stdout and "\\mathrm" not in r.stdout


def test_missing_interpreter_fails_loudly(tmp_path: Path) -> None:
    doc = tmp_path / "outside.md"
    doc.write_text(OUTSIDE)
    env = {**os.environ, "MLSYSIM_PYTHON": str(tmp_path / "no-such-python")}
    proc = subprocess.run(
        [pandoc_path(), "-L", str(FILTER), "-t", "html", "outside.md"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "MLSYSIM_PYTHON" in proc.stderr


def test_napkin_block_hidden_unless_echo(tmp_path: Path) -> None:
    doc = tmp_path / "echo.md"
    doc.write_text(
        "```{.napkin}\nx = 80 GB\n```\n\n"
        '```{.napkin echo="true"}\ny = x / (3.35 TB/s)\n```\n\n'
        '`y`{.napkin unit="ms"}\n'
    )
    r = render(doc, cwd=tmp_path, shim=False, to="native")
    assert r.returncode == 0, r.stderr
    assert "x = 80 GB" not in r.stdout
    assert '[ "python" , "napkin-source" ]' in r.stdout
    assert '"y = x / (3.35 TB/s)"' in r.stdout
    assert 'Str "23.9 ms"' in r.stdout  # 80 GB / 3.35 TB/s; native output is "plain"
