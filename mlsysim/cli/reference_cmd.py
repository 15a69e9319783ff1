"""``mlsysim reference --out DIR``: write the reference (formulas, walls, registries,
sources) as MyST Markdown pages for a Sphinx site (:mod:`mlsysim.book.reference.pages`).

Prints the files written; exit 0, or 2 when the folder cannot be written.
"""

from __future__ import annotations

import argparse

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_OK, EXIT_USAGE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="folder to write the pages into")
    parser.add_argument("--title", default="Reference", help="title of the index page")


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.reference.pages import write_reference

    try:
        files = write_reference(args.out, args.title)
    except OSError as exc:
        return report_error(args, "reference", f"cannot write {args.out!r}: {exc}", EXIT_USAGE)
    for path in files:
        print(path)
    return EXIT_OK
