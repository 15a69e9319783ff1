"""The personas notebook (docs/notebooks/personas.ipynb) runs top to bottom with nbclient."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "personas.ipynb"


def test_personas_notebook_runs_and_compares_personas(tmp_path: Path, jupyter_kernel: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit the notebook without outputs"
    )
    client = nbclient.NotebookClient(
        nb, kernel_name=jupyter_kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    text = []
    html = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", out
            text.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
            html.append(out.get("data", {}).get("text/html", ""))
    printed = "\n".join(text)
    # every persona appears with the application it runs
    for persona, app in (
        ("CloudTitan", "GPT4"),
        ("EdgeGuardian", "AV"),
        ("MobileNomad", "PhoneLLM"),
        ("TinyPioneer", "Doorbell"),
    ):
        assert f"{persona} | {app}" in printed
    assert "Annual Carbon: 2,696 kg CO2e" in printed
    assert "embodied carbon is unknown" in printed
    assert "carbon ratio Poland / Quebec: 66.2x" in printed
    assert any("mlsysim-ledger" in h for h in html) and any("mlsysim-comparison" in h for h in html)
