"""Shared test scaffolding."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# prebuilt registry snapshots, pint's definition cache and Sphinx's stored records go to a
# directory of this run, not the user's ~/.cache nor a runner's MLSYSIM_CACHE_HOME (which
# could be "off"); subprocesses inherit it
os.environ["MLSYSIM_CACHE_HOME"] = tempfile.mkdtemp(prefix="mlsysim-test-cache-")
# the tests run the same whatever the runner's environment holds: a CI runner that sets
# FORCE_COLOR (Sphinx then wraps its warnings in colour codes) must not change the text the
# tests parse, and the variables mlsysim and its hosts read are set only by the tests that
# mean to (they apply to subprocesses too)
for _name in (
    "FORCE_COLOR",
    "MLSYSIM_FAIL_MODE",
    "MLSYSIM_DATA_PATH",
    "MLSYSIM_PINT_DASK",
    "MLSYSIM_CACHE_DIR",
    "MLSYSIM_QUARTO_EXT",
    "MLSYSIM_PYTHON",
    "MLSYSIM_WORKER",
    "GITHUB_STEP_SUMMARY",
    "QUARTO_PROJECT_DIR",
    "QUARTO_PROJECT_INPUT_FILES",
    "QUARTO_PROFILE",
    "QUARTO_PYTHON",
):
    os.environ.pop(_name, None)
os.environ["NO_COLOR"] = "1"

from mlsysim.core import cache, registry  # noqa: E402  (after the environment is cleaned)

#: The Jupyter kernel the notebook tests run (this interpreter, through ipykernel).
KERNEL = "mlsysim-test-python"


@pytest.fixture(autouse=True)
def fresh_derived_caches() -> None:
    """Every test derives device and model facts itself, so none depends on an earlier test
    having filled (or a faulty derivation having poisoned) the generation-aware caches."""
    cache.clear_all()


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start and end with only the package's data (no user dirs, no cached catalog)."""
    monkeypatch.delenv("MLSYSIM_DATA_PATH", raising=False)
    saved = list(registry._extra_dirs)
    registry._extra_dirs.clear()
    registry.reset()
    yield
    registry._extra_dirs[:] = saved
    registry.reset()


@pytest.fixture
def user_dir(tmp_path: Path, clean_registry: None) -> Path:
    """An empty user data directory, added (only the package's data besides it; undone after)."""
    d = tmp_path / "data"
    d.mkdir()
    registry.add_data_dir(d)
    return d


@pytest.fixture
def jupyter_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec for this interpreter in a temporary JUPYTER_PATH; returns its name."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "mlsysim test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``mlsysim ARGV…`` in-process: returns (exit code, stdout, stderr)."""
    from mlsysim.cli.main import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``count_calls(owner, name)``: wraps ``owner.name`` for the test and returns a one-item
    list that counts its calls (the work a solve does, counted rather than timed)."""

    def wrap(owner: object, name: str) -> list[int]:
        calls = [0]
        original = getattr(owner, name)

        def counted(*args: object, **kwargs: object) -> object:
            calls[0] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
        return calls

    return wrap
