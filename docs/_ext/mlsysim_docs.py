"""Build-time pieces of mlsysim's own documentation (a local Sphinx extension of docs/).

* On ``builder-inited``, the engine's reference (``mlsysim reference``: formulas, walls,
  registries, sources) and every sub-command's ``--help`` are written into
  ``docs/_generated/`` (git ignores it: generated pages are never committed). A page is
  rewritten only when its text changed, so an incremental build re-reads only what changed.
* The ``mlsysim-source`` directive shows the MyST source of a marked region of the page it is
  on (``<!-- example NAME -->`` … ``<!-- /example -->``, each marker a line of its own): the
  tutorial's examples are live napkin math, evaluated by mlsysim_sphinx in this very build,
  and the listing beside them is their own text, so the two cannot drift apart.
* A cross-reference to where a name is defined (``mlsysim.solvers.single_node.results.SolveResult``,
  as
  type annotations give it) links the entry of the package that exports it.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

__all__ = ["setup"]

#: width of the generated ``--help`` text (argparse wraps to $COLUMNS)
HELP_COLUMNS = "88"


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _help(command: str) -> str:
    from mlsysim.cli.main import main

    out = io.StringIO()
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main([command, "--help"])
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before
    return out.getvalue().rstrip()


def _cli_page() -> str:
    from mlsysim.cli.main import COMMANDS

    lines = []
    for command, (_module, summary) in COMMANDS.items():
        lines += [
            f"(cli-{command})=",
            f"### `mlsysim {command}`",
            "",
            summary[0].upper() + summary[1:] + ".",
            "",
            "```text",
            _help(command),
            "```",
            "",
        ]
    return "\n".join(lines)


def _generate(app: Any) -> None:
    from mlsysim.book.reference import write_reference

    out = Path(app.srcdir) / "_generated"
    write_reference(out / "reference", title="Reference: formulas, walls, registries, sources")
    _write(out / "cli.md", _cli_page())


class SourceDirective(SphinxDirective):
    """``mlsysim-source NAME``: the page's own lines between the markers of example NAME."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        path = Path(self.env.doc2path(self.env.docname))
        lines = path.read_text(encoding="utf-8").splitlines()
        begin, end = f"<!-- example {name} -->", "<!-- /example -->"
        try:
            start = lines.index(begin) + 1
            stop = lines.index(end, start)
        except ValueError:
            raise self.error(
                f"mlsysim-source: no region {begin} … {end} (each marker a line of its own) "
                f"in {path.name}"
            ) from None
        text = "\n".join(lines[start:stop]).strip("\n")
        block = nodes.literal_block(text, text, language="markdown")
        self.set_source_info(block)
        return [block]


def _reexported(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A name documented where it is exported (``mlsysim.solvers.SolveResult``) but named
    where it is defined (``mlsysim.solvers.single_node.results.SolveResult`` in an annotation, or
    ``SolveResult.to_dict`` in a docstring of ``mlsysim.solvers.single_node.results``): link the
    entry of the nearest package that exports it."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py":
        return None
    if not target.startswith("mlsysim.") and node.get("py:module"):
        target = f"{node['py:module']}.{target}"  # relative to the docstring's own module
    if not target.startswith("mlsysim."):
        return None
    objects = env.get_domain("py").objects
    parts = target.split(".")
    for split in range(len(parts) - 1, 1, -1):  # parts[split:] is the qualified name
        for keep in range(split - 1, 0, -1):  # drop defining modules, innermost first
            candidate = ".".join(parts[:keep] + parts[split:])
            if candidate in objects:
                entry = objects[candidate]
                return make_refnode(
                    app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, candidate
                )
    return None


def _signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None, ret: Any
) -> tuple[str | None, Any] | None:
    """A signature Sphinx can parse, the same in every build.

    A dataclass field with ``default_factory`` shows as ``= <factory>``, which Sphinx's
    signature parser cannot read (it falls back to splitting at commas, and every part of
    ``list[tuple[int, X]]`` becomes a broken cross-reference): write ``= ...`` instead.

    A pydantic model whose build is deferred (the registry spec classes are
    ``defer_build=True``) reads ``(**data: Any)`` until it is built, and whether it is built
    when its page is written depends on whether this run validated an entry (a fresh
    catalog) or loaded the registry snapshot: it is built here and its fields' signature
    written as Sphinx writes one (short type hints), so the page is the same either way."""
    complete = getattr(obj, "__pydantic_complete__", None)
    model = what in ("class", "exception") and isinstance(obj, type) and complete is not None
    if model:
        import inspect

        from sphinx.util.inspect import stringify_signature

        if complete is False:
            obj.model_rebuild()
        short = app.config.autodoc_typehints_format == "short"
        signature = stringify_signature(
            inspect.signature(obj), show_return_annotation=False, unqualified_typehints=short
        )
    fixed = signature.replace("<factory>", "...") if signature else signature
    return (fixed, ret) if model or fixed != signature else None


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-signature", _signature)
    app.connect("builder-inited", _generate)
    app.connect("missing-reference", _reexported)
    app.add_directive("mlsysim-source", SourceDirective)
    # ```myst and ```qmd fences (chapter snippets in the pages) highlight as Markdown
    from pygments.lexers.markup import MarkdownLexer

    app.add_lexer("myst", MarkdownLexer)
    app.add_lexer("qmd", MarkdownLexer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
