"""Raw HTML blocks in MyST, and the admonitions MyST's ``html_admonition`` extension reads.

A line starting with a CommonMark block tag (``<div``, ``<p``, ``</table`` …) opens a raw HTML
block up to the next blank line: its text is HTML, never Markdown, so nothing in it is an
item. With ``html_admonition`` in ``myst_enable_extensions``, MyST turns a block whose
top-level elements are all ``<div class="admonition …">`` into admonitions and parses their
text as Markdown, so roles there run under Sphinx: the title (a first ``<p class="title">``
or ``"admonition-title"``), each ``<p>`` directly in the div and text directly in it; a
nested admonition div likewise. Text inside any other child element (``<ul>``, ``<pre>``,
``<table>``, a plain ``<div>`` …) stays HTML. :func:`admonition_text` gives the Markdown
parts, each placed in the file, one tag scan over the block (linear).
"""

from __future__ import annotations

from mlsysim.book.sources.blocks import HTML_TAGS

__all__ = ["admonition_text", "html_block_start"]

#: elements without content (never pushed on the element stack)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


def html_block_start(text: str) -> bool:
    """Whether ``text`` (a line, indentation stripped) opens a raw HTML block (type 6)."""
    if not text.startswith("<"):
        return False
    j = 2 if text.startswith("</") else 1
    k = j
    while k < len(text) and text[k].isalnum():
        k += 1
    return text[j:k].lower() in HTML_TAGS and (k >= len(text) or text[k] in " \t>/")


def _is_admonition(tag: str) -> bool:
    """Whether an opening tag's text (``div class="admonition note"``) is an admonition div."""
    name = tag.split(None, 1)[0].lower() if tag.strip() else ""
    if name != "div":
        return False
    at = tag.find("class=")
    if at < 0:
        return False
    value = tag[at + 6 :]
    quote = value[:1]
    if quote in ("'", '"'):
        end = value.find(quote, 1)
        value = value[1:end] if end > 0 else value[1:]
    else:
        value = value.split(None, 1)[0] if value.strip() else ""
    return "admonition" in value.split()


def admonition_text(
    lines: list[tuple[int, int, str]],
) -> list[list[tuple[int, int, str]]] | None:
    """The Markdown paragraphs of an HTML block given as (line index, column, text) per line,
    each as (line index, column, text) pieces; None when the block is not made only of
    admonition divs at its top level (MyST then keeps it as raw HTML)."""
    paras: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    #: open elements: (name, whether text directly inside is Markdown)
    stack: list[tuple[str, bool]] = []
    top_level = 0

    def close_para() -> None:
        nonlocal current
        if current:
            paras.append(current)
            current = []

    for index, column, text in lines:
        i = 0
        while i < len(text):
            lt = text.find("<", i)
            piece = text[i : lt if lt >= 0 else len(text)]
            if piece.strip():
                if not stack:
                    return None  # text at the top level: not only admonitions
                if stack[-1][1]:
                    current.append((index, column + i, piece))
            if lt < 0:
                break
            if text.startswith("<!--", lt):
                end = text.find("-->", lt + 4)
                i = len(text) if end < 0 else end + 3
                continue
            gt = text.find(">", lt + 1)
            if gt < 0:
                return None  # a tag over lines: not a form MyST's admonitions are written in
            tag = text[lt + 1 : gt]
            i = gt + 1
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if stack and stack[-1][0] == name:
                    if name in ("p", "div"):
                        close_para()
                    stack.pop()
                continue
            name = tag.split(None, 1)[0].rstrip("/").lower() if tag.strip() else ""
            if not stack:
                if not _is_admonition(tag):
                    return None
                top_level += 1
            if name in _VOID or tag.endswith("/"):
                continue
            if name in ("p", "div"):
                close_para()
            parent_md = stack[-1][1] if stack else True
            in_div = not stack or stack[-1][0] == "div"
            if name == "div" and _is_admonition(tag):
                markdown = parent_md
            elif in_div:
                markdown = parent_md and name == "p"  # a <p> in the div; other blocks: HTML
            else:
                markdown = parent_md  # an inline element inside a paragraph
            stack.append((name, markdown))
    close_para()
    return paras if top_level else None
