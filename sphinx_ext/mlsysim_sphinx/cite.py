"""Citations of the sources a napkin item used, through sphinxcontrib-bibtex when the book uses it.

The engine records the citation ids every item's values came from (``Outcome.cites``; a
formula card's sources); ``mlsysim bib PATH… -o refs.bib`` writes them as BibTeX entries keyed
by those ids. A book that lists ``sphinxcontrib.bibtex`` in its extensions and that file in
``bibtex_bibfiles`` gets, after each derivation and in each formula card, a ``{cite:p}``
citation of those ids, linked to its ``{bibliography}``; ids the book's ``.bib`` files do not
hold are not cited (the sources' linked titles still show). A book without
sphinxcontrib-bibtex is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docutils import nodes

__all__ = ["bibtex_active", "citation_nodes"]


def _domain(env: Any) -> Any:
    """sphinxcontrib-bibtex's ``cite`` domain, or None when the book does not run it."""
    from sphinx.errors import ExtensionError

    try:
        return env.get_domain("cite")
    except ExtensionError:
        return None


def bibtex_active(env: Any) -> bool:
    """Whether the book runs sphinxcontrib-bibtex."""
    return _domain(env) is not None


def _known(env: Any) -> set[str]:
    bibdata = getattr(_domain(env), "bibdata", None)
    return set(bibdata.data.entries) if bibdata is not None else set()


def citation_nodes(directive: Any, cites: Sequence[str]) -> list[nodes.Node]:
    """A ``cite:p`` citation of ``cites`` (those the bibliography holds), made by
    sphinxcontrib-bibtex's own role so its bibliography lists them; [] without it."""
    env = directive.env
    if not cites or not bibtex_active(env):
        return []
    known = _known(env)
    keys = [c for c in dict.fromkeys(cites) if c in known]
    if not keys:
        return []
    from docutils.parsers.rst import roles

    role, _ = roles.role("cite:p", None, directive.lineno, directive.state.reporter)
    if role is None:
        return []
    text = ",".join(keys)
    made, _messages = role(
        "cite:p", f":cite:p:`{text}`", text, directive.lineno, directive.state.inliner
    )
    return list(made)
