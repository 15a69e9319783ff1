"""Values shared across a book's chapters: one name space per project, each name defined once.

A name bound in a napkin block of one chapter (``ridge = ridge_point(H100, "bf16")``), or in
the project's values file (:data:`VALUES_FILE`, napkin statements at the project root), can be
used in every other chapter of the same project (a Sphinx ``conf.py`` or a Quarto
``_quarto.yml`` folder). The rules, the same in Sphinx, Quarto and ``mlsysim check``:

* **order-independent**: a chapter may use a name of a later chapter. A pre-pass reads every
  chapter's bindings (a scan, no evaluation); a shared value is computed, when first used, by
  evaluating its chapter's napkin blocks in source order. Inside one chapter names still bind
  in source order (a name used above its own binding is an error, as before);
* **defined once**: a shared name — one another chapter reads, or one the values file
  defines — has one definition. A chapter that reads a name two other chapters bind gets an
  error naming both places; a chapter binding a name of the values file is an error at that
  binding naming both places (the book's one value must not be redefined on a page). A
  chapter's own binding is what the chapter reads (its names bind in source order), so
  chapters may each keep a local name (``gpus``) as long as no other chapter reads it without
  saying whose it is (``scaling::gpus``); ``rebind`` rebinds only a chapter's own name, and
  the value other chapters see is the chapter's last one;
* **explicit references** (MyST-NB glue's ``path::key``): ``roofline::ridge`` is ``ridge``
  as the chapter ``roofline`` binds it (its path relative to the project root, without or with
  its suffix, or its file name when that is unique; ``values::name`` for the values file).
  It may stand anywhere a name may (no spaces around ``::``). ``ridge = roofline::ridge``
  is an *import*: a local name for the other chapter's value, not a second
  definition;
* **cycles** between chapters (``a`` in one chapter needs ``b`` of another, which needs ``a``)
  are an error at the use, naming the places of the cycle;
* a failed shared binding makes every use fail with the place of the binding and its cause.

Dependencies: :meth:`BookValues.files_read` gives the files a chapter's shared values came
from (transitively), so a host re-reads a chapter when one of them changes;
:meth:`BookValues.places` is the definition map a host compares between builds (a name that
appears, moves or doubles re-reads its users). A :class:`BookValues` is built per state of the
project's files and of the registry data (:func:`mlsysim.book.books.book_values`), so a
changed definition is never answered from an old evaluation, and reused results
(``Document._repeat``, keyed on the binding objects read) never outlive it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.book.prepass import Definition, PrePass, definitions_in, relative_label
from mlsysim.core.exceptions import NapkinError

if TYPE_CHECKING:
    from mlsysim.book.document import Document
    from mlsysim.book.scope import Binding
    from mlsysim.book.sources import Scanned

__all__ = [
    "VALUES_FILE",
    "BookValues",
    "Definition",
    "definitions_in",
]

#: The project values file: napkin statements (one block) at the project root.
VALUES_FILE = "mlsysim-values.napkin"
#: how ``name::…`` names the values file (a chapter of that name comes first)
_VALUES_NAMES = ("values", "mlsysim-values", VALUES_FILE)


class BookValues:
    """The shared names of one project: where each is defined, and their values on demand."""

    def __init__(
        self,
        root: Path,
        files: list[Path],
        kind: str = "sphinx",
        known: dict[str, tuple[Any, list[Definition]]] | None = None,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.kind = kind
        #: label (path relative to the root, ``/``) -> file, in project order
        self.files: dict[str, Path] = {}
        for f in files:
            self.files.setdefault(relative_label(f, self.root), Path(os.path.abspath(f)))
        values = self.root / VALUES_FILE
        self.values_file: Path | None = values if values.is_file() else None
        self.definitions: dict[str, list[Definition]] = {}
        self._done: dict[str, Document] = {}
        self._running: dict[str, Document] = {}
        self._stack: list[tuple[str, str]] = []  # (file, name) being computed, outermost first
        self._read: dict[str, set[str]] = {}  # file -> files its shared values came from
        self.prepass = PrePass(self.root, kind, known)
        self._scan()

    # -- the pre-pass -------------------------------------------------------------------------
    def _scan(self) -> None:
        if self.values_file is not None:
            for d in self._values_definitions():
                self.definitions.setdefault(d.name, []).append(d)
        for label, path in self.files.items():
            for d in self.prepass.definitions(label, path) or ():
                places = self.definitions.setdefault(d.name, [])
                if d not in places:
                    places.append(d)

    @property
    def known(self) -> dict[str, tuple[Any, list[Definition]]]:
        """What a host keeps between builds and passes back (:class:`PrePass`)."""
        return self.prepass.known

    def _values_text(self) -> str:
        from mlsysim.book.sources import read_source

        assert self.values_file is not None
        try:
            return read_source(self.values_file)
        except (OSError, UnicodeDecodeError):
            return ""

    def _values_definitions(self) -> list[Definition]:
        from mlsysim.book.syntax import Item

        return definitions_in(VALUES_FILE, [Item("block", self._values_text(), 1)])

    def scanned(
        self, path: str | os.PathLike[str], text: str, syntax: str, *, keep: bool = False
    ) -> Scanned | None:
        """:meth:`PrePass.scanned` of the chapter at ``path``."""
        return self.prepass.scanned(relative_label(Path(path), self.root), text, syntax, keep)

    def places(self) -> dict[str, tuple[str, ...]]:
        """name -> where it is defined (what a host compares between builds)."""
        return {n: tuple(d.place for d in ds) for n, ds in sorted(self.definitions.items())}

    # -- what a document asks ----------------------------------------------------------------
    def attach(self, doc: Document, path: str | os.PathLike[str]) -> None:
        """Let ``doc`` (the chapter at ``path``) read the book's names."""
        label = relative_label(Path(path), self.root)
        prefix = doc.file[: -len(label)] if doc.file.endswith(label) else ""
        doc.scope.shared = _Link(self, label, prefix)

    def lookup(self, name: str, requester: str, prefix: str = "") -> Binding | None:
        """The shared binding of ``name`` for the file ``requester``; None when no other file
        defines it; NapkinError when it is defined twice or its value is part of a cycle."""
        places = self.definitions.get(name)
        if not places or any(d.file == requester for d in places):
            return None  # nowhere, or the chapter's own name: source order applies
        if len(places) > 1:
            raise self.duplicate(name, prefix)
        return self._binding(places[0], requester, prefix)

    def qualified(self, path: str, name: str, requester: str, prefix: str = "") -> Binding | None:
        """``path::name``: the binding of ``name`` in the chapter ``path``; None when it is the
        requester's own chapter (its own scope answers); NapkinError when there is none."""
        label = self._resolve(path, requester)
        d = next((p for p in self.definitions.get(name, []) if p.file == label), None)
        if d is None:
            others = ", ".join(prefix + p.place for p in self.definitions.get(name, []))
            raise NapkinError(
                f"{label} does not bind {name!r}",
                why=f"{name!r} is bound at {others}" if others else f"no chapter binds {name!r}",
                fix=f"bind `{name} = …` in a napkin block of {label}, or name the chapter "
                "that does",
            )
        if label == requester:
            return None
        return self._binding(d, requester, prefix)

    def duplicate(self, name: str, prefix: str = "") -> NapkinError:
        """The error of a name defined in more than one place."""
        places = " and ".join(prefix + d.place for d in self.definitions[name])
        return NapkinError(
            f"{name!r} is defined twice in the book: at {places}",
            why="a name another chapter reads, or the values file defines, is defined once",
            fix="rename one of them, or import the other with `name = chapter::name`",
        )

    def conflict(self, name: str, requester: str, prefix: str = "") -> NapkinError | None:
        """Why ``requester`` may not bind ``name`` (the values file defines it), or None."""
        places = self.definitions.get(name, [])
        if requester != VALUES_FILE and any(d.file == VALUES_FILE for d in places):
            return self.duplicate(name, prefix)
        return None

    def files_read(self, requester: str) -> set[Path]:
        """Every file whose bindings ``requester``'s shared values came from (transitively),
        the values file included."""
        out: set[Path] = set()
        todo = list(self._read.get(requester, ()))
        seen: set[str] = set()
        while todo:
            label = todo.pop()
            if label in seen:
                continue
            seen.add(label)
            out.add(self._path(label))
            todo.extend(self._read.get(label, ()))
        return out

    # -- evaluation -----------------------------------------------------------------------------
    def _path(self, label: str) -> Path:
        if label == VALUES_FILE:
            return self.root / VALUES_FILE
        return self.files.get(label) or self.root / label

    def _resolve(self, path: str, requester: str) -> str:
        here = os.path.dirname(requester)
        wanted = {path, os.path.normpath(os.path.join(here, path)).replace(os.sep, "/")}
        for label in self.files:
            if label in wanted or os.path.splitext(label)[0] in wanted:
                return label
        stems = [label for label in self.files if Path(label).stem == path]
        if len(stems) == 1:
            return stems[0]
        if not stems and path in _VALUES_NAMES:
            if self.values_file is None:
                raise NapkinError(
                    f"the project has no values file ({VALUES_FILE})",
                    fix=f"create {VALUES_FILE} at the project root with napkin bindings",
                )
            return VALUES_FILE
        raise NapkinError(
            f"no chapter {path!r} in the book",
            why=("ambiguous: " + ", ".join(stems)) if stems else "no project file has that path",
            fix="write the chapter's path relative to the project root, e.g. "
            "`chapters/roofline::name`",
        )

    def _binding(self, d: Definition, requester: str, prefix: str) -> Binding:
        self._read.setdefault(requester, set()).add(d.file)
        doc = self._done.get(d.file)
        if doc is None:
            running = self._running.get(d.file)
            if running is not None:
                b = running.scope.bindings.get(d.name)
                if b is not None:
                    return b
                raise self._cycle(d, prefix)
            doc = self._evaluate(d, requester)
        b = doc.scope.bindings.get(d.name)
        if b is None:  # the scan saw a binding the evaluation did not make (cannot happen)
            raise NapkinError(f"{d.name!r} is not bound at {prefix}{d.place}")
        return b

    def _cycle(self, d: Definition, prefix: str) -> NapkinError:
        start = next((k for k, (f, _) in enumerate(self._stack) if f == d.file), 0)
        chain = [f"{n} ({prefix}{self._place(n, f)})" for f, n in self._stack[start:]]
        chain.append(f"{d.name} ({prefix}{d.place})")
        return NapkinError(
            f"cycle between chapters: {' → '.join(chain)}",
            why=f"{d.name!r} is needed while {prefix}{d.file} still computes the values above it",
            fix="compute one of these values without the other (or in one chapter, in order)",
        )

    def _place(self, name: str, file: str) -> str:
        d = next((p for p in self.definitions.get(name, []) if p.file == file), None)
        return d.place if d is not None else file

    def _evaluate(self, d: Definition, requester: str) -> Document:
        """Evaluate the napkin blocks of ``d.file`` in order (its other items and its
        failures are its own chapter's business)."""
        from mlsysim.book.document import Document
        from mlsysim.book.items import run_item
        from mlsysim.book.syntax import Item

        label = d.file
        path = self._path(label)
        if label == VALUES_FILE:
            doc = Document(label, source=self._values_text())
            items = [Item("block", doc.source or "", 1)]
        else:
            doc, items = self._chapter(label, path)
        self.attach(doc, path)
        self._running[label] = doc
        self._stack.append((label, d.name))
        try:
            for item in items:
                if item.kind == "block":
                    run_item(doc, item)
        finally:
            self._stack.pop()
            del self._running[label]
        self._done[label] = doc
        return doc

    def _chapter(self, label: str, path: Path) -> tuple[Document, list[Any]]:
        from mlsysim.book.document import Document
        from mlsysim.book.options import Options
        from mlsysim.book.sources import read_source, scan_source
        from mlsysim.book.sources.project import chapter_options, project_of, syntax_for
        from mlsysim.core.exceptions import MlsysimError

        text = read_source(path)
        project = project_of(path)
        try:
            options = chapter_options(path, text, project)
        except MlsysimError:
            options = Options()
        doc = Document(label, options, source=text)
        syntax = syntax_for(path, project)
        scanned = self.scanned(path, text, syntax, keep=True)
        if scanned is None:
            scanned = scan_source(str(path), text, syntax, root=self.root)
        items = scanned.items
        doc.declare_blocks(items)
        return doc, items

    def values_document(self) -> Document | None:
        """The values file evaluated (its failures are the project's own), or None."""
        if self.values_file is None:
            return None
        d = Definition("", VALUES_FILE, 1)
        return self._done.get(VALUES_FILE) or self._evaluate(d, VALUES_FILE)

    def adopt(self, doc: Document, path: str | os.PathLike[str]) -> None:
        """Keep a fully evaluated chapter (what ``mlsysim check`` just checked) as the source
        of its shared values, unless they were computed already."""
        label = relative_label(Path(path), self.root)
        if label in self.files and label not in self._done and label not in self._running:
            self._done[label] = doc


@dataclass(frozen=True, slots=True)
class _Link:
    """A document's view of the book: its file's label and how its failures name files."""

    book: BookValues
    file: str
    prefix: str

    def lookup(self, name: str) -> Binding | None:
        return self.book.lookup(name, self.file, self.prefix)

    def qualified(self, path: str, name: str) -> Binding | None:
        return self.book.qualified(path, name, self.file, self.prefix)

    def conflict(self, name: str) -> NapkinError | None:
        return self.book.conflict(name, self.file, self.prefix)

    def place(self, binding: Binding) -> str:
        """Where a binding read from the book is (for messages)."""
        for d in self.book.definitions.get(binding.name, []):
            if d.line == binding.line:
                return self.prefix + d.place
        return f"line {binding.line}"
