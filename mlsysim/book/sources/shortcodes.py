"""Quarto shortcodes ``{{< name args >}}``, tokenized the way Quarto reads them, in linear time.

After ``{{<`` come tokens separated by whitespace (newlines included): ``"double quoted"``
(no escapes; the quotes are not part of the value), ``'single quoted'``, ``key=value`` (spaces
around ``=`` allowed; the value one token) or a bare word (up to whitespace or ``>}}``), then
``>}}``. The first token is the shortcode's name. ``{{</* … */>}}`` and ``{{{< … >}}}`` are
escaped (shown literally, never run).

Linear time: the tokens that follow a given position are the same whichever ``{{<`` reached
it, so the outcome of reading from every token start is remembered, and every character is
tokenized at most once however many ``{{<`` overlap (``{{< "`` repeated never closes);
closing strings are looked up through :class:`~mlsysim.book.sources.text.Finder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlsysim.book.sources.text import Finder, find

__all__ = ["Shortcode", "ShortcodeReader"]

_SPACE = " \t\n"
_OPEN = "{{<"
_CLOSE = ">}}"


@dataclass(slots=True)
class Shortcode:
    """One shortcode: name, positional arguments (value, start), keyword values and span."""

    name: str
    args: list[tuple[str, int]] = field(default_factory=list)
    kwargs: dict[str, str] = field(default_factory=dict)
    start: int = 0
    end: int = 0
    #: where each keyword's value starts (inside its quotes)
    kwarg_starts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Token:
    value: str
    start: int
    end: int
    quoted: bool
    key: str | None = None  # for key=value tokens
    value_start: int = 0  # where a key=value token's value starts (inside its quotes)


class ShortcodeReader:
    """Finds the shortcodes of one text (a paragraph) in document order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.steps = 0
        self._memo: dict[int, int] = {}  # token start -> end of ">}}" (or -1: never closes)
        self._ends = {sub: Finder(text, sub) for sub in (">}}}", "*/>}}", '"', "'")}

    def shortcodes(self) -> list[tuple[int, int, Shortcode | None]]:
        """(start, end, shortcode) spans; ``None`` for an escaped shortcode (not run)."""
        text = self.text
        out: list[tuple[int, int, Shortcode | None]] = []
        i = 0
        while True:
            j = find(text, "{{", i)
            if j < 0:
                return out
            self.steps += 1
            if text.startswith("{{{<", j):
                end = self._ends[">}}}"].next(j + 4)
                if end < 0:
                    i = j + 4
                    continue
                out.append((j, end + 4, None))
                i = end + 4
                continue
            if text.startswith("{{</*", j):
                end = self._ends["*/>}}"].next(j + 5)
                if end < 0:
                    i = j + 5
                    continue
                out.append((j, end + 5, None))
                i = end + 5
                continue
            if not text.startswith(_OPEN, j):
                i = j + 2
                continue
            sc = self._read(j)
            if sc is None:
                i = j + 3
                continue
            out.append((sc.start, sc.end, sc))
            i = sc.end

    def _quoted(self, i: int) -> tuple[str, int] | None:
        """The quoted string starting at ``i`` and where it ends (no escapes, as Quarto)."""
        end = self._ends[self.text[i]].next(i + 1)
        return None if end < 0 else (self.text[i + 1 : end], end + 1)

    def _bare_end(self, i: int, *, stop_at_equals: bool) -> int:
        text, n = self.text, len(self.text)
        j = i
        while j < n and text[j] not in _SPACE and not text.startswith(_CLOSE, j):
            if stop_at_equals and text[j] == "=":
                break
            j += 1
            self.steps += 1
        return j

    def _token(self, i: int) -> _Token | None:
        """The token starting at ``i`` (a non-space character), or None when there is none."""
        text, n = self.text, len(self.text)
        self.steps += 1
        ch = text[i]
        if ch in "\"'":
            got = self._quoted(i)
            return None if got is None else _Token(got[0], i, got[1], True)
        if ch in "}>":
            return None
        if ch == "=":
            return _Token("=", i, i + 1, False)
        j = self._bare_end(i, stop_at_equals=True)
        word = text[i:j]
        if j < n and text[j] == "=" and not any(c in word for c in ":/?"):
            v = j + 1
            if v < n and text[v] in "\"'":
                got = self._quoted(v)
                if got is None:
                    return None
                return _Token(got[0], i, got[1], True, key=word, value_start=v + 1)
            end = self._bare_end(v, stop_at_equals=False)
            return _Token(text[v:end], i, end, False, key=word, value_start=v)
        if j < n and text[j] == "=":  # a URL-like word: '=' is part of it
            j = self._bare_end(j, stop_at_equals=False)
        return _Token(text[i:j], i, j, False)

    def _skip_space(self, i: int) -> int:
        text, n = self.text, len(self.text)
        while i < n and text[i] in _SPACE:
            i += 1
            self.steps += 1
        return i

    def _closes_from(self, start: int) -> int:
        """End of the ``>}}`` that closes the token list starting at ``start``, or -1."""
        text = self.text
        visited: list[int] = []
        i = start
        result = -1
        while True:
            i = self._skip_space(i)
            known = self._memo.get(i)
            if known is not None:
                result = known
                break
            if text.startswith(_CLOSE, i):
                result = i + len(_CLOSE)
                break
            if i >= len(text):
                break
            visited.append(i)
            tok = self._token(i)
            if tok is None or tok.end == tok.start:
                break
            i = tok.end
        for v in visited:
            self._memo[v] = result
        return result

    def _read(self, start: int) -> Shortcode | None:
        first = self._skip_space(start + len(_OPEN))
        end = self._closes_from(first)
        if end < 0:
            return None
        tokens: list[_Token] = []
        i = first
        while True:
            i = self._skip_space(i)
            if self.text.startswith(_CLOSE, i) or i >= end:
                break
            tok = self._token(i)
            if tok is None:
                return None
            tokens.append(tok)
            i = tok.end
        if not tokens or tokens[0].quoted or tokens[0].key is not None:
            return None
        sc = Shortcode(tokens[0].value, start=start, end=end)
        k = 1
        while k < len(tokens):
            tok = tokens[k]
            if tok.key is not None:
                sc.kwargs[tok.key] = tok.value
                sc.kwarg_starts[tok.key] = tok.value_start
            elif (
                not tok.quoted
                and k + 2 < len(tokens)
                and tokens[k + 1].value == "="
                and not tokens[k + 1].quoted
            ):
                sc.kwargs[tok.value] = tokens[k + 2].value  # key = value
                value = tokens[k + 2]
                sc.kwarg_starts[tok.value] = value.start + (1 if value.quoted else 0)
                k += 2
            else:
                sc.args.append((tok.value, tok.start + (1 if tok.quoted else 0)))
            k += 1
        return sc
