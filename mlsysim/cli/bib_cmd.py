"""``mlsysim bib PATH… [-o FILE] [--all]``: every source a book's values cite, as BibTeX.

The chapters are evaluated as ``mlsysim check`` evaluates them; every registry figure and
formula a value, claim, derivation, table or plot used contributes its citation. Keys are the
citation ids (``nvidia_h100_datasheet``), so a book cites them with sphinxcontrib-bibtex
(``{cite:p}`nvidia_h100_datasheet```) or pandoc/Quarto citeproc (``[@nvidia_h100_datasheet]``,
``bibliography: book.bib``). ``--all`` exports the whole catalog instead. Items that fail are
reported on stderr (their sources may be missing from the file); exit 0, or 2 for a path with
no chapter (with ``--require-items``) or an output that cannot be written.
"""

from __future__ import annotations

import argparse
import sys

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_OK, EXIT_USAGE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="chapters or folders (as for mlsysim check)")
    parser.add_argument("-o", "--output", help="write the BibTeX to FILE (default: stdout)")
    parser.add_argument("--all", action="store_true", help="every source of the catalog")
    parser.add_argument(
        "--require-items", action="store_true", help="exit 2 when the paths hold no napkin item"
    )


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.bibliography import bibtex, book_citations
    from mlsysim.core.registry import catalog

    if args.all:
        ids = list(catalog().sources)
    else:
        if not args.paths:
            return report_error(args, "bib", "give chapters or folders (or --all)", EXIT_USAGE)
        ids, checked = book_citations(args.paths)
        if args.require_items and not checked.checked:
            return report_error(args, "bib", "no napkin item under the paths", EXIT_USAGE)
        failing = [f for f in checked.failures if f.severity == "error"]
        if failing:
            print(
                f"mlsysim bib: {len(failing)} items failed (`mlsysim check` lists them); "
                "the sources of their values may be missing",
                file=sys.stderr,
            )
    text = bibtex(ids)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            return report_error(args, "bib", f"cannot write {args.output!r}: {exc}", EXIT_USAGE)
        print(f"mlsysim bib: {len(ids)} sources -> {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
