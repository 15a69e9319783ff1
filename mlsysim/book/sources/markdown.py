"""Napkin items of a Markdown source — MyST (Sphinx), pandoc (Quarto) or both — block first.

The block structure is read line by line, as CommonMark and pandoc read it, before any inline
item is looked for, so that what is code stays code:

* YAML front matter at the top; fenced code (backticks, tildes), also inside list items and
  block quotes and on a list item's own line; indented code blocks outside lists; HTML
  comments; in MyST, ``%`` comment lines, ``+++`` block breaks and raw HTML blocks;
* napkin blocks: MyST directives ```` ```{napkin} ```` / ``:::{napkin}`` (and ``napkin-eq``,
  ``napkin-table``; ``:key: value`` or ``---`` YAML options), pandoc code blocks
  ```` ```{.napkin} ```` / ```` ```napkin ````; other MyST directives whose content is Markdown
  (``{note}`` …) are scanned inside, pandoc ``:::`` divs are transparent;
* includes: MyST ``{include}`` and Quarto ``{{< include file >}}`` (the caller reads them);
* everything else is paragraphs, scanned for inline items by
  :func:`~mlsysim.book.sources.inline.scan_paragraph` with lines joined, so a role may span
  two lines.

Items carry the 1-based line and column of their first character. One pass over the lines;
every line is looked at a bounded number of times.
"""

from __future__ import annotations

from mlsysim.book.sources.blocks import (
    BLOCK_KIND,
    CODE_DIRECTIVES,
    Include,
    amsmath_environment,
    directive_options,
    fence_run,
    footnote_marker,
    is_rule,
    list_marker,
    myst_directive,
    pandoc_block,
    pandoc_fence_info,
    pandoc_marker,
    quote_prefix,
)
from mlsysim.book.sources.captions import (
    attribute_items,
    cell_captions,
    executable_cell,
    inline_options,
    listing_caption,
)
from mlsysim.book.sources.code_shortcodes import block_problems
from mlsysim.book.sources.fences import fence_content, fence_end, myst_item, past_options
from mlsysim.book.sources.grid import grid_rows, is_grid_separator
from mlsysim.book.sources.html_blocks import admonition_text, html_block_start
from mlsysim.book.sources.inline import Syntax
from mlsysim.book.sources.markup import (
    INLINE_OPTIONS,
    MARKUP_ARGUMENT,
    front_matter_end,
    is_delimiter_row,
    reference_definition,
)
from mlsysim.book.sources.paragraphs import Paragraphs
from mlsysim.book.sources.raw_tex import tex_environment
from mlsysim.book.sources.shortcodes import ShortcodeReader
from mlsysim.book.sources.substitutions import Definition, front_matter_substitutions
from mlsysim.book.sources.text import find, indent_of
from mlsysim.book.syntax import Item

__all__ = ["MarkdownScanner"]


