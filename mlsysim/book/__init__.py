"""The napkin engine: safe expressions, documents, checks and claims, scanning, batches.

DESIGN.md §6 is the contract. Hosts build on :class:`Document`; the CLI adds
:func:`check_paths`; notebooks use :func:`napkin` and :func:`check`.

>>> from mlsysim.book import Document
>>> doc = Document("intro.md")
>>> doc.inline("80 GB / 3.35 TB/s -> ms", line=1).rendered.text
'23.9 ms'
"""

from __future__ import annotations

from mlsysim.book.failures import Failure
from mlsysim.book.options import Options
from mlsysim.core.lazy import lazy_dir, lazy_getattr

__all__ = [
    "BlockResult",
    "Document",
    "Failure",
    "ItemResult",
    "Options",
    "TableResult",
    "check",
    "check_paths",
    "napkin",
    "scan_file",
]

# loaded on first use, so `mlsysim batch` can answer from its cache without pint
_LAZY = {
    "BlockResult": "mlsysim.book.document",
    "Document": "mlsysim.book.document",
    "ItemResult": "mlsysim.book.document",
    "TableResult": "mlsysim.book.document",
    "napkin": "mlsysim.book.notebook",
    "check": "mlsysim.book.notebook",
    "check_paths": "mlsysim.book.sources.check",
    "scan_file": "mlsysim.book.sources.check",
}


__getattr__ = lazy_getattr(
    "mlsysim.book", {name: (module, name) for name, module in _LAZY.items()}, globals()
)
__dir__ = lazy_dir(_LAZY, globals())
