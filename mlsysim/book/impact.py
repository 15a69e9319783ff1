"""What changes in a book when its registry data or formulas change: ``mlsysim impact``.

The book is evaluated twice through the scanner and evaluation ``mlsysim check`` uses, once
with the old data and once with the new, and the two observations are compared item by item:
every rendered value (inline values, derivations, tables, plots' descriptions), every binding
of a napkin block, and the verdict of every claim and check. An observation can also be saved
(:meth:`Observation.to_dict`) and compared later, so the impact of a code change — a formula
rewritten — is measured the same way: observe on the old checkout, then on the new.

Old data comes from a folder (``--data OLD NEW``: OLD is read in place of the data folder NEW;
when NEW is no data folder of the book, each run adds its own) or from git (``--since REV``:
every data folder inside the repository as it was at REV).
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlsysim.book.options import Options
from mlsysim.core.exceptions import ConfigError

__all__ = [
    "IMPACT_SCHEMA",
    "OBSERVATION_SCHEMA",
    "Change",
    "Impact",
    "Observation",
    "Observed",
    "compare",
    "data_at_revision",
    "impact_of_data",
    "observe",
]

IMPACT_SCHEMA = "mlsysim.impact/1"
OBSERVATION_SCHEMA = "mlsysim.observation/1"
_VALUE_KINDS = {
    "inline": "value",
    "eq": "derivation",
    "table": "table",
    "plot": "plot",
    "formula": "formula card",
    "registry": "registry table",
}


@dataclass(frozen=True, slots=True)
class Observed:
    """One item of a book as evaluated: where, what it showed, and whether it passed."""

    file: str
    line: int
    column: int | None
    kind: str  # value, derivation, table, plot, binding, claim, check, …
    text: str
    shown: str | None  # the rendered value (None: nothing shown, e.g. a check)
    ok: bool
    message: str = ""

    @property
    def key(self) -> tuple[str, int, int | None, str, str]:
        return (self.file, self.line, self.column, self.kind, self.text)

    def location(self) -> str:
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")


@dataclass
class Observation:
    """Every observed item of a book, in file order."""

    items: list[Observed] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": OBSERVATION_SCHEMA, "items": [asdict(i) for i in self.items]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        if data.get("schema") != OBSERVATION_SCHEMA:
            raise ConfigError(
                f"not an mlsysim observation (schema {data.get('schema')!r})",
                fix="save one with `mlsysim impact PATH… --save FILE`",
            )
        return cls([Observed(**i) for i in data.get("items", [])])


def observe(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
) -> Observation:
    """Evaluate the chapters under ``paths`` as ``mlsysim check`` does, recording each item."""
    from mlsysim.book.sources.check import check_sources

    seen: list[Observed] = []
    values: dict[tuple[str, int, int | None, str, str], Observed] = {}

    def on_item(doc: Any, item: Any, outcome: Any) -> None:
        file = item.file or doc.file
        if item.kind == "block":
            for b in doc.scope.bindings.values():
                if (
                    b.line >= item.line
                    and not b.failed
                    and b.line <= item.line + item.text.count("\n")
                ):
                    text = f"{b.name} = {b.expression}"
                    shown = doc.evaluator.text(b.value, digits=b.digits)
                    values[(file, b.line, None, "binding", text)] = Observed(
                        file, b.line, None, "binding", text, shown, True
                    )
            return
        kind = _VALUE_KINDS.get(item.kind)
        if kind is None or outcome.rendered is None or not outcome.ok:
            return
        shown = outcome.rendered.text
        text = " ".join(item.text.split())[:200]
        values[(file, item.line, item.column, kind, text)] = Observed(
            file, item.line, item.column, kind, text, shown, True
        )

    def on_document(doc: Any) -> None:
        for checked in doc.items():
            if checked.kind in ("claim", "check"):
                failing = checked.blocking or checked.failures
                first = failing[0] if failing else None
                seen.append(
                    Observed(
                        checked.file,
                        checked.line,
                        checked.column,
                        checked.kind,
                        " ".join(checked.text.split())[:200],
                        first.value if first is not None else None,
                        first is None,
                        first.message if first is not None else "",
                    )
                )
            elif checked.failures:
                first = checked.failures[0]
                text = " ".join(checked.text.split())[:200]
                seen.append(
                    Observed(
                        checked.file,
                        checked.line,
                        checked.column,
                        "error",
                        text,
                        None,
                        False,
                        first.message,
                    )
                )
        seen.extend(values.values())
        values.clear()

    check_sources(paths, options, explicit=explicit, on_item=on_item, on_document=on_document)
    seen.sort(key=lambda o: (o.file, o.line, o.column or 0, o.kind))
    return Observation(seen)


@dataclass(frozen=True, slots=True)
class Change:
    """One item that differs: ``what`` is ``value`` (the shown value changed), ``fails`` (a
    claim, check or value that passed now fails), ``passes`` (the reverse), ``new`` or
    ``gone`` (the item exists on one side only)."""

    what: str
    old: Observed | None
    new: Observed | None

    @property
    def item(self) -> Observed:
        item = self.new or self.old
        assert item is not None
        return item

    def to_dict(self) -> dict[str, Any]:
        it = self.item
        return {
            "change": self.what,
            "file": it.file,
            "line": it.line,
            "column": it.column,
            "kind": it.kind,
            "text": it.text,
            "old": self.old.shown if self.old else None,
            "new": self.new.shown if self.new else None,
            "old_ok": self.old.ok if self.old else None,
            "new_ok": self.new.ok if self.new else None,
            "message": (self.new.message if self.new else "") or "",
        }

    def line_text(self) -> str:
        it = self.item
        old = self.old.shown if self.old else None
        new = self.new.shown if self.new else None
        if self.what == "fails":
            return f"{it.location()}: {it.kind} would start failing: {it.text}\n    {it.message}"
        if self.what == "passes":
            return f"{it.location()}: {it.kind} would pass again: {it.text}"
        if self.what == "value" and "\n" in f"{old}{new}":
            a, b = (old or "").splitlines(), (new or "").splitlines()
            diff = [f"    - {x}\n    + {y}" for x, y in zip(a, b, strict=False) if x != y]
            head = it.text.split(" ", 1)[0] if it.kind == "table" else it.text
            return f"{it.location()}: {it.kind} {head}:\n" + "\n".join(diff)
        if self.what == "value":
            return f"{it.location()}: {it.kind} {it.text}: {old} → {new}"
        return f"{it.location()}: {it.kind} {self.what}: {it.text}"


@dataclass
class Impact:
    """The difference between two observations of one book."""

    changes: list[Change]
    compared: int
    old_label: str = "old"
    new_label: str = "new"

    @property
    def failing(self) -> list[Change]:
        return [c for c in self.changes if c.what == "fails"]

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in ("value", "fails", "passes", "new", "gone")}
        for c in self.changes:
            out[c.what] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": IMPACT_SCHEMA,
            "old": self.old_label,
            "new": self.new_label,
            "compared": self.compared,
            "counts": self.counts(),
            "changes": [c.to_dict() for c in self.changes],
        }

    def text(self) -> str:
        lines = [c.line_text() for c in self.changes]
        n = self.counts()
        lines.append(
            f"mlsysim impact ({self.old_label} → {self.new_label}): {n['value']} values change, "
            f"{n['fails']} items would start failing, {n['passes']} would pass again "
            f"({self.compared} items compared)"
        )
        return "\n".join(lines)

    def github(self) -> tuple[str, str]:
        """Workflow annotations (stdout) and the step summary's Markdown."""
        from mlsysim.viz.format import escape_markdown

        notes = []
        for c in self.changes:
            it = c.item
            level = "error" if c.what == "fails" else "notice"
            body = c.line_text().split(": ", 1)[1].replace("\n", "%0A")
            notes.append(f"::{level} file={it.file},line={it.line}::{body}")
        n = self.counts()
        md = [
            f"### mlsysim impact: {self.old_label} → {self.new_label}",
            "",
            f"{n['value']} values change, {n['fails']} items would start failing, "
            f"{n['passes']} would pass again ({self.compared} items compared).",
            "",
        ]
        if self.changes:
            md += ["| where | item | old | new |", "|---|---|---|---|"]
            for c in self.changes:
                it = c.item
                old = (c.old.shown if c.old else None) or ("pass" if c.old and c.old.ok else "—")
                new = (c.new.shown if c.new else None) or ("pass" if c.new and c.new.ok else "—")
                if c.what == "fails":
                    new = "**fails**: " + (c.new.message if c.new else "")
                cells = [f"`{it.location()}`", f"{it.kind} `{it.text}`", old, new]
                md.append(
                    "| " + " | ".join(escape_markdown(x).replace("|", "\\|") for x in cells) + " |"
                )
        return "\n".join(notes), "\n".join(md) + "\n"


