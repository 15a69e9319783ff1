"""What Quarto does to a chapter before pandoc reads it, for renders under plain pandoc.

Quarto never hands pandoc the ``.qmd`` as written: it first expands ``{{< include file >}}``
(the included text in place, paths relative to the including file, nested includes too) and
runs the engine, which turns executable cells (```` ```{python} ````, ```` ```{r} ````, …) into
code blocks (``.cell-code``) and their output, captioned by the cell's ``#| fig-cap:`` /
``#| tbl-cap:`` options as Markdown (here: a div after the code that carries the caption as
its attribute, which the shim reads as Quarto reads a float's). Plain pandoc knows neither:
it reads an include as prose and ```` ```{python} ```` as a paragraph, and the cell's
closing fence then opens a code block that swallows the next napkin block.
:func:`quarto_markdown` applies these steps so that the shim renders what real Quarto
renders; the filter still locates items in the chapter as written
(``quarto.doc.input_file``), as under Quarto.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["quarto_markdown"]

_MAX_DEPTH = 10


def _executable_fence(line: str) -> str | None:
    """``line`` rewritten as a code-block fence if it opens an executable cell, else None."""
    body = line.lstrip(" \t>")
    ticks = len(body) - len(body.lstrip("`"))
    if ticks < 3:
        return None
    rest = body[ticks:].strip()
    if not (rest.startswith("{") and rest.endswith("}")):
        return None
    inner = rest[1:-1].strip()
    lang = inner.split(" ", 1)[0].split(",", 1)[0]
    if not lang or not (lang.replace("_", "").replace("-", "").isalnum()):
        return None  # {.napkin}, {=html}, {#id}: pandoc attributes, not a cell
    prefix = line[: len(line) - len(body)]
    return f"{prefix}{'`' * ticks}{{.{lang} .cell-code}}"


def _include_target(line: str) -> str | None:
    text = line.strip()
    if not (text.startswith("{{<") and text.endswith(">}}")):
        return None
    words = text[3:-3].split()
    if len(words) != 2 or words[0] != "include":
        return None
    return words[1].strip("\"'")


def _caption_div(options: list[str]) -> list[str]:
    """What the engine writes after a cell whose options caption its output: a div holding
    the captions (``fig-cap``, ``tbl-cap``) and the cell's label, else nothing."""
    import yaml

    meta = yaml.safe_load("\n".join(o[2:].strip() for o in options) or "{}") or {}
    attrs = []
    for key in ("fig-cap", "tbl-cap"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            attrs.append(f'{key}="{escaped}"')
    if not attrs:
        return []
    label = meta.get("label")
    ident = f"#{label} " if isinstance(label, str) and label else ""
    return ["", f"::: {{{ident}.cell-output-display {' '.join(attrs)}}}", ":::", ""]


def quarto_markdown(path: Path, root: Path | None = None, depth: int = 0) -> str:
    """The text of ``path`` as Quarto gives it to pandoc (includes expanded, cells fenced);
    an include path starting with ``/`` is relative to the project ``root``."""
    out: list[str] = []
    fence = ""
    options: list[str] | None = None  # the open cell's `#|` lines (None: not in a cell)
    leading = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.lstrip(" \t>")
        if fence:
            if stripped.startswith(fence) and not stripped[len(fence) :].strip(" `"):
                fence = ""
                out.append(line)
                out.extend(_caption_div(options or []))
                options = None
                continue
            if options is not None and leading and stripped.startswith("#|"):
                options.append(stripped)  # the cell's options: the `#|` lines it opens with
            else:
                leading = False
            out.append(line)
            continue
        cell = _executable_fence(line)
        if cell is not None or stripped.startswith(("```", "~~~")):
            ticks = len(stripped) - len(stripped.lstrip(stripped[0]))
            fence = stripped[0] * ticks
            options = [] if cell is not None else None
            leading = True
            out.append(cell if cell is not None else line)
            continue
        target = _include_target(line)
        if target is not None and depth < _MAX_DEPTH:
            base = (root or path.parent) if target.startswith("/") else path.parent
            included = base / target.lstrip("/")
            if included.is_file():
                out.append(quarto_markdown(included, root, depth + 1).rstrip("\n"))
            else:
                out.append(line)
            continue
        out.append(line)
    return "\n".join(out) + "\n"
