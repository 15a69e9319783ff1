"""The batch protocol (``mlsysim batch``): one JSON request per document → one JSON response.

Request (docs/contracts.md "Batch protocol")::

    {"version": 1, "file": "chapters/intro.qmd", "format": "html"|"latex"|"plain",
     "options": {"sig-figs": 3, "tolerance": "5%", "siunitx": false, "fail-mode": "error"},
     "overrides": {"fail-mode": "warn"},
     "source": "<optional raw text; else read from file>",
     "items": [{"id": "1", "kind": "block"|"inline"|"claim"|"eq"|"table", "text": "…",
                "attrs": {...}, "file": "<optional>", "line": <optional>}]}

``options`` are the host's project options (the filter's ``mlsysim:`` metadata); each file's
options are then resolved as every host resolves them (project file, host options, directory
metadata, front matter, ``overrides``). Response: ``{"version": 1, "checked": N, "results":
[{"id", "ok", "text", "latex", "html", "markdown", "math"}], "failures": [...], "cached":
bool}``; a block's result has empty renderings and ``claims`` (its rendered claims).

Items without ``line`` are located with the Quarto scanner (:mod:`mlsysim.book.sources`):
each is the next scanned item of its kind and text in its file, never a text search, and it is
evaluated as scanned — exactly as ``mlsysim check`` evaluates it. Responses are cached in
``.mlsysim-cache/`` (``MLSYSIM_CACHE_DIR`` overrides) under a hash of mlsysim's code and the
day (:mod:`mlsysim.book.fingerprints`), every data file's bytes, the request and what would be
evaluated (located items, options).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.book.syntax import ITEM_KINDS, Item
from mlsysim.core.exceptions import ConfigError, MlsysimError

if TYPE_CHECKING:  # imported inside process(): a cache hit loads neither pint nor registries
    from mlsysim.book.document import Document
    from mlsysim.book.options import Options

__all__ = [
    "PROTOCOL_VERSION",
    "cache_dir",
    "cache_key",
    "error_response",
    "process",
    "process_cached",
]

PROTOCOL_VERSION = 1
#: output format -> the drawings of a plot its host splices (inline SVG, a PDF file)
_PLOT_FORMATS = {"html": ("svg",), "latex": ("pdf",)}
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
        if it.get("file") is not None and not isinstance(it["file"], str):
            raise _bad(f"item {n}: file must be a string")
    for key in ("file", "source"):
        if request.get(key) is not None and not isinstance(request[key], str):
            raise _bad(f"'{key}' must be a string")
    for key in ("options", "overrides"):
        if request.get(key) is not None and not isinstance(request[key], dict):
            raise _bad(f"'{key}' must be an object")
    project = request.get("project")
    if project is not None:
        if not isinstance(project, dict) or not isinstance(project.get("dir"), str):
            raise _bad("'project' must be an object with the project directory as 'dir'")
        if not os.path.isabs(project["dir"]) or not os.path.isdir(project["dir"]):
            raise _bad(
                f"the project directory {project['dir']!r} is not an absolute path of a folder"
            )
        for key in ("cache", "python"):
            if project.get(key) is not None and not isinstance(project[key], str):
                raise _bad(f"project '{key}' must be a string")


@dataclass
class _Chapter:
    """One file of the request: text (or why none), project, options, scan, blind problems."""

    file: str
    text: str | None
    problem: BaseException | None
    options: dict[str, Any] | None
    option_error: MlsysimError | None
    items: list[Item]
    located: list[tuple[Item | None, dict[str, Any]]]
    blind: list[Any] = field(default_factory=list)


def _read(file: str) -> tuple[str | None, BaseException | None]:
    from mlsysim.book.sources import read_source

    try:
        return read_source(Path(file)), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, exc


def _chapters(request: dict[str, Any]) -> tuple[dict[str, _Chapter], list[tuple[str, Any]]]:
    """Each file of the request read, scanned and its options resolved; and each request
    item with the file it belongs to (pure Python: no pint, no registry). The request's own
    file is read even without items: a problem no host shows as written is still reported."""
    from mlsysim.book.options import canonical_key
    from mlsysim.book.sources import scan_source
    from mlsysim.book.sources.locate import Locator
    from mlsysim.book.sources.project import chapter_options, project_of

    main = request.get("file") or "<batch>"
    chapters: dict[str, _Chapter] = {}
    locators: dict[str, Locator] = {}
    placed: list[tuple[str, Any]] = []
    wanted = [*(() if request.get("file") is None else ({"file": main},)), *request["items"]]
    for raw in wanted:
        file = raw.get("file") or main
        ch = chapters.get(file)
        if ch is None:
            src = request.get("source") if file == main else None
            text, problem = (
                (src.removeprefix("\ufeff"), None) if isinstance(src, str) else _read(file)
            )
            project = options = error = None
            items, blind = list[Item](), list[Any]()
            try:
                project = project_of(Path(file))
                opts = chapter_options(
                    Path(file),
                    text or "",
                    project,
                    request.get("overrides"),
                    host=request.get("options"),
                )
                options = {canonical_key(k): v for k, v in _as_dict(opts).items()}
            except MlsysimError as exc:
                error = exc
            if text is not None:
                root = project.root if project is not None else None
                scanned = scan_source(file, text, "pandoc", root=root)
                items, blind = scanned.items, [p for p in scanned.problems if p.blind]
            ch = chapters[file] = _Chapter(file, text, problem, options, error, items, [], blind)
            locators[file] = Locator(items)
        if "kind" not in raw:
            continue
        if raw.get("line") is not None:
            match = None
        else:
            match = locators[file].match(raw["kind"], raw["text"], raw.get("attrs") or {})
        ch.located.append((match, raw))
        placed.append((file, raw))
    return chapters, placed


def _as_dict(options: Options) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}


def process(request: Any) -> dict[str, Any]:
    """Evaluate one batch request; ConfigError when the request is malformed.

    Items may name their own ``file`` (a book render that concatenates chapters): each file
    gets its own document scope, options and scan.
    """
    _validate(request)
    return _evaluate(request, *_chapters(request))


def _evaluate(
    request: dict[str, Any], chapters: dict[str, _Chapter], placed: list[tuple[str, Any]]
) -> dict[str, Any]:
    from mlsysim.book.books import share
    from mlsysim.book.document import Document
    from mlsysim.book.items import run_item
    from mlsysim.book.options import Options
    from mlsysim.book.projects import result_entry
    from mlsysim.book.sources.check import problem_failure, unreadable

    docs: dict[str, Document] = {}
    for file, ch in chapters.items():  # a document with only such problems still reports them
        if ch.blind and not ch.located:
            options = Options.from_mapping(ch.options) if ch.options is not None else None
            docs[file] = Document(file, options, source=ch.text)
            docs[file].failures.extend(problem_failure(p) for p in ch.blind)
    last_place: dict[str, tuple[int, int | None]] = {}
    positions = {file: iter(ch.located) for file, ch in chapters.items()}
    results: list[dict[str, Any]] = []
    for n, (file, raw) in enumerate(placed):
        ch = chapters[file]
        doc = docs.get(file)
        if doc is None:
            options = Options.from_mapping(ch.options) if ch.options is not None else None
            doc = docs[file] = Document(file, options, source=ch.text)
            share(doc, file)
            if ch.problem is not None and ch.text is None and raw.get("line") is None:
                doc.failures.append(unreadable(file, ch.problem))
            if ch.option_error is not None:
                doc.record("error", ch.option_error, "mlsysim options", 1, None, None)
            doc.failures.extend(problem_failure(p) for p in ch.blind)
            doc.declare_blocks(ch.items)
        match, _ = next(positions[file])
        item = _item(raw, match, last_place.get(file, (1, 1)))
        last_place[file] = (item.line, item.column)
        before = len(doc.failures)
        outcome = run_item(doc, item)
        if match is None and raw.get("line") is None:
            doc.failures[before:] = [_unplaced(f, item) for f in doc.failures[before:]]
        entry: dict[str, Any] = {"id": str(raw.get("id", n + 1))}
        fmt = str(request.get("format", "html"))
        entry.update(result_entry(raw["kind"], outcome, _PLOT_FORMATS.get(fmt, ()), cache_dir()))
        if raw["kind"] == "plot":
            from mlsysim.book.plots import record_draw_failure

            record_draw_failure(doc, item, entry)
        results.append(entry)
    for d in docs.values():
        if d.options.fail_mode == "warn":  # reported, but the render goes on
            for f in d.failures:
                f.extra["severity"] = "warning"
    failures = [f.to_dict() for d in docs.values() for f in d.failures]
    from mlsysim.book.drafts import banner_dict

    return {
        "version": PROTOCOL_VERSION,
        "checked": sum(d.checked for d in docs.values()),
        "results": results,
        "failures": failures,
        "banner": banner_dict(failures),
        "cached": False,
    }


def _item(raw: dict[str, Any], match: Item | None, before: tuple[int, int | None]) -> Item:
    """The item to evaluate: the scanned one when the host's element was located; else one
    at the host's line, or (unknown) at the place of the item before it."""
    if match is not None:  # with where its attributes and escapes are written
        return match
    attrs = {str(k): str(v) for k, v in (raw.get("attrs") or {}).items()}
    line = raw.get("line")
    if line is not None:
        return Item(raw["kind"], raw["text"], int(line), None, attrs)
    return Item(raw["kind"], raw["text"], before[0], before[1] or 1, attrs)


