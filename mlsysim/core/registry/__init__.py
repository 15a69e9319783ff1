"""Registries: sourced data files, loaded once, validated, and looked up by id or alias.

Grammar (documented for authors in ``docs/registry-grammar.md``): each data file is TOML with

* ``schema = "mlsysim.<kind>/1"`` naming what its entries are (a kind a layer registered:
  ``hardware``, ``model``, ``grid``, ``datacenter``, ``cloud_rate``, ``fabric``, ``node``,
  ``cluster``, …);
* an optional ``[sources.<id>]`` table per citation (title, authors or publisher, year, url);
* one top-level table per entry, keyed by its id (a Python identifier), with ``name``,
  ``source`` (a citation id), optional ``aliases``/``as_of``/``notes`` and the kind's fields.
  Quantities carry their unit in the value (``bandwidth = "3.35 TB/s"``). Any field may instead
  be an inline table ``{ value = "…", source = "…", as_of = 2024-06-01 }`` to cite it apart.

The machinery, one concept a module: ``kinds`` (the registered kinds, the lookup key of an
id), ``dirs`` (where data files are read from), ``files`` (one data file read, built and
checked), ``load`` (the loaded catalog, its generation and reloads), ``pickled`` (the catalog
as a snapshot stores it) and ``lookup`` (:func:`register_kind` and :class:`Registry`).

Each modeling layer registers the kinds it owns and its ``data/`` directory with
:func:`register_kind`; nothing here imports a layer. Files load lazily on first access: the
registered package data, then every directory
in ``MLSYSIM_DATA_PATH`` (``os.pathsep``-separated) and those passed to :func:`add_data_dir`.
A user directory may hold files directly or in sub-folders.
"""

from __future__ import annotations

from mlsysim.core.registry.dirs import EXTRA_DIRS, data_dirs, declare_data_dir
from mlsysim.core.registry.kinds import KINDS, kinds, on_first_load
from mlsysim.core.registry.kinds import normalize as normalize
from mlsysim.core.registry.load import (
    add_data_dir,
    catalog,
    generation,
    reset,
    substituted_data,
)
from mlsysim.core.registry.lookup import Registry, register_kind
from mlsysim.core.registry.pickled import snapshot_code as snapshot_code

__all__ = [
    "Registry",
    "add_data_dir",
    "catalog",
    "data_dirs",
    "declare_data_dir",
    "generation",
    "kinds",
    "on_first_load",
    "register_kind",
    "reset",
    "substituted_data",
]

#: the kinds table and the user directories under their former names (tests clear and restore
#: them in place)
_KINDS = KINDS
_extra_dirs = EXTRA_DIRS
