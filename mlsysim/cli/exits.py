"""The exit codes of every ``mlsysim`` command, in one table.

This table is the one source of that text: every ``--help`` ends with :func:`help_text`, and
the README's table is :func:`markdown_table` (``tests/test_docs_examples.py`` compares them).
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "EXIT_FAILURES",
    "EXIT_INFEASIBLE",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "help_text",
    "markdown_table",
]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3
EXIT_INTERNAL = 4

#: (code, name, meaning), the meaning written once for the README and every --help.
EXIT_CODES: tuple[tuple[int, str, str], ...] = (
    (EXIT_OK, "pass", "everything checked passed (or failed only in chapters in fail mode warn)"),
    (
        EXIT_FAILURES,
        "failures",
        "a check, claim or expression failed (check, eval); every failure is reported",
    ),
    (
        EXIT_USAGE,
        "usage",
        "a bad flag or argument, an unknown name, unreadable data or output, or no napkin "
        "items with --require-items",
    ),
    (
        EXIT_INFEASIBLE,
        "infeasible",
        "the workload does not fit or the target cannot be met, or no configuration is "
        "feasible (solve, fleet, generate, serve: a rate at or above the capacity, a missed "
        "SLO; optimize); the report says why",
    ),
    (EXIT_INTERNAL, "internal", "an internal error: a bug in mlsysim (please report it)"),
)


def help_text() -> str:
    """The exit-code table as the plain text every ``--help`` ends with."""
    import textwrap

    lines = ["exit codes:"]
    for code, name, meaning in EXIT_CODES:
        head = f"  {code}  {name:<10}  "
        lines += textwrap.wrap(
            meaning, width=88, initial_indent=head, subsequent_indent=" " * len(head)
        )
    return "\n".join(lines)


def markdown_table() -> str:
    """The exit-code table as the README shows it."""
    lines = ["| exit | meaning |", "|---|---|"]
    lines += [f"| {code} | **{name}**: {meaning} |" for code, name, meaning in EXIT_CODES]
    return "\n".join(lines)