_UNPLACED = (
    "this item is not in the source as written (a code cell printed it, or a shortcode made "
    "it), so it is reported at the item before it, and `mlsysim check` cannot see it: write "
    "it in the chapter itself"
)


def _unplaced(f: Any, item: Item) -> Any:
    """A failure of an item the scanner did not find: at the place it was given (never a
    column inside another item's text), saying why there."""
    from dataclasses import replace

    hint = f"{_UNPLACED}. {f.hint}" if f.hint else _UNPLACED
    extra = {**f.extra, "line_unknown": True}
    return replace(f, line=item.line, column=item.column, hint=hint, extra=extra)


def cache_dir() -> Path:
    """``$MLSYSIM_CACHE_DIR`` or ``./.mlsysim-cache``."""
    return Path(os.environ.get(_CACHE_ENV) or _DEFAULT_CACHE)


def _data_fingerprint() -> str:
    """The code, the day and every data file (no layer import, no pint: a hit stays light)."""
    from mlsysim.book.fingerprints import data_key, engine_key

    return f"{engine_key()}|{data_key()}"


def cache_key(request: dict[str, Any], chapters: dict[str, _Chapter] | None = None) -> str:
    """Hash of mlsysim's code and the day, every data file, the request, and what would be
    evaluated:
    each file's resolved options and located items (so an edit anywhere that changes what is
    evaluated — the chapter, an included file, the project config — misses the cache)."""
    from mlsysim.book.books import book_state_of

    if chapters is None:
        chapters, _ = _chapters(request)
    h = hashlib.sha256(_data_fingerprint().encode())
    h.update(json.dumps(request, sort_keys=True, ensure_ascii=True).encode())
    for file in sorted(chapters):
        ch = chapters[file]
        state = {
            "file": file,
            "readable": ch.text is not None,
            "options": ch.options,
            "error": str(ch.option_error) if ch.option_error else None,
            "items": [
                [m.kind, m.text, m.line, m.column, m.attrs, m.file] if m else None
                for m, _ in ch.located
            ],
            "declared": [[i.kind, i.text, i.line] for i in ch.items if i.kind == "block"],
            "blind": [[p.line, p.column, p.message] for p in ch.blind],
            "book": book_state_of(file),
        }
        h.update(json.dumps(state, sort_keys=True, default=str).encode())
    return h.hexdigest()


