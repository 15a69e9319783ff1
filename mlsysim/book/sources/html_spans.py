"""Pandoc's native spans: ``<span class="claim" of="H100.tdp">700 W</span>`` in a pandoc
Markdown chapter is a Span to pandoc (its ``native_spans`` extension), with the tag's
attributes as the span's (``class`` its classes, ``id`` its identifier, every other name kept
as written, ``data-of`` too) and its content read as Markdown. So the Quarto filter sees a
claim or a napkin value there, and the scanner must too: :func:`napkin_span` reads one such
tag. MyST leaves HTML as HTML (no item)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["HtmlSpan", "napkin_span"]

_NAME_END = frozenset(" \t\n=>/\"'")


@dataclass(slots=True)
class HtmlSpan:
    """A ``<span …>`` start tag: its classes, other attributes and where their values start."""

    classes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)


def napkin_span(text: str, i: int, tag_end: int) -> HtmlSpan | None:
    """The start tag ``text[i:tag_end + 1]`` (``<span`` at ``i``, its ``>`` at ``tag_end``)
    read as pandoc reads it, or None when it is no tag. One pass over the tag."""
    j = i + 5
    if j > tag_end or text[j] not in " \t\n>":
        return None
    out = HtmlSpan()
    while j < tag_end:
        if text[j] in " \t\n/":
            j += 1
            continue
        k = j
        while k < tag_end and text[k] not in _NAME_END:
            k += 1
        if k == j:
            return None  # a quote where a name should be: not a tag
        name = text[j:k].lower()
        value, start = "", k
        if k < tag_end and text[k] == "=":
            start = k + 1
            quote = text[start] if start < tag_end and text[start] in "\"'" else ""
            if quote:
                close = text.find(quote, start + 1, tag_end)
                if close < 0:
                    return None
                value, start, k = text[start + 1 : close], start + 1, close + 1
            else:
                k = start
                while k < tag_end and text[k] not in " \t\n":
                    k += 1
                value = text[start:k]
        if name == "class":
            out.classes = value.split()
        elif name != "id":
            out.values[name] = value
            out.starts[name] = start
        j = k
    return out
