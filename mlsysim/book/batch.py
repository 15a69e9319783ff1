"""The batch protocol (``mlsysim batch``): one JSON request per document → one JSON response.

Request (docs/contracts.md "Batch protocol")::

    {"version": 1, "file": "chapters/intro.qmd", "format": "html"|"latex"|"plain",
     "options": {"sig-figs": 3, "tolerance": "5%", "siunitx": false, "fail-mode": "error"},
     "source": "<optional raw text; else read from file>",
     "items": [{"id": "1", "kind": "block"|"inline"|"claim"|"eq"|"table", "text": "…",
                "attrs": {...}, "file": "<optional>", "line": <optional>}]}

Response: ``{"version": 1, "checked": N, "results": [{"id", "ok", "text", "latex", "html",
"markdown", "math"}], "failures": [...], "cached": bool}``. A block's result has empty
renderings and ``claims``: its rendered claims as ``{"line", "text", "latex", …}``.

Items without ``line`` are located by searching the source in order for their text. Responses
are cached in ``.mlsysim-cache/`` (``MLSYSIM_CACHE_DIR`` overrides) under a hash of the mlsysim
version, every data file's bytes and the request (plus the file's text when not inline), so an
unchanged document is not re-evaluated.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.book.syntax import ITEM_KINDS
from mlsysim.core.exceptions import ConfigError, MlsysimError

if TYPE_CHECKING:  # imported inside process(): a cache hit loads neither pint nor registries
    from mlsysim.book.document import Document

__all__ = ["PROTOCOL_VERSION", "cache_dir", "process", "process_cached"]

PROTOCOL_VERSION = 1
_CACHE_ENV = "MLSYSIM_CACHE_DIR"
_DEFAULT_CACHE = ".mlsysim-cache"


def _bad(what: str, fix: str = "") -> ConfigError:
    return ConfigError(
        f"malformed batch request: {what}", fix=fix or "see docs/contracts.md, 'Batch protocol'"
    )


def _validate(request: Any) -> None:
    if not isinstance(request, dict):
        raise _bad("the request is not a JSON object")
    if request.get("version") != PROTOCOL_VERSION:
        raise _bad(f"version must be {PROTOCOL_VERSION}, got {request.get('version')!r}")
    items = request.get("items")
    if not isinstance(items, list):
        raise _bad("'items' must be a list")
    for n, it in enumerate(items):
        if not isinstance(it, dict):
            raise _bad(f"item {n} is not an object")
        if it.get("kind") not in ITEM_KINDS:
            raise _bad(
                f"item {n} has kind {it.get('kind')!r}", f"kind is one of {', '.join(ITEM_KINDS)}"
            )
        if not isinstance(it.get("text"), str):
            raise _bad(f"item {n} has no text")
        if "attrs" in it and not isinstance(it["attrs"], dict):
            raise _bad(f"item {n}: attrs must be an object")
        if it.get("line") is not None and (
            isinstance(it["line"], bool) or not isinstance(it["line"], int)
        ):
            raise _bad(f"item {n}: line must be an integer")
    if "file" in request and not isinstance(request["file"], str):
        raise _bad("'file' must be a string")
    if request.get("source") is not None and not isinstance(request["source"], str):
        raise _bad("'source' must be a string")


def _read_text(file: str) -> str | None:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _source_of(request: dict[str, Any]) -> str | None:
    src = request.get("source")
    if isinstance(src, str):
        return src
    file = request.get("file")
    return _read_text(file) if file else None


class _LineFinder:
    """Maps items without a line to the next occurrence of their text in the source."""

    def __init__(self, source: str | None) -> None:
        self.source = source or ""
        self.pos = 0
        self.last = 1

    def find(self, text: str) -> tuple[int, int | None]:
        probe = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
        idx = self.source.find(probe, self.pos) if probe else -1
        if idx < 0 and probe:
            idx = self.source.find(probe)
        if idx < 0:
            return self.last, None
        self.pos = idx + len(probe)
        line = self.source.count("\n", 0, idx) + 1
        column = idx - (self.source.rfind("\n", 0, idx) + 1) + 1
        self.last = line
        return line, column


def process(request: Any) -> dict[str, Any]:
    """Evaluate one batch request; ConfigError when the request is malformed.

    Items may name their own ``file`` (a book render that concatenates chapters): each file
    gets its own document scope and its lines are found in that file's own text.
    """
    from mlsysim.book.document import Document
    from mlsysim.book.items import Item, run_item
    from mlsysim.book.options import Options

    _validate(request)
    options = Options.from_mapping(request.get("options") or {})
    file = request.get("file") or "<batch>"
    sources = {file: _source_of(request)}
    docs: dict[str, Document] = {}
    finders: dict[str, _LineFinder] = {}
    results: list[dict[str, Any]] = []
    for n, raw in enumerate(request["items"]):
        item_file = raw.get("file") or file
        if item_file not in sources:
            sources[item_file] = _read_text(item_file)
        doc = docs.get(item_file)
        if doc is None:
            doc = docs[item_file] = Document(item_file, options, source=sources[item_file])
            doc.declare_blocks(_scanned_blocks(sources[item_file] or "", item_file))
        line, column = raw.get("line"), None
        if line is None:
            finder = finders.get(item_file)
            if finder is None:
                finder = finders[item_file] = _LineFinder(sources[item_file])
            line, column = finder.find(raw["text"])
        attrs = {str(k): str(v) for k, v in (raw.get("attrs") or {}).items()}
        item = Item(raw["kind"], raw["text"], int(line), column, attrs)
        outcome = run_item(doc, item)
        entry: dict[str, Any] = {"id": str(raw.get("id", n + 1)), "ok": outcome.ok}
        r = outcome.rendered
        entry.update(
            r.to_dict()
            if r is not None
            else {"text": "", "latex": "", "html": "", "markdown": "", "math": False}
        )
        if raw["kind"] == "block":
            entry["claims"] = [{"line": ln, **rc.to_dict()} for ln, rc in outcome.extra]
        results.append(entry)
    failures = [f.to_dict() for d in docs.values() for f in d.failures]
    return {
        "version": PROTOCOL_VERSION,
        "checked": sum(d.checked for d in docs.values()),
        "results": results,
        "failures": failures,
        "cached": False,
    }


def cache_dir() -> Path:
    """``$MLSYSIM_CACHE_DIR`` or ``./.mlsysim-cache``."""
    return Path(os.environ.get(_CACHE_ENV) or _DEFAULT_CACHE)


def _data_fingerprint() -> str:
    from mlsysim import __version__
    from mlsysim.core.registry import data_dirs

    h = hashlib.sha256(__version__.encode())
    for d in data_dirs():
        if d.is_dir():
            for f in sorted(d.rglob("*.toml")):
                h.update(str(f).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def cache_key(request: dict[str, Any]) -> str:
    """Hash of mlsysim's version, every data file and the request (with the file's text)."""
    h = hashlib.sha256(_data_fingerprint().encode())
    h.update(json.dumps(request, sort_keys=True, ensure_ascii=True).encode())
    if not isinstance(request.get("source"), str):
        h.update((_source_of(request) or "").encode())
    return h.hexdigest()


def process_cached(request: Any, *, use_cache: bool = True) -> dict[str, Any]:
    """:func:`process` through the content-hash cache; hits say ``"cached": true``."""
    _validate(request)
    if not use_cache:
        return process(request)
    key = cache_key(request)
    path = cache_dir() / f"{key}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = None
    if isinstance(cached, dict) and cached.get("version") == PROTOCOL_VERSION:
        cached["cached"] = True
        return cached
    response = process(request)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(response), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # an unwritable cache only costs speed; the response is still correct
    return response


def error_response(exc: MlsysimError) -> dict[str, Any]:
    """The JSON printed for a malformed request (with exit code 2)."""
    return {"version": PROTOCOL_VERSION, "error": exc.to_dict()}


def _scanned_blocks(source: str, file: str) -> list[Any]:
    """The source's items (for use-before-bind messages); none when it does not scan."""
    from mlsysim.book.scan import scan_text

    try:
        return scan_text(source, file)
    except MlsysimError:
        return []  # the scan itself is reported by whoever scans; bindings stay unknown
