"""Napkin items inside one Markdown paragraph, found the way MyST and pandoc find them.

A paragraph is scanned once, left to right, with what the hosts give precedence to:

* a backslash escapes the next character;
* a code span (a run of backticks closed by a run of the same length) is opaque — unless,
  in pandoc syntax, it is followed by attributes with class ``napkin``: ``` `x`{.napkin} ```;
* MyST roles ``{napkin}`x` ``, ``{claim}`…` `` and ``{napkin-eq}`…` `` (content up to the
  first run of as many backticks, as MyST reads it; it may span lines);
* pandoc spans ``[text]{.claim of="…"}`` and ``[x]{.napkin}`` (brackets matched outside
  code; items inside a claim span are part of its text, not items of their own);
* Quarto shortcodes ``{{< napkin … >}}``, ``{{< claim … >}}``, ``{{< napkin-eq … >}}``
  (escaped ones are not run; inside code, where Quarto expands them as text, a problem);
* an inline HTML comment ``<!-- … -->`` is opaque;
* TeX math is opaque (an item written inside math is math, never evaluated): in pandoc
  syntax as pandoc reads it, ``$$…$$``, and ``$…$`` whose opening ``$`` has a non-space on
  its right and whose closing ``$`` — the next one, pandoc never looks past it — has a
  non-space on its left and no digit after it (``$700-$800 … $5`` is no math); in
  MyST with dollarmath as its defaults read it (spaces and digits allowed: the next ``$``).

Positions are 0-based offsets into the paragraph (the block scanner maps them to lines and
columns). All linear: backtick runs come from one :class:`~.text.BacktickRuns`, brackets use
a stack, shortcodes are read by one :class:`~.shortcodes.ShortcodeReader`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlsysim.book.sources.code_shortcodes import CODE_SHORTCODE, in_code_span
from mlsysim.book.sources.flavours import Syntax
from mlsysim.book.sources.html_spans import napkin_span
from mlsysim.book.sources.jinja import JINJA
from mlsysim.book.sources.markup import autolink_end
from mlsysim.book.sources.raw_tex import RAW_TEX, Groups, command_end
from mlsysim.book.sources.shortcodes import ShortcodeReader
from mlsysim.book.sources.substitutions import SUBSTITUTION, reference_name
from mlsysim.book.sources.text import (
    MAX_TICKS,
    Attrs,
    BacktickRuns,
    Finder,
    code_text,
    parse_attrs,
    plain_markup,
)
from mlsysim.book.syntax import UNSUPPORTED_SHORTCODE, ItemKind

__all__ = ["Found", "Syntax", "scan_paragraph"]

_ROLE_KIND: dict[str, ItemKind] = {"napkin": "inline", "claim": "claim", "napkin-eq": "eq"}
#: Quarto shortcodes: the roles' items, and the reference a page shows
_SHORTCODE_KIND: dict[str, ItemKind] = {
    **_ROLE_KIND,
    "napkin-formula": "formula",
    "napkin-registry": "registry",
    # no such shortcodes (a table or chart needs one line per column or series): found, so
    # every host reports them at their place (``items.run_item`` says what to write instead)
    "napkin-table": "table",
    "napkin-plot": "plot",
}
_ROLE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+:")
_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@dataclass(slots=True)
class Found:
    """An item found in a paragraph: kind, text, where its text starts, attributes, span."""

    kind: ItemKind
    text: str
    start: int
    attrs: dict[str, str] = field(default_factory=dict)
    span: tuple[int, int] = (0, 0)
    #: where each attribute's value starts in the paragraph (pandoc attributes)
    attr_starts: dict[str, int] = field(default_factory=dict)
    #: where the paragraph has a character its text or values drop (an escape's backslash)
    escapes: tuple[int, ...] = ()


def _escaped(text: str, j: int) -> bool:
    """Whether the character at ``j`` follows an odd run of backslashes."""
    k = j
    while k > 0 and text[k - 1] == "\\":
        k -= 1
    return (j - k) % 2 == 1


def _strip_offset(raw: str) -> int:
    text = raw.replace("\n", " ")
    return 1 if len(text) >= 2 and text[0] == " " and text[-1] == " " and text.strip() else 0


class _Scanner:
    def __init__(self, text: str, syntax: Syntax) -> None:
        self.text = text
        self.syntax = syntax
        self.runs = BacktickRuns(text)
        self.found: list[Found] = []
        self.claim_spans: list[tuple[int, int]] = []
        self.steps = 0
        self.names: frozenset[str] = frozenset()  # substitutions a `{{ name }}` may use
        self._subst_end = Finder(text, "}}")
        # attribute blocks that fail to parse are re-read from each '{': bound the total
        self._attr_budget = 4 * len(text) + 1000
        self._comment_end = Finder(text, "-->")
        self._tag_end = Finder(text, ">")
        self._span_end = Finder(text, "</span>")
        self._math_closes: list[int] | None = None  # valid closing '$' of inline math
        self._math_k = 0
        self._display_open = True  # False once no closing '$$' is left
        self.shortcodes: dict[int, tuple[int, object]] = {}
        self.tex = syntax.pandoc and not syntax.myst  # pandoc's raw TeX commands are opaque
        self._groups: Groups | None = None
        if syntax.pandoc and "{{" in text:
            reader = ShortcodeReader(text)
            for start, end, sc in reader.shortcodes():
                self.shortcodes[start] = (end, sc)
            self.steps += reader.steps

    def _marks(self) -> list[int]:
        """Positions of the characters where anything can start (every other character is
        passed over): escapes, backticks, comments, roles and shortcodes, spans' brackets;
        each found by C-level searches, one pass per character kind."""
        chars = "\\`<"
        if self.syntax.myst or self.shortcodes:
            chars += "{"
        if self.syntax.pandoc:
            chars += "[]"
        if self.syntax.math:
            chars += "$"
        text = self.text
        marks: list[int] = []
        for c in chars:
            j = text.find(c)
            while j >= 0:
                marks.append(j)
                j = text.find(c, j + 1)
        marks.sort()
        return marks

    def scan(self) -> list[Found]:
        text, n = self.text, len(self.text)
        brackets: list[int] = []
        marks = self._marks()
        k, count = 0, len(marks)
        i = 0
        while i < n:
            while k < count and marks[k] < i:
                k += 1
            if k == count:
                break
            i = marks[k]
            self.steps += 1
            ch = text[i]
            if ch == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
                i += 2
                continue
            if ch == "\\" and self.tex and text[i + 1 : i + 2].isalpha():
                i = self._raw_tex(i)
                continue
            if i in self.shortcodes:
                i = self._shortcode(i)
                continue
            if ch == "`":
                i = self._backticks(i)
                continue
            if ch == "{" and self.names and text.startswith("{{", i):
                close = self._subst_end.next(i + 2)
                ref = reference_name(text, i, close)
                if ref is not None and ref[0] in self.names:
                    self.found.append(
                        Found("inline", ref[0], i, {SUBSTITUTION: ref[0]}, (i, ref[1]))
                    )
                    i = ref[1]
                    continue
                if ref is None and close > i + 2 and "\n" not in text[i:close]:  # Jinja
                    at = {SUBSTITUTION: text[i + 2 : close].strip(), JINJA: "1"}
                    self.found.append(Found("inline", at[SUBSTITUTION], i, at, (i, close + 2)))
                    i = close + 2
                    continue
            if ch == "{" and self.syntax.myst:
                end = self._role(i)
                if end is not None:
                    i = end
                    continue
            if ch == "$" and self.syntax.math:
                end = self._math(i)
                if end is not None:
                    i = end
                    continue
            if ch == "<" and self.tex and text.startswith("<span", i):
                end = self._html_span(i)
                if end is not None:
                    i = end
                    continue
            if ch == "<" and (end := autolink_end(text, i)):
                i = end  # a URL: no Markdown inside
                continue
            if ch == "<" and text.startswith("<!--", i):
                close = self._comment_end.next(i + 4)
                if close >= 0:
                    i = close + 3
                    continue
            if self.syntax.pandoc:
                if ch == "[" and not (i > 0 and text[i - 1] == "!"):
                    brackets.append(i)
                elif ch == "[":
                    brackets.append(-1)  # an image's alt text: not a span
                elif ch == "]" and brackets:
                    opened = brackets.pop()
                    if opened >= 0 and i + 1 < n and text[i + 1] == "{":
                        end = self._span(opened, i)
                        if end is not None:
                            i = end
                            continue
            i += 1
        return self._result()

    def _result(self) -> list[Found]:
        """Items in document order; items inside a claim or napkin span are its text."""
        out = []
        spans = sorted(self.claim_spans)
        k, covered = 0, -1  # the furthest end of the spans that start before an item
        for f in sorted(self.found, key=lambda f: f.span[0]):
            while k < len(spans) and spans[k][0] < f.span[0]:
                covered = max(covered, spans[k][1])
                k += 1
            if not f.span[1] <= covered:
                out.append(f)
        return out

    def _math(self, i: int) -> int | None:
        """The end of TeX math opening at ``i`` (pandoc's rules), or None when the ``$`` is
        literal. Closing positions are found in one pass; openings advance a pointer."""
        text, n = self.text, len(self.text)
        if text.startswith("$$", i):
            if self._display_open:
                pos = i + 2
                while True:
                    close = text.find("$$", pos)
                    if close < 0:
                        self._display_open = False
                        break
                    if not _escaped(text, close) and close > i + 2:
                        return close + 2
                    pos = close + 1
            return i + 2
        strict = self.syntax.pandoc  # MyST's dollarmath allows spaces and digits
        if i + 1 >= n or (strict and text[i + 1].isspace()):
            return None
        if self._math_closes is None:
            self._math_closes = [j for j in range(1, n) if text[j] == "$" and not _escaped(text, j)]
        closes = self._math_closes
        while self._math_k < len(closes) and closes[self._math_k] <= i + 1:
            self._math_k += 1
        if self._math_k == len(closes):
            return None
        # the next '$' closes the math, or none does: pandoc never looks past it
        j = closes[self._math_k]
        if strict and (text[j - 1].isspace() or (j + 1 < n and text[j + 1].isdigit())):
            return None
        return j + 1

    def _backticks(self, i: int) -> int:
        length = self.runs.run_at(i)
        if length <= 0:
            return i + 1
        if length > MAX_TICKS:
            return i + length
        close = self.runs.next_exact(i + length, length)
        if close < 0:
            return i + length  # unmatched: literal backticks
        raw = self.text[i + length : close]
        end = close + length
        if self.syntax.pandoc and end < len(self.text) and self.text[end] == "{":
            attrs = self._attrs(end)
            if attrs is not None and "napkin" in attrs.classes:
                start = i + length + _strip_offset(raw)
                values = dict(attrs.values)
                where = {k: v for k, v in attrs.starts.items() if k in values}  # options' places
                self.found.append(
                    Found("inline", code_text(raw), start, values, (i, attrs.end), where)
                )
                return attrs.end
        if self.shortcodes and "{{<" in raw:  # Quarto expands them in code, as text
            for j, name in in_code_span(self.text, self.shortcodes, i + length, close):
                self.found.append(Found("inline", name, j, {CODE_SHORTCODE: name}, (j, j + 3)))
        return end

    def _raw_tex(self, i: int) -> int:
        """A raw TeX command at ``i`` (pandoc): opaque; the items inside are problems."""
        if self._groups is None:
            self._groups = Groups(self.text)
        end = command_end(self.text, i, self._groups)
        if end < 0:
            return i + 1
        inner = _Scanner(self.text[i:end], self.syntax)
        inner.tex = False
        for f in inner.scan():
            at = i + f.start
            self.found.append(Found(f.kind, f.text, at, {RAW_TEX: f.kind}, (at, at + 1)))
        self.steps += inner.steps
        return end

    def _role(self, i: int) -> int | None:
        """A MyST role at ``{``: the end of the role, or None when there is none."""
        text, n = self.text, len(self.text)
        if i > 0 and text[i - 1] == "\\":
            return None
        j = i + 1
        while j < n and j - i <= 37 and text[j] in _ROLE_NAME:
            j += 1
        if j >= n or text[j] != "}" or j == i + 1:
            return None
        name = text[i + 1 : j]
        ticks_start = j + 1
        length = self.runs.run_at(ticks_start)
        if length <= 0 or length > MAX_TICKS:
            return None
        content_start = ticks_start + length
        close = self.runs.next_at_least(content_start + 1, length)
        if close < 0:
            return None
        end = close + length
        kind = _ROLE_KIND.get(name.lower())  # docutils' role names ignore case
        if kind is not None:
            self.found.append(Found(kind, text[content_start:close], content_start, {}, (i, end)))
        return end

    def _attrs(self, start: int) -> Attrs | None:
        """An attribute block at ``start``, within the paragraph's attribute budget."""
        if self._attr_budget <= 0:
            return None
        attrs = parse_attrs(self.text, start, min(1000, self._attr_budget))
        spent = (attrs.end - start) if attrs is not None else min(1000, len(self.text) - start)
        self._attr_budget -= spent
        self.steps += spent
        return attrs

    def _span(self, opened: int, closed: int) -> int | None:
        attrs = self._attrs(closed + 1)
        if attrs is None:
            return None
        kind: ItemKind | None = None
        if "napkin" in attrs.classes:
            kind = "inline"
        elif "claim" in attrs.classes:
            kind = "claim"
        if kind is None:
            return None
        values = dict(attrs.values)
        key = "expr" if kind == "inline" else "claim"
        body = values.pop(key, None)
        # an expression written as an attribute (`[]{.napkin expr="…"}`) is placed there
        start = attrs.starts.get(key, opened + 1) if body is not None else opened + 1
        text = plain_markup(self.text[start:closed]) if body is None else body
        where = {k: v for k, v in attrs.starts.items() if k in values}
        span = (opened, attrs.end)
        self.found.append(Found(kind, text, start, values, span, where, tuple(attrs.escapes)))
        self.claim_spans.append((opened, attrs.end))
        return attrs.end

    def _html_span(self, i: int) -> int | None:
        """A pandoc native span ``<span class="claim" …>…</span>`` at ``i`` holding an item:
        the end of its closing tag, or None (another span, or no tag)."""
        tag_end = self._tag_end.next(i)
        self._attr_budget -= max(tag_end - i, 0)
        if tag_end < 0 or self._attr_budget < 0:
            return None
        tag = napkin_span(self.text, i, tag_end)
        kind: ItemKind | None = None
        if tag is not None and "napkin" in tag.classes:
            kind = "inline"
        elif tag is not None and "claim" in tag.classes:
            kind = "claim"
        close = self._span_end.next(tag_end)
        if tag is None or kind is None or close < 0 or "<span" in self.text[tag_end:close]:
            return None  # (a span inside it: pandoc nests them; not read)
        values = dict(tag.values)
        key = "expr" if kind == "inline" else "claim"
        body = values.pop(key, None)
        start = tag.starts[key] if body is not None else tag_end + 1
        text = plain_markup(self.text[tag_end + 1 : close]) if body is None else body
        where = {k: v for k, v in tag.starts.items() if k in values}
        span = (i, close + len("</span>"))
        self.found.append(Found(kind, text, start, values, span, where))
        self.claim_spans.append(span)
        return span[1]

    def _shortcode(self, i: int) -> int:
        end, sc = self.shortcodes[i]
        if sc is None:
            return end  # escaped: shown, never run
        kind = _SHORTCODE_KIND.get(sc.name)  # type: ignore[attr-defined]
        args = sc.args  # type: ignore[attr-defined]
        if kind in ("table", "plot"):  # not a shortcode: placed at its '{{<'
            marker = {UNSUPPORTED_SHORTCODE: sc.name}  # type: ignore[attr-defined]
            self.found.append(Found(kind, args[0][0] if args else "", i, marker, (i, end)))
        elif kind is not None and args:
            value, start = args[0]
            kwargs = dict(sc.kwargs)  # type: ignore[attr-defined]
            where = dict(sc.kwarg_starts)  # type: ignore[attr-defined]
            self.found.append(Found(kind, value, start, kwargs, (i, end), where))
        elif kind is not None:  # no expression: reported as an empty item
            self.found.append(Found(kind, "", i, {}, (i, end)))
        return end


def scan_paragraph(
    text: str, syntax: Syntax, substitutions: frozenset[str] = frozenset()
) -> tuple[list[Found], int]:
    """Items of one paragraph in document order, and the steps scanning took; a use of one
    of ``substitutions`` (MyST's ``{{ name }}``) is found with the attribute
    :data:`~mlsysim.book.sources.substitutions.SUBSTITUTION`, for the caller to replace by
    the value's items."""
    scanner = _Scanner(text, syntax)
    scanner.names = substitutions
    found = scanner.scan()
    return found, scanner.steps
