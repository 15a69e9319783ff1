"""The host syntax of roles and directives: options after ``|``, comma lists, column lines.

Napkin expressions never use ``|`` (it is not part of the napkin language), so a role's text
is ``EXPRESSION | key=value, key=value``. Commas split only at the top level: a comma inside
parentheses, brackets or quotes belongs to the expression (``of=ridge_point(H100, "bf16")``).
This module only splits text; the napkin engine evaluates, validates and formats.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLAIM_KEYS",
    "NAPKIN_KEYS",
    "Column",
    "SyntaxProblem",
    "parse_column",
    "parse_role",
    "split_top",
]

#: role option name (and aliases) -> engine keyword, for ``{napkin}``
NAPKIN_KEYS = {
    "unit": "unit",
    "sig-figs": "sig_figs",
    "sig": "sig_figs",
    "sig_figs": "sig_figs",
    "style": "style",
}
#: role option name (and aliases) -> engine keyword, for ``{claim}``
CLAIM_KEYS = {"of": "of", "tol": "tolerance", "tolerance": "tolerance"}

_OPEN, _CLOSE = "([{", ")]}"


class SyntaxProblem(ValueError):
    """A role or directive written in a form the adapter cannot split (message says the fix)."""


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split ``text`` on ``sep`` outside brackets and quotes; strip items, drop empty ones."""
    items: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def parse_role(text: str, keys: dict[str, str]) -> tuple[str, dict[str, str]]:
    """``"expr | sig=2, unit=ms"`` -> ``("expr", {"sig_figs": "2", "unit": "ms"})``.

    Raises :class:`SyntaxProblem` for an empty body, an option without ``=`` or an unknown
    option name.
    """
    body, bar, tail = text.partition("|")
    body = body.strip()
    if not body:
        raise SyntaxProblem("the role is empty: write an expression before any '|' options")
    options: dict[str, str] = {}
    for item in split_top(tail) if bar else []:
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not value:
            raise SyntaxProblem(
                f"role option {item!r} is not key=value (write e.g. '| {next(iter(keys))}=…')"
            )
        if key not in keys:
            raise SyntaxProblem(
                f"unknown role option {key!r}; known options: {', '.join(sorted(keys))}"
            )
        options[keys[key]] = value
    return body, options


@dataclass(frozen=True, slots=True)
class Column:
    """One ``napkin-table`` column: its header text and the expression with ``{row}``."""

    header: str
    expression: str


def parse_column(line: str) -> Column:
    """``"Ridge point = ridge_point({row}, 'bf16')"`` -> Column(header, expression).

    The header is everything before the first ``=`` (headers never contain ``=``).
    """
    header, eq, expression = line.partition("=")
    if not eq or not header.strip() or not expression.strip():
        raise SyntaxProblem(
            f"table column {line.strip()!r} is not 'Header = expression' "
            "(write e.g. 'Bandwidth = {row}.memory.bandwidth -> TB/s')"
        )
    return Column(header.strip(), expression.strip())