def process_cached(request: Any, *, use_cache: bool = True) -> dict[str, Any]:
    """:func:`process` through the content-hash cache; hits say ``"cached": true``.

    A request naming its ``project`` (``{"dir": "/abs/project", "cache": "/abs/cache"}``) is
    answered from the whole project's check (:mod:`mlsysim.book.projects`).
    """
    _validate(request)
    if request.get("project") is not None:
        return _process_project(request, use_cache)
    chapters, placed = _chapters(request)
    if not use_cache:
        return _evaluate(request, chapters, placed)
    key = cache_key(request, chapters)
    path = cache_dir() / f"{key}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = None
    if isinstance(cached, dict) and cached.get("version") == PROTOCOL_VERSION:
        cached["cached"] = True
        return cached
    response = _evaluate(request, chapters, placed)
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


def _process_project(request: dict[str, Any], use_cache: bool) -> dict[str, Any]:
    """A chapter of a project render: the project is checked once per state of its files
    (``file`` and item files are relative to the project directory); this chapter's results
    come from that check when its elements are the scanned items, else from evaluating them.
    Options come from the project's files and ``overrides``, as ``mlsysim check`` reads them.
    """
    import shutil

    from mlsysim.book.projects import note_host_options, open_project, within

    spec = request["project"]
    root = Path(spec["dir"])
    cache = Path(spec.get("cache") or root / _DEFAULT_CACHE)
    with within(root):
        if not use_cache:
            shutil.rmtree(cache / "project", ignore_errors=True)
        file = os.path.normpath(request.get("file") or "<batch>").replace(os.sep, "/")
        request = {**request, "file": file}
        overrides = dict(request.get("overrides") or {})
        project = open_project(root, cache, overrides, str(spec.get("python") or ""))
        merged = any(it.get("file") for it in request["items"])
        entry = project.entry(file)
        results = None if merged else project.reuse(entry, request["items"])
        if results is not None:
            own, checked, banner = entry["failures"], entry["checked"], entry.get("banner")
        else:
            fresh = process({**request, "options": None})
            results, own, checked = fresh["results"], fresh["failures"], fresh["checked"]
            banner = fresh["banner"]
        note_host_options(request)
        failures = own if merged else project.report(file, own)
        book = sum(
            len(e.get("failures", [])) for f, e in project.entries.items() if f in project.files
        )
        return {
            "version": PROTOCOL_VERSION,
            "checked": checked,
            "results": results,
            "failures": failures,
            "banner": banner,
            "cached": results is not None and not project.checked_now,
            "project": {
                "first": file == project.first,
                "checked_now": project.checked_now,
                "files": len(project.files),
                "failures": book,
                "blocking": project.blocking(),
            },
        }
