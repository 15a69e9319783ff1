"""pint without its eager import of dask (mlsysim.core.pint_loader): importing the units
imports no dask, and a Quantity over a dask array still works as under a plain ``import pint``
(dask is imported when one is first used). Each check runs in a fresh process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

HAS_DASK = importlib.util.find_spec("dask") is not None


def _run(code: str, **env: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_importing_the_units_imports_no_dask() -> None:
    code = (
        "import sys, mlsysim.core.units, pint.compat\n"
        "print('dask' in sys.modules, pint.compat.HAS_DASK)\n"
    )
    assert _run(code) == ["False", str(HAS_DASK)]


@pytest.mark.skipif(not HAS_DASK, reason="dask is not installed")
def test_a_dask_quantity_works_and_imports_dask_on_first_use() -> None:
    code = (
        "import sys\n"
        "from mlsysim.core.units import Q_\n"
        "import dask.array as da\n"
        "q = Q_(da.arange(1, 4, chunks=2), 'GB') * 2\n"
        "print(type(q.magnitude).__module__.split('.')[0])\n"
        "print(q.compute().to('MB').magnitude.tolist())\n"
        "print(q.persist().units, q.__dask_graph__() is not None)\n"
        "print(q.__dask_scheduler__ is da.Array.__dask_scheduler__)\n"
    )
    assert _run(code) == ["dask", "[2000.0,", "4000.0,", "6000.0]", "GB", "True", "True"]


@pytest.mark.skipif(not HAS_DASK, reason="dask is not installed")
def test_eager_mode_imports_pint_as_it_is() -> None:
    code = "import sys, mlsysim.core.units\nprint('dask' in sys.modules)\n"
    assert _run(code, MLSYSIM_PINT_DASK="eager") == ["True"]


def test_a_dask_imported_first_is_left_alone() -> None:
    code = (
        "import sys, importlib.util\n"
        "if importlib.util.find_spec('dask'): import dask\n"
        "import mlsysim.core.units, pint.compat\n"
        "print(pint.compat.HAS_DASK)\n"
    )
    assert _run(code) == [str(HAS_DASK)]