def compare(
    old: Observation, new: Observation, old_label: str = "old", new_label: str = "new"
) -> Impact:
    """Item-by-item differences of two observations of the same sources."""
    before = {o.key: o for o in old.items}
    after = {o.key: o for o in new.items}
    changes: list[Change] = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1], k[2] or 0, k[3])):
        a, b = before.get(key), after.get(key)
        if a is None:
            changes.append(Change("new", None, b))
        elif b is None:
            changes.append(Change("gone", a, None))
        elif a.ok and not b.ok:
            changes.append(Change("fails", a, b))
        elif not a.ok and b.ok:
            changes.append(Change("passes", a, b))
        elif a.shown != b.shown:
            changes.append(Change("value", a, b))
    return Impact(changes, len(set(before) & set(after)), old_label, new_label)


def _is_data_dir(path: Path) -> bool:
    from mlsysim.core.registry import data_dirs

    target = path.resolve()
    return any(d.resolve() == target for d in data_dirs())


def impact_of_data(
    paths: list[str],
    old: Path,
    new: Path,
    options: Options | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
) -> Impact:
    """The book under ``paths`` with the data folder ``old`` read in place of ``new`` (a
    folder of the book's data: a package data folder, ``MLSYSIM_DATA_PATH``'s, a project's
    ``mlsysim_data_dirs``), against the book as it is. When ``new`` is no data folder of the
    book, each run adds its folder as extra data."""
    from mlsysim.core.registry import substituted_data

    for folder in (old, new):
        if not folder.is_dir():
            raise ConfigError(f"data folder {str(folder)!r} does not exist")
    with substituted_data():  # the book's own data folders register inside
        present = observe(paths, options, explicit=explicit)
        replaced = _is_data_dir(new)
    if replaced:
        with substituted_data({new: old}):
            before = observe(paths, options, explicit=explicit)
        after = present
    else:
        with substituted_data(added=[old]):
            before = observe(paths, options, explicit=explicit)
        with substituted_data(added=[new]):
            after = observe(paths, options, explicit=explicit)
    return compare(before, after, str(old), str(new))


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


