"""A Quarto project checked as a whole, once per state of its files (the filter's project mode).

Quarto renders a book one chapter at a time, each chapter in its own pandoc process, and stops
at the first chapter whose filter fails: on its own, a filter would list only that chapter's
failures. In a project render (the filter knows the project directory) the first chapter's
call checks every file of the project — exactly as ``mlsysim check`` does, one document per
file, options from the project's files — and stores, under the project's cache
(``.mlsysim-cache/project/``):

* ``manifest.json``: the run's id, the project's files in render order, and the
  :class:`~mlsysim.book.manifest.Manifest` of everything the results depend on;
* one ``<key>.json`` per file: its scanned items (kind, and the texts a host may give for
  each), their renderings, its failures and what the filter prints for it (``report``).

Later chapters reuse that result: the filter checks the manifest with file reads alone and
takes its chapter's renderings when its elements are the scanned items, one for one, without
starting Python; a call that comes anyway (a changed file, an element the scanner does not
see) re-checks what changed. What a chapter prints: the first file of the project (where a
book render starts) prints every failure of the book when any of them stops the render; every
other file prints its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlsysim.book.manifest import ENV_KEYS, Manifest, data_inputs
from mlsysim.book.sources.files import project_files
from mlsysim.book.sources.locate import Locator, forms

__all__ = [
    "SCHEMA",
    "Project",
    "note_host_options",
    "open_project",
    "project_files",
    "result_entry",
    "within",
]

SCHEMA = "mlsysim.project/1"
_STORE = "project"
_MANIFEST = "manifest.json"


def result_entry(
    kind: str,
    outcome: Any,
    plot_formats: tuple[str, ...] = ("svg", "pdf"),
    cache: Path | None = None,
) -> dict[str, Any]:
    """The protocol's result of one item (without its id): ok, the renderings, whether they are
    the mark of a failed item (``mark``); a block's rendered claims; a plot's ``plot`` entry
    (:func:`mlsysim.book.plots.plot_entry`: drawn in ``plot_formats`` under ``cache``, both
    by default — a project check serves every output format)."""
    from mlsysim.book.drafts import FailedRendering

    r = outcome.rendered
    entry: dict[str, Any] = {"ok": outcome.ok, "mark": isinstance(r, FailedRendering)}
    entry.update(
        r.to_dict()
        if r is not None
        else {"text": "", "latex": "", "html": "", "markdown": "", "math": False}
    )
    if kind == "block":
        entry["claims"] = [{"line": ln, **rc.to_dict()} for ln, rc in outcome.extra]
    if kind in ("eq", "formula") and outcome.ok and outcome.cites:
        entry["cites"] = list(outcome.cites)  # citation keys (citeproc, `mlsysim bib`)
    if kind == "plot" and outcome.value is not None:
        from mlsysim.book.plots import plot_entry

        entry["plot"] = plot_entry(outcome.value, plot_formats, cache or Path(".mlsysim-cache"))
    return entry


@contextlib.contextmanager
def within(root: Path) -> Iterator[None]:
    """Run with ``root`` as the working directory (paths relative to the project)."""
    old = os.getcwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(old)


def _key(file: str) -> str:
    return hashlib.sha1(file.encode("utf-8"), usedforsecurity=False).hexdigest()[:24]


def _write(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # an unwritable cache only costs speed


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class Project:
    """The stored check of one project: its files, manifest and per-file entries."""

    root: Path
    cache: Path
    run: str
    files: list[str]
    manifest: Manifest
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked_now: bool = False  # this call ran the project check

    @property
    def first(self) -> str | None:
        return self.files[0] if self.files else None

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, file: str) -> dict[str, Any]:
        """Check one file as ``mlsysim check`` does; its entry (the project's overrides)."""
        from mlsysim.book.sources.check import check_document

        items: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        includes: list[str] = []

        def scanned(s: Any) -> None:
            includes.extend(s.includes)

        def done(doc: Any, item: Any, outcome: Any) -> None:
            items.append(
                {
                    "kind": item.kind,
                    "text": item.text,
                    "attrs": dict(item.attrs),
                    "texts": sorted(set(forms(item.text))),
                }
            )
            results.append(result_entry(item.kind, outcome, cache=self.cache))
            if item.kind == "plot":
                from mlsysim.book.plots import record_draw_failure

                record_draw_failure(doc, item, results[-1])

        doc = check_document(
            file, explicit=self.manifest.overrides or None, on_scanned=scanned, on_item=done
        )
        self._inputs(file, includes)
        from mlsysim.book.drafts import banner_dict

        failures = [f.to_dict() for f in doc.failures]
        entry = {
            "schema": SCHEMA,
            "run": self.run,
            "file": file,
            "items": items,
            "results": results,
            "failures": failures,
            "banner": banner_dict(failures),
            "checked": doc.checked,
        }
        self.entries[file] = entry
        return entry

    def _inputs(self, file: str, includes: list[str]) -> None:
        m = self.manifest
        m.add_file(file)
        m.add_files(includes)
        folder = Path(os.path.abspath(file)).parent
        root = Path(os.path.abspath(self.root))
        while True:
            m.add_file(folder / "_metadata.yml")
            if folder == root or root not in folder.parents:
                break
            folder = folder.parent

    # -- reports --------------------------------------------------------------------------
    def blocking(self) -> bool:
        """Whether any failure of the project's files stops a render (severity error)."""
        return any(
            (f.get("extra") or {}).get("severity") != "warning"
            for file in self.files
            for f in self.entries.get(file, {}).get("failures", [])
        )

    def report(self, file: str, own: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What the filter prints for ``file``: every failure of the book (``own`` for this
        file) when this is the first file and the book has a failure that stops it, else
        ``own``."""
        if file != self.first or not self.blocking():
            return own
        out: list[dict[str, Any]] = []
        for name in self.files:
            out += own if name == file else self.entries.get(name, {}).get("failures", [])
        return out

    # -- reuse ----------------------------------------------------------------------------
    @staticmethod
    def reuse(entry: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """The stored results for a host's ``items`` when each is one of the scanned items
        (kind, text, then attributes, as :class:`~mlsysim.book.sources.locate.Locator`
        matches them), else None (the host's elements must be evaluated). The host may show
        fewer items (content Quarto drops for this format) or another order (a table's
        caption before its rows): the results are still those of the whole chapter,
        evaluated in source order, so a binding in hidden content still binds."""
        from mlsysim.book.syntax import Item

        stored = entry.get("items") or []
        if any("text" not in s for s in stored):
            return None  # an entry stored before items kept their text
        scanned = [Item(s["kind"], s["text"], 0, None, s.get("attrs") or {}) for s in stored]
        index = {id(item): n for n, item in enumerate(scanned)}
        locator = Locator(scanned)
        picked: list[int] = []
        for raw in items:
            if raw.get("line") is not None or raw.get("file") is not None:
                return None
            found = locator.match(
                str(raw.get("kind")), str(raw.get("text", "")), raw.get("attrs") or {}
            )
            if found is None:
                return None
            picked.append(index[id(found)])
        results = entry["results"]
        return [
            {"id": str(raw.get("id", n + 1)), **results[k]}
            for n, (raw, k) in enumerate(zip(items, picked, strict=True))
        ]

    # -- storage --------------------------------------------------------------------------
    def store(self) -> None:
        """Write every entry (with its report), then the manifest that makes them valid."""
        store = self.cache / _STORE
        for file, entry in self.entries.items():
            _write(
                store / f"{_key(file)}.json",
                {**entry, "report": self.report(file, entry["failures"])},
            )
        _write(
            store / _MANIFEST,
            {
                "schema": SCHEMA,
                "run": self.run,
                "root": os.path.abspath(self.root),
                "first": self.first,
                "files": self.files,
                "chapters": {f: _key(f) for f in self.entries},
                "manifest": self.manifest.to_dict(),
            },
        )

    def entry(self, file: str) -> dict[str, Any]:
        """The stored entry of ``file``; a file outside the project's list is checked now
        and added."""
        entry = self.entries.get(file)
        if entry is None:
            entry = _read(self.cache / _STORE / f"{_key(file)}.json")
            if not (isinstance(entry, dict) and entry.get("run") == self.run):
                entry = self.evaluate(file)
                self.store()
            self.entries[file] = entry
        return entry


def _engine() -> str:
    """The code and the day the project's results were computed with (a stored check of an
    edited checkout, or of another day, is computed again)."""
    from mlsysim import __version__
    from mlsysim.book.fingerprints import engine_key

    return f"mlsysim {__version__}; {SCHEMA}; {engine_key()}"


def _fresh(root: Path, cache: Path, overrides: dict[str, Any], python: str) -> Project:
    import mlsysim

    manifest = Manifest(overrides=dict(overrides), python=python, engine=_engine())
    manifest.env = {k: os.environ.get(k, "") for k in ENV_KEYS}
    manifest.add_file(mlsysim.__file__)
    manifest.add_file(root / "_quarto.yml")
    for profile in os.environ.get("QUARTO_PROFILE", "").replace(" ", ",").split(","):
        if profile:
            manifest.add_file(root / f"_quarto-{profile}.yml")
    data_inputs(manifest)
    files = project_files(root)
    project = Project(root, cache, uuid.uuid4().hex, files, manifest, checked_now=True)
    for file in files:
        project.evaluate(file)
    _values_file(project)
    project.store()
    return project


def _values_file(project: Project) -> None:
    """The project values file (:mod:`mlsysim.book.shared`) is an input of every chapter;
    its own failures are the first file's (the first file prints the book's failures)."""
    from mlsysim.book.shared import VALUES_FILE
    from mlsysim.book.sources.check import values_failures

    project.manifest.add_file(project.root / VALUES_FILE)
    if not project.files or project.first not in project.entries:
        return
    failures = values_failures(Path(project.first or ""), set())
    if failures:
        entry = project.entries[project.first or ""]
        entry["failures"] = [f.to_dict() for f in failures] + entry["failures"]


def open_project(root: Path, cache: Path, overrides: dict[str, Any], python: str = "") -> Project:
    """The project's stored check when everything it read is unchanged, else a new check of
    every file (run with ``root`` as the working directory)."""
    data = _read(cache / _STORE / _MANIFEST)
    if isinstance(data, dict) and data.get("schema") == SCHEMA:
        manifest = Manifest.from_dict(data.get("manifest"))
        files = data.get("files")
        if (
            manifest is not None
            and isinstance(files, list)
            and data.get("root") == os.path.abspath(root)
            and manifest.holds(dict(overrides), python, _engine())
        ):
            project = Project(root, cache, str(data.get("run")), [str(f) for f in files], manifest)
            for file in files:  # the reports need every file's failures
                entry = _read(cache / _STORE / f"{_key(str(file))}.json")
                if not (isinstance(entry, dict) and entry.get("run") == project.run):
                    return _fresh(root, cache, overrides, python)
                project.entries[str(file)] = entry
            return project
    return _fresh(root, cache, overrides, python)


def _source(file: Path) -> str:
    from mlsysim.book.sources import read_source

    try:
        return read_source(file)
    except (OSError, UnicodeDecodeError):
        return ""


def note_host_options(request: dict[str, Any]) -> None:
    """Say so when the host's metadata sets options the project's files do not: a project
    render reads options from the files (as ``mlsysim check``), not from the host."""
    host = request.get("options")
    if not host:
        return
    import sys

    from mlsysim.book.sources.project import chapter_options, project_of
    from mlsysim.core.exceptions import MlsysimError

    file = Path(request["file"])
    try:
        text = _source(file)
        project = project_of(file)
        overrides = request.get("overrides")
        with_host = chapter_options(file, text, project, overrides, host=host)
        without = chapter_options(file, text, project, overrides)
    except MlsysimError:
        return
    if with_host != without:
        print(
            f"mlsysim: note: {file}: the render's metadata sets mlsysim options that the "
            "project's files do not; a project render reads options from _quarto.yml, "
            "_metadata.yml and front matter (as mlsysim check does): set them there",
            file=sys.stderr,
        )
