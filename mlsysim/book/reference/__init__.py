"""Reference material generated from the engine itself: formulas, walls, registries, sources.

* :mod:`~mlsysim.book.reference.formulas` — :func:`formula_reference` (signature, argument and
  result dimensions, LaTeX, citation, evaluated example) and :func:`formula_card`;
* :mod:`~mlsysim.book.reference.registries` — every field of a registry entry with its unit
  and source (:func:`entry_fields`), and :func:`registry_table` for a book page;
* :mod:`~mlsysim.book.reference.pages` — the reference as MyST pages (:func:`write_reference`).

Hosts wrap these (a directive or shortcode per card or table); nothing here knows a host.
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_getattr

__all__ = [
    "EntryField",
    "FormulaCard",
    "FormulaReference",
    "entry_fields",
    "formula_card",
    "formula_reference",
    "registry_table",
    "write_reference",
]

_LAZY = {
    "FormulaCard": "mlsysim.book.reference.formulas",
    "FormulaReference": "mlsysim.book.reference.formulas",
    "formula_card": "mlsysim.book.reference.formulas",
    "formula_reference": "mlsysim.book.reference.formulas",
    "EntryField": "mlsysim.book.reference.registries",
    "entry_fields": "mlsysim.book.reference.registries",
    "registry_table": "mlsysim.book.reference.registries",
    "write_reference": "mlsysim.book.reference.pages",
}

__getattr__ = lazy_getattr(
    "mlsysim.book.reference", {name: (module, name) for name, module in _LAZY.items()}, globals()
)
