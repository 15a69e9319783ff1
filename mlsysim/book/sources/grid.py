"""Pandoc grid tables, read as pandoc reads them: cell by cell, a cell's lines joined.

A grid table's cell may run over several lines, and pandoc reads each cell's lines as one
piece of Markdown: an item (or a claim) may start on one line of a cell and end on the next,
with the cell borders of the lines between. Scanning the table line by line would see the
borders inside the item, so the Markdown scanner hands each cell to the paragraph scanner as
the segments of its lines, with the line and column of each. One pass over the table's lines;
a row whose lines do not keep the column borders of the separator above it (a cell spanning
columns) is given line by line, as before.
"""

from __future__ import annotations

import itertools

__all__ = ["Segment", "grid_rows", "is_grid_separator"]

#: (0-based line index, 0-based column, text) of one line of one cell
Segment = tuple[int, int, str]


def is_grid_separator(text: str) -> bool:
    """``+---+---+``, ``+===+``, ``+:--+--:+``: a grid table's border line."""
    body = text.rstrip()
    return (
        len(body) >= 3
        and body[0] == "+"
        and body[-1] == "+"
        and any(c in "-=" for c in body)
        and all(c in "+-=:" for c in body)
    )


def _borders(separator: str) -> list[int]:
    return [k for k, c in enumerate(separator.rstrip()) if c == "+"]


def grid_rows(lines: list[str], i: int, qcol: int, col: int) -> tuple[int, list[list[Segment]]]:
    """From the separator at line ``i`` (its text at column ``col``; ``qcol`` the block-quote
    prefix), the line after the table and its cells in pandoc's order (row by row, left to
    right), each a list of segments. A row that breaks the borders becomes one cell per line."""
    borders = _borders(lines[i][col:])
    cells: list[list[Segment]] = []
    row: list[int] = []
    k = i + 1
    while k < len(lines):
        text = lines[k][col:] if len(lines[k]) > col else ""
        if lines[k][:col].strip(" \t>") or not text.startswith(("|", "+")):
            break
        if is_grid_separator(text):
            cells.extend(_row_cells(lines, row, borders, col))
            row = []
            borders = _borders(text) or borders
        else:
            row.append(k)
        k += 1
    cells.extend(_row_cells(lines, row, borders, col))
    return k, cells


def _row_cells(
    lines: list[str], row: list[int], borders: list[int], col: int
) -> list[list[Segment]]:
    if not row:
        return []
    kept = all(
        all(b < len(lines[k]) - col and lines[k][col + b] in "|+" for b in borders) for k in row
    )
    if not kept or len(borders) < 2:
        return [[(k, col, lines[k][col:])] for k in row]
    cells: list[list[Segment]] = []
    for left, right in itertools.pairwise(borders):
        cell: list[Segment] = []
        for k in row:
            seg = lines[k][col + left + 1 : col + right]
            cell.append((k, col + left + 1, seg))
        cells.append(cell)
    return cells