@contextmanager
def data_at_revision(revision: str, cwd: Path | None = None) -> Iterator[dict[Path, Path]]:
    """Every current data folder inside the git repository of ``cwd``, as it was at
    ``revision`` (extracted to a temporary folder): ``{current folder: old copy}``. A folder
    that did not exist then maps to an empty one. ConfigError for an unknown revision."""
    from mlsysim.core.registry import data_dirs

    where = (cwd or Path.cwd()).resolve()
    top_proc = _git(["rev-parse", "--show-toplevel"], where)
    if top_proc.returncode != 0:
        raise ConfigError(
            "--since needs a git repository", fix="run it inside the book's repository"
        )
    top = Path(top_proc.stdout.decode().strip()).resolve()
    if _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], top).returncode != 0:
        raise ConfigError(f"no git revision {revision!r}", fix="give a commit, tag or branch")
    with tempfile.TemporaryDirectory(prefix="mlsysim-impact-") as tmp:
        mapping: dict[Path, Path] = {}
        for folder in data_dirs():
            real = folder.resolve()
            try:
                rel = real.relative_to(top)
            except ValueError:
                continue  # outside the repository: the same data on both sides
            dest = Path(tmp) / str(len(mapping))
            dest.mkdir()
            archive = _git(["archive", "--format=tar", revision, "--", rel.as_posix()], top)
            if archive.returncode == 0:
                with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                    tar.extractall(dest, filter="data")
            mapping[real] = dest / rel if (dest / rel).is_dir() else dest
        yield mapping


def impact_since(
    paths: list[str],
    revision: str,
    options: Options | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
) -> Impact:
    """The book with every data folder inside its git repository as at ``revision``, against
    the working tree."""
    from mlsysim.core.registry import substituted_data

    with substituted_data():
        present = observe(paths, options, explicit=explicit)
        with data_at_revision(revision) as mapping, substituted_data(mapping):
            before = observe(paths, options, explicit=explicit)
    return compare(before, present, revision, "working tree")
