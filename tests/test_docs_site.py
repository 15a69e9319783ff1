"""mlsysim's own documentation (docs/) builds with mlsysim_sphinx itself, warnings as errors.

The site's napkin math is evaluated by the plugin in that build (a failed claim fails it), its
reference pages and the CLI's help are generated at build time (never committed), and the API
reference is autodoc of the public API with every cross-reference resolved (``-n``). The
Python and console examples of its pages run in tests/test_docs_examples.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("myst_parser")
    out = tmp_path_factory.mktemp("docs") / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr, proc.stderr[-4000:]
    return out


def _text(page: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_the_site_builds_and_its_napkin_math_is_evaluated(site: Path) -> None:
    index, tutorial = _text(site / "index.html"), _text(site / "tutorial.html")
    assert "3.35 TB/s" in index and "about 295 FLOP/B" in index
    # values of the live chapter, computed in this build (narrow no-break space in values)
    for value in ("13.5 GB", "4.02 ms", "249 tokens/s", "18.6×"):
        assert value.replace(" ", "\u202f") in tutorial or value in tutorial, value
    assert "mlsysim-failure" not in (site / "tutorial.html").read_text(encoding="utf-8")
    # the listing beside each example is the page's own source
    assert '```{napkin} weights = weights_bytes(Llama2_7B, "bf16")' in tutorial


@pytest.mark.slow
def test_the_site_has_every_section(site: Path) -> None:
    for page in ("install", "tutorial", "napkin", "hosts-sphinx", "hosts-quarto", "cli", "api"):
        assert (site / f"{page}.html").is_file(), page
    for page in ("architecture", "contracts", "registry-grammar"):
        assert (site / f"{page}.html").is_file(), page
    reference = site / "_generated" / "reference"
    assert 'id="formula-ridge-point"' in (reference / "formulas.html").read_text("utf-8")
    assert "usage: mlsysim check" in _text(site / "cli.html")
    api = (site / "api.html").read_text(encoding="utf-8")
    import mlsysim
    import mlsysim.core.registry as registry
    import mlsysim.solvers as solvers

    # functions and classes (the sub-modules and the unit registry instance are not entries)
    public = [f"mlsysim.{n}" for n in mlsysim.__all__ if n[0].islower()]
    public = [n for n in public if n not in ("mlsysim.formulas", "mlsysim.sim", "mlsysim.ureg")]
    public += [f"mlsysim.solvers.{n}" for n in solvers.__all__]
    public += [f"mlsysim.core.registry.{n}" for n in registry.__all__]
    public += ["mlsysim.book.napkin", "mlsysim.book.check_paths"]
    public += ["mlsysim.core.formulas.ridge_point", "mlsysim.core.formulas.young_daly"]
    missing = [n for n in public if f'id="{n}"' not in api]
    assert not missing, missing


def test_the_sites_claims_hold_without_building_it() -> None:
    """`mlsysim check docs` sees the site's live napkin math (a cheap check without Sphinx)."""
    from mlsysim.book import Options, check_paths

    pages = sorted(DOCS.glob("*.md"))
    checked, failures = check_paths(pages, Options())
    assert failures == [], [f.headline() for f in failures]
    assert checked >= 20, checked


def test_generated_pages_are_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "docs/_generated/" in ignored


@pytest.mark.slow
def test_api_page_shows_registry_spec_fields(site: Path) -> None:
    """A deferred pydantic spec class shows its fields, whether this build loaded the
    registry snapshot (nothing validated: the class unbuilt) or built a fresh catalog."""
    text = _text(site / "api.html")
    at = text.index("class mlsysim.hardware.registry.HardwareSpec")
    assert "**data" not in text[at : at + 400] and "vendor: str" in text[at : at + 2000]


def test_docs_signature_of_a_deferred_model_is_its_fields() -> None:
    """The docs' signature hook writes a pydantic model's fields whether or not the model was
    built (an unbuilt deferred model reads ``(**data: Any)``), so the page does not depend
    on whether the build loaded the registry snapshot."""
    from types import SimpleNamespace

    from pydantic import BaseModel, ConfigDict, Field

    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import mlsysim_docs
    finally:
        sys.path.remove(str(DOCS / "_ext"))

    def make() -> type:
        class Deferred(BaseModel):
            model_config = ConfigDict(defer_build=True)
            width: int
            tags: list[str] = Field(default_factory=list)

        return Deferred

    app = SimpleNamespace(config=SimpleNamespace(autodoc_typehints_format="short"))
    unbuilt, built = make(), make()
    built.model_rebuild()
    shown = [
        mlsysim_docs._signature(app, "class", "D", c, None, "(**data)", None)
        for c in (unbuilt, built)
    ]
    assert shown[0] == shown[1] == ("(*, width: int, tags: list[str] = ...)", None)
    assert mlsysim_docs._signature(app, "function", "f", len, None, "(x)", None) is None
