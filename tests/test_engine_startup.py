"""What the napkin engine's start-up does, counted (never timed; ``benchmarks/bench_sphinx.py``
measures the cost): a display family is built when a value first needs it, not all at once,
and loading the registries from their snapshot builds no pydantic validator (the first one
loads pydantic's plugins by scanning every installed distribution)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlsysim.core.units import Q_
from mlsysim.viz import units_fmt
from mlsysim.viz.format import render_value


def test_a_value_builds_only_its_own_family() -> None:
    units_fmt._family_named.cache_clear()
    units_fmt.family_for.cache_clear()
    assert render_value(Q_("3600 s")).text == "1.00 h"
    assert units_fmt._family_named.cache_info().currsize == 1  # time only, not all 24
    render_value(Q_("3.35 TB/s"))
    assert units_fmt._family_named.cache_info().currsize == 2


def test_every_family_builds_with_its_base_unit() -> None:
    for name, (units, options) in units_fmt._FAMILIES.items():
        family = units_fmt._family_named(name)
        assert family is not None and len(family.units) == len(units)
        base = options.get("base", units[0])
        assert family.factors[units.index(base)] == 1.0, name
        assert list(family.factors) == sorted(family.factors), name


_PROBE = """
import pydantic.plugin._loader as plugins
import mlsysim
from mlsysim.core.registry import catalog
cat = catalog()
mlsysim.registries()
print(cat.from_snapshot, plugins._plugins is None)
"""


def test_registries_from_a_snapshot_build_no_validator(tmp_path: Path) -> None:
    env = {**os.environ, "MLSYSIM_CACHE_HOME": str(tmp_path)}
    env.pop("MLSYSIM_DATA_PATH", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=False
        )
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    assert runs[1].stdout.split() == ["True", "True"]  # loaded, and no plugin scan happened
