"""A Markdown paragraph's lines → its napkin items, placed in the file.

The block scanner (:mod:`~mlsysim.book.sources.markdown`) gathers a paragraph's lines with
where each starts (indentation, list and quote markers stripped); :class:`Paragraphs` joins
them, scans them once (:func:`~mlsysim.book.sources.inline.scan_paragraph`) and places every
item, attribute value and escape at its file line and column. A use of a MyST substitution
(``{{ name }}``) is replaced by the items of its value, placed where the value is written
(:mod:`~mlsysim.book.sources.substitutions`).
"""

from __future__ import annotations

import bisect

from mlsysim.book.sources.code_shortcodes import CODE_SHORTCODE, code_problem, not_alone
from mlsysim.book.sources.inline import Syntax, scan_paragraph
from mlsysim.book.sources.jinja import JINJA, names_of, render, unmodelled
from mlsysim.book.sources.markup import unescaped_bar
from mlsysim.book.sources.raw_tex import RAW_TEX, raw_problem
from mlsysim.book.sources.substitutions import SUBSTITUTION, Definition
from mlsysim.book.sources.text import laid_out
from mlsysim.book.syntax import Item

__all__ = ["Paragraphs", "may_hold_items", "table_cut"]


def table_cut(text: str, pandoc: bool = False) -> tuple[str, str]:
    """(message, why) of an item ``text`` that a table row's ``|`` cuts apart."""
    why = (
        "pandoc's pipe tables split a row at every '|' not escaped and not in code, also "
        "inside a span's attributes"
        if pandoc
        else "MyST (GFM) tables split a row at every '|' not escaped, also inside a role"
    )
    return (
        f"a '|' inside {text!r} ends its table cell: the item is cut in two",
        f"{why}. How to fix: write it as '\\|'",
    )


_METADATA_PROBLEM = (
    "this item is in the front matter, where it is never evaluated",
    "Quarto renders metadata such as a title or an abstract as Markdown, but mlsysim "
    "evaluates the chapter's body only (the page would show the item's source). How to fix: "
    "state the number in the front matter as plain text, or move the item into the body",
)


def may_hold_items(text: str) -> bool:
    """A quick filter: paragraphs without these characters hold no napkin item."""
    return "`" in text or "{" in text or "]" in text or "<span" in text  # (a native span)


