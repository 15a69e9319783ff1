"""Which host forms a Markdown source uses (MyST, pandoc, both) and the MyST extensions that
change which text holds napkin items; the scanners read nothing else about a host."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Syntax"]


@dataclass(frozen=True, slots=True)
class Syntax:
    """Which host forms a Markdown source uses: MyST (Sphinx), pandoc (Quarto), or both."""

    myst: bool
    pandoc: bool
    #: ``$…$`` / ``$$…$$`` are TeX math (pandoc always; MyST with its dollarmath extension)
    math: bool = False
    #: ``{{ name }}`` is a substitution (MyST with its substitution extension)
    substitution: bool = False
    #: ``\begin{equation}`` … blocks are math (MyST with its amsmath extension)
    amsmath: bool = False
    #: ``<div class="admonition">`` HTML blocks are admonitions (MyST's html_admonition)
    html_admonition: bool = False
    #: ``: definition`` lines hold their later blocks by indent (MyST's deflist; pandoc always)
    deflist: bool = False

    @property
    def name(self) -> str:
        return "myst" if not self.pandoc else "pandoc" if not self.myst else "markdown"
