"""``chapter::name`` references (MyST-NB glue's ``path::key``) in an expression, in one pass.

``roofline::ridge`` names ``ridge`` as the chapter ``roofline`` binds it
(:mod:`mlsysim.book.shared`). Python has no such syntax, so before compiling, each reference
outside string literals is replaced by a placeholder identifier of the *same length*
(``ǂ0_____________``): columns in error messages stay those of the author's text. The path is
the longest run of ``A-Z a-z 0-9 _ . / -`` before ``::``; the name is an identifier after it.
"""

from __future__ import annotations

from mlsysim.book.lang.lexer import is_ident_char, is_ident_start, mask_strings
from mlsysim.core.exceptions import NapkinSyntaxError

__all__ = ["PLACEHOLDER", "import_target", "qualified_names"]

#: first character of a placeholder (a letter no napkin name is written with)
PLACEHOLDER = "ǂ"
_PATH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")


def qualified_names(text: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """``text`` with each ``path::name`` replaced by a placeholder, and placeholder ->
    (path, name). Text without ``::`` comes back as it is (one ``in`` test)."""
    if "::" not in text:
        return text, {}
    masked = mask_strings(text)
    out: list[str] = []
    refs: dict[str, tuple[str, str]] = {}
    copied = 0  # text[:copied] is in out
    i = masked.find("::")
    while i >= 0:
        start = i
        while start > copied and masked[start - 1] in _PATH:
            start -= 1
        end = i + 2
        if end < len(masked) and is_ident_start(masked[end]):
            end += 1
            while end < len(masked) and is_ident_char(masked[end]):
                end += 1
        path, name = text[start:i], text[i + 2 : end]
        if not path or not name or (not is_ident_start(path[0]) and path[0] not in "./"):
            raise NapkinSyntaxError(
                "`::` must join a chapter and a name",
                column=i,
                expression=text,
                fix="write `chapter::name` without spaces, e.g. `roofline::ridge`",
            )
        key = f"{PLACEHOLDER}{len(refs)}"
        if len(key) > end - start:
            raise NapkinSyntaxError(
                "too many `chapter::name` references in one expression",
                column=start,
                expression=text,
                fix="bind some of them to names first (`ridge = roofline::ridge`)",
            )
        key = key.ljust(end - start, "_")
        refs[key] = (path, name)
        out += [text[copied:start], key]
        copied = end
        i = masked.find("::", end)
    out.append(text[copied:])
    return "".join(out), refs


def import_target(name: str, expression: str) -> str | None:
    """The chapter path of ``name = path::name`` (an import, not a definition), else None."""
    text = expression.strip()
    head, sep, tail = text.rpartition("::")
    if sep and tail == name and head and all(ch in _PATH for ch in head):
        return head
    return None