class Paragraphs:
    """Items of the paragraphs of one source, in order; ``problems`` collects what no host
    can show as written (line, column, message, why): an item a MyST table row cuts apart,
    one of mlsysim's shortcodes inside inline code (Quarto)."""

    def __init__(self, syntax: Syntax, substitutions: dict[str, Definition]) -> None:
        self.syntax = syntax
        self.subs = substitutions
        self.steps = 0
        self.problems: list[tuple[int, int, str, str]] = []
        self._sub_items: dict[str, list[Item]] = {}

    def items(self, para: list[tuple[int, int, str]], cells: bool = False) -> list[Item]:
        """The items of one paragraph, given as (0-based line, 0-based column, text) per
        line; ``cells``: it is one row of a table, whose cells MyST splits at every
        unescaped ``|`` and pandoc at every one outside code (an item holding one is cut: a
        problem)."""
        joined = "\n".join(t for _, _, t in para)
        if not may_hold_items(joined):
            return []
        starts: list[int] = []
        pos = 0
        for _, _, t in para:
            starts.append(pos)
            pos += len(t) + 1
        found, steps = scan_paragraph(joined, self.syntax, frozenset(self.subs))
        self.steps += steps

        def place(pos: int) -> tuple[int, int]:
            k = bisect.bisect_right(starts, pos) - 1
            line_index, col, _ = para[k]
            return line_index + 1, col + pos - starts[k] + 1

        out: list[Item] = []
        margins = [c for _, c, _ in para]  # once: per item it was quadratic
        for f in found:
            if JINJA in f.attrs:  # a Jinja expression: its rendering's items, at its {{
                out.extend(self._rendered(f.attrs[SUBSTITUTION], *place(f.start)))
                continue
            if SUBSTITUTION in f.attrs:  # a use of a substitution: its value's items, there
                out.extend(self._substituted(f.attrs[SUBSTITUTION]))
                continue
            line, column = place(f.start)
            if CODE_SHORTCODE in f.attrs:  # a shortcode inside inline code: no item
                self.problems.append((line, column, *code_problem(f.text, "inline code")))
                continue
            if (
                f.kind in ("formula", "registry")
                and joined[f.span[0] : f.span[1]] != joined.strip()
            ):
                self.problems.append((line, column, *not_alone(f.kind)))  # a block, in text
                continue
            if RAW_TEX in f.attrs:  # inside a raw TeX command: never evaluated
                self.problems.append((line, column, *raw_problem("a TeX command")))
                continue
            pandoc = self.syntax.pandoc and not self.syntax.myst
            if cells and unescaped_bar(joined, f.span[0], f.span[1], code=pandoc):
                cut = joined[f.span[0] : f.span[1]]
                self.problems.append((line, column, *table_cut(cut, pandoc)))
                continue
            at = tuple((key, *place(pos)) for key, pos in f.attr_starts.items())
            text = laid_out(f.text, f.start, joined, starts, margins)
            esc = tuple(place(pos) for pos in f.escapes)
            out.append(Item(f.kind, text, line, column, f.attrs, attr_at=at, escapes=esc))
        return out

    def raw_block(self, para: list[tuple[int, int, str]], env: str) -> None:
        """A raw TeX block (``\\begin{env}`` … ``\\end{env}``, given as a paragraph's lines):
        each item written in it is a problem (pandoc never evaluates it)."""
        for item in self.items(para):
            where = f"\\begin{{{env}}}"
            self.problems.append((item.line, item.column or 1, *raw_problem(where)))

    def metadata(self, lines: list[tuple[int, str]]) -> None:
        """A pandoc chapter's YAML front matter, given as (0-based line, text): each item
        written in it is a problem (Quarto renders a title as Markdown, but only the body's
        items are evaluated)."""
        for k, text in lines:
            for item in self.items([(k, 0, text)]):
                self.problems.append((item.line, item.column or 1, *_METADATA_PROBLEM))

    def _substituted(self, name: str) -> list[Item]:
        """The items of substitution ``name``'s value, where the value is written; a use of
        another substitution in it brings that one's items, as MyST renders it (a circular
        use renders nothing: MyST warns)."""
        items = self._sub_items.get(name)
        if items is None:
            self._sub_items[name] = []  # while it is read: a use of it inside is circular
            d = self.subs[name]
            found, steps = scan_paragraph(d.value, self.syntax, frozenset(self.subs))
            self.steps += steps
            items = []
            for f in found:
                if JINJA in f.attrs:
                    items.extend(self._rendered(f.attrs[SUBSTITUTION], *d.place(f.start), d.file))
                elif SUBSTITUTION in f.attrs:
                    items.extend(self._substituted(f.attrs[SUBSTITUTION]))
                else:
                    items.append(Item(f.kind, f.text, *d.place(f.start), f.attrs, d.file))
            self._sub_items[name] = items
        return items

    def _rendered(self, expr: str, line: int, column: int, file: str | None = None) -> list[Item]:
        """The items of ``{{ expr }}`` (a Jinja expression MyST renders) at ``line:column``;
        a problem when it reads a substitution holding items in a form mlsysim cannot render."""
        names = [n for n in sorted(names_of(expr) or ()) if n in self.subs]
        holding = [n for n in names if self._substituted(n)]
        if not holding:
            return []  # nothing it reads holds an item
        rendered = render(expr, {n: d.value for n, d in self.subs.items()})
        if rendered is None:
            if file is None:  # (inside a conf.py value it has no place in the chapter)
                self.problems.append((line, column, *unmodelled(expr, holding)))
            return []
        found, steps = scan_paragraph(rendered, self.syntax, frozenset(self.subs))
        self.steps += steps
        out: list[Item] = []
        for f in found:
            if SUBSTITUTION in f.attrs and JINJA not in f.attrs:
                out.extend(self._substituted(f.attrs[SUBSTITUTION]))
            elif SUBSTITUTION not in f.attrs:
                out.append(Item(f.kind, f.text, line, column, f.attrs, file))
        return out