class MarkdownScanner:
    """Scans one Markdown text; :meth:`scan` returns items and includes in document order."""

    def __init__(
        self, text: str, syntax: Syntax, substitutions: dict[str, Definition] | None = None
    ) -> None:
        self.lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
        self.syntax = syntax
        self.out: list[Item | Include] = []
        self.steps = 0
        self._para: list[tuple[int, int, str]] = []  # (line index, column, text)
        self._table = False  # the last line was a MyST table's delimiter row or a row under it
        self._prose: list[tuple[str, int]] = []  # open MyST directives with Markdown content
        self._lists: list[int] = []  # content columns of the open list items
        self._paras = Paragraphs(syntax, dict(substitutions or {}))
        self._no_end: dict[str, int] = {}  # an amsmath \end{…} no line from here holds
        #: what no host shows as written: (line, column, message, why)
        self.problems = self._paras.problems
        self._pandoc = syntax.pandoc and not syntax.myst  # pandoc's own Markdown (Quarto)
        self._markers = self._pandoc or syntax.deflist  # list markers CommonMark lacks

    # -- driver ---------------------------------------------------------------------------
    def scan(self) -> list[Item | Include]:
        i, steps = front_matter_end(self.lines, self.syntax.myst and not self.syntax.pandoc)
        self.steps += steps
        if self._pandoc and i:  # metadata: Markdown in Quarto, but never evaluated
            self._paras.metadata([(k, self.lines[k]) for k in range(1, i - 1)])
        if self.syntax.substitution:
            self._paras.subs.update(front_matter_substitutions(self.lines, i))
        prev_blank = True
        while i < len(self.lines):
            self.steps += 1
            nxt, blank = self._line(i, prev_blank)
            prev_blank = blank
            i = nxt
        self._flush()
        self.steps += self._paras.steps
        return self.out

    def _line(self, i: int, prev_blank: bool) -> tuple[int, bool]:
        """Process line ``i``; return the next line to read and whether this one was blank."""
        raw = self.lines[i]
        depth, qcol = quote_prefix(raw)
        body = raw[qcol:]
        if not body.strip():
            self._flush()
            self._table = False
            return i + 1, True
        ind = indent_of(body)
        lazy = bool(self._para)
        while self._lists and ind < self._lists[-1] and not lazy:
            self._lists.pop()
        container = self._lists[-1] if self._lists else 0
        text = body.lstrip(" \t")
        col = qcol + (len(body) - len(text))
        if ind - container >= 4 and not self._para and prev_blank:
            return self._indented_code(i, container), False
        marker = list_marker(text) if ind - container <= 3 else 0
        hold = marker
        if not marker and self._markers and ind - container <= 3 and len(self._para) <= 1:
            marker, hold = self._other_marker(text)
        if marker:
            self._flush()
            self._lists.append(ind + hold)
            text, col = text[marker:], col + marker
            if not text.strip():
                return i + 1, False
            ind = ind + marker
        note = footnote_marker(text) if not marker and ind - container <= 3 else 0
        if note:  # a footnote's indented blocks belong to it, as a list item's do
            self._flush()
            self._lists.append(ind + 4)
            text, col = text[note:], col + note
            if not text.strip():
                return i + 1, False
            ind = ind + 4
        if self._close_prose(text):  # before fences: a bare ``` here closes {note} & co.
            self._flush()
            return i + 1, False
        ch, run = fence_run(text)
        if run and ind - (self._lists[-1] if self._lists else 0) <= 3:
            handled = self._fence(i, depth, qcol, col, ch, run, text)
            if handled is not None:
                return handled, False
        if text.startswith("<!--"):
            self._flush()
            return self._html_comment(i, qcol), False
        if self.syntax.myst and not self.syntax.pandoc:
            if text.startswith(("%", "+++")):  # a comment; a block break (its text is metadata)
                self._flush()
                return i + 1, False
            if html_block_start(text):
                self._flush()
                end = self._until_blank(i)
                if self.syntax.html_admonition:  # MyST reads admonition divs as Markdown
                    part = [(k, qcol, self.lines[k][qcol:]) for k in range(i, end)]
                    for para in admonition_text(part) or ():
                        self._para = para
                        self._flush()
                return end, False
            env = amsmath_environment(text) if self.syntax.amsmath else None
            end = self._until_line_with(i, f"\\end{{{env}}}") if env is not None else -1
            if end > 0:  # MyST's amsmath: a math block up to its \end{…} (unclosed: text)
                self._flush()
                return end, False
        env = tex_environment(text) if self.syntax.pandoc and not self.syntax.myst else None
        end = self._until_line_with(i, f"\\end{{{env}}}") if env is not None else -1
        if end > 0 and env is not None:  # pandoc's raw TeX block: its items never evaluate
            self._flush()
            self._paras.raw_block([(k, qcol, self.lines[k][qcol:]) for k in range(i, end)], env)
            return end, False
        if self.syntax.pandoc and text.startswith("{{< include"):
            include = self._quarto_include(text, i)
            if include is not None:
                self._flush()
                self.out.append(include)
                return i + 1, False
        if self.syntax.pandoc and not self._para and is_grid_separator(text):
            return self._grid_table(i, qcol, col), False
        if text.startswith(("#", "|")) or is_rule(text):
            self._flush()
            self._para.append((i, col, text))
            row = text.startswith("|") and self._table and (self._pandoc or not self.syntax.pandoc)
            self._table = text.startswith("|") and (self._table or is_delimiter_row(text))
            self._flush(cells=row)
            return i + 1, False
        self._table = False
        if text[0] == "[" and not self._para and reference_definition(text):  # a URL, a title
            return i + 1, False
        self._para.append((i, col, text))
        return i + 1, False

    def _other_marker(self, text: str) -> tuple[int, int]:
        """(width, indent of later blocks) of pandoc's other list markers (fancy, example,
        definition lists) or of a MyST deflist definition; each starts a block, but a
        definition may follow its one-line term."""
        if text[:1] in (":", "~") and text[1:2] in (" ", "\t"):
            return pandoc_marker(text)  # MyST's deflist: the same marker and columns
        if self._para or not self._pandoc:
            return 0, 0
        if text[:1] in "(#@" or "." in text[1:14] or ")" in text[1:14]:  # (a quick filter)
            return pandoc_marker(text)
        return 0, 0

    # -- paragraphs -----------------------------------------------------------------------
    def _flush(self, cells: bool = False) -> None:
        """Scan the paragraph gathered so far (``cells``: one row of a MyST table)."""
        if self._para:
            para, self._para = self._para, []
            self.out.extend(self._paras.items(para, cells))

    def _grid_table(self, i: int, qcol: int, col: int) -> int:
        """A pandoc grid table from its top border at line ``i``: each cell scanned as one
        paragraph of its lines (an item may run over a cell's lines); the next line."""
        end, cells = grid_rows(self.lines, i, qcol, col)
        self.steps += end - i
        for cell in cells:
            for k, c, seg in cell:
                stripped = seg.strip()
                if not stripped:
                    self._flush()
                    continue
                self._para.append((k, c + len(seg) - len(seg.lstrip()), stripped))
            self._flush()
        return end

    # -- blocks ---------------------------------------------------------------------------
    def _indented_code(self, i: int, container: int) -> int:
        lines = self.lines
        k = i
        while k < len(lines):
            self.steps += 1
            body = lines[k][quote_prefix(lines[k])[1] :]
            if body.strip() and indent_of(body) < container + 4:
                break
            k += 1
        if self.syntax.pandoc:
            self._code(i, k)
        return k

    def _code(self, first: int, stop: int) -> None:
        found, steps = block_problems(self.lines, first, stop)
        self.problems += found
        self.steps += steps

    def _html_comment(self, i: int, qcol: int) -> int:
        lines = self.lines
        start = lines[i].find("<!--", qcol) + 4
        k = i
        while k < len(lines):
            self.steps += 1
            if find(lines[k], "-->", start if k == i else 0) >= 0:
                return k + 1
            k += 1
        return k

    def _until_line_with(self, i: int, end: str) -> int:
        """The line after the first line from ``i`` that holds ``end``, or -1 if none does
        (remembered: asked again from a later line, it answers at once)."""
        if self._no_end.get(end, len(self.lines) + 1) <= i:
            return -1
        k = i
        while k < len(self.lines):
            self.steps += 1
            k += 1
            if end in self.lines[k - 1]:
                return k
        self._no_end[end] = i
        return -1

    def _until_blank(self, i: int) -> int:
        k = i
        while k < len(self.lines) and self.lines[k].strip():
            self.steps += 1
            k += 1
        return k

    def _close_prose(self, text: str) -> bool:
        if not self._prose:
            return False
        ch, run = fence_run(text)
        top_ch, top_run = self._prose[-1]
        if ch == top_ch and run >= top_run and not text[run:].strip():
            self._prose.pop()
            return True
        return False

    def _quarto_include(self, text: str, i: int) -> Include | None:
        for _, _, sc in ShortcodeReader(text).shortcodes():
            if sc is not None and sc.name == "include" and sc.args:
                return Include(sc.args[0][0], i + 1, {}, "pandoc")
        return None

    def _fence(
        self, i: int, depth: int, qcol: int, col: int, ch: str, run: int, text: str
    ) -> int | None:
        """Handle a fence opening at line ``i``; None when the line is not one after all."""
        info = text[run:].strip()
        if ch == "`" and "`" in info and not (self._pandoc and pandoc_fence_info(info)):
            return None  # an inline code span, not a fence
        directive = myst_directive(info) if self.syntax.myst else None
        if ch == ":" and directive is None:
            if self.syntax.pandoc:
                self._flush()
                rest = text[run:]
                self._attribute_items(i, col + run + len(rest) - len(rest.lstrip()), info)
                return i + 1  # a pandoc div fence: its content is Markdown
            return None
        self._flush()
        prose = directive is not None and directive[0] not in (*BLOCK_KIND, "include")
        if prose and directive[0] not in CODE_DIRECTIVES:  # type: ignore[index]
            self._prose.append((ch, run))
            name, arg = directive  # type: ignore[misc]
            if arg and name in MARKUP_ARGUMENT:  # a title: inline Markdown on this line
                self._para.append((i, col + len(text.rstrip()) - len(arg), arg))
                self._flush()
            # Markdown content after the options: read it
            after_options, steps = past_options(self.lines, i + 1, qcol)
            self.steps += steps
            if name in INLINE_OPTIONS:
                self._inline_options(
                    name, [ln[qcol:] for ln in self.lines[i + 1 : after_options]], i
                )
            return after_options
        fence_indent = col - qcol
        container = self._lists[-1] if self._lists else 0
        end, after, steps = fence_end(self.lines, i, depth, ch, run, fence_indent, container)
        self.steps += steps
        body = [fence_content(self.lines[k], qcol, fence_indent) for k in range(i + 1, end)]
        if directive is not None:
            name, arg = directive
            if name in BLOCK_KIND:
                self.out.append(myst_item(self.lines, name, arg, body, i, col))
                return after
            if name == "include":
                self.out.append(Include(arg, i + 1, directive_options(body)[0], "myst"))
            elif name == "eval-rst":
                self._eval_rst(body, i + 1, col)
            elif name in INLINE_OPTIONS:
                self._inline_options(name, body, i)
            return after
        if self.syntax.pandoc:
            starts: dict[str, int] = {}
            kind, attrs = pandoc_block(info, starts)
            rest = text[run:]
            at_info = col + run + len(rest) - len(rest.lstrip())
            if kind is not None:
                at = tuple((k, i + 1, at_info + 1 + v) for k, v in starts.items())
                self.out.append(Item(kind, "\n".join(body), i + 2, col + 1, attrs, attr_at=at))
            else:  # Quarto expands shortcodes in code, as text
                found, steps = listing_caption(info, i, at_info, self.syntax)
                if executable_cell(info):
                    found, steps = cell_captions(self.lines, i + 1, end, self.syntax)
                self.out.extend(found)
                self.steps += steps
                self._code(i + 1, end)
        return after

    def _inline_options(self, name: str, body: list[str], i: int) -> None:
        """The options of directive ``name`` (at line ``i``) that Sphinx parses inline."""
        for para in inline_options(body, self.lines, i, INLINE_OPTIONS[name]):
            self._para = [para]
            self._flush()

    def _attribute_items(self, i: int, start: int, info: str) -> None:
        """Items inside a div's caption attributes, Markdown in Quarto."""
        found, steps = attribute_items(info, i, start, self.syntax)
        self.out.extend(found)
        self.steps += steps

    def _eval_rst(self, body: list[str], first: int, col: int) -> None:
        """A MyST ``{eval-rst}`` block: reST that Sphinx parses, so its roles are items."""
        from mlsysim.book.sources.rst import RstScanner

        rst = RstScanner("\n".join(body))
        entries = rst.scan()
        self.steps += rst.steps
        for e in entries:
            if isinstance(e, Item):
                self.out.append(
                    Item(e.kind, e.text, e.line + first, (e.column or 1) + col, e.attrs)
                )
