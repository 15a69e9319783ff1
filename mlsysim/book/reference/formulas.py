"""The formula reference: each formula's signature, argument and result dimensions, LaTeX,
citation and runnable example — for ``mlsysim formulas``, the generated pages and formula
cards in a book.

The example of each formula (:data:`mlsysim.core.formulas.examples.EXAMPLES`) is a napkin
expression; it is evaluated here with the book's own evaluator, so the dimensions shown for
the arguments are those of values the formula really accepted, and the result shown is the
result it really gives.

>>> ref = formula_reference("amdahl")
>>> ref.signature
'amdahl(p, speedup) -> dimensionless'
>>> ref.example_text
'18.6'
"""

from __future__ import annotations

import dataclasses
import html as _html
import inspect
from dataclasses import dataclass
from typing import Any

from mlsysim.book.evaluator import Evaluator, headline
from mlsysim.book.lang import unwrap
from mlsysim.book.options import Options
from mlsysim.book.outcomes import Located
from mlsysim.core.exceptions import MlsysimError, UnknownNameError
from mlsysim.viz.rendered import Rendered
from mlsysim.viz.table import Source, TableRendered

__all__ = [
    "FormulaCard",
    "FormulaReference",
    "Parameter",
    "formula_card",
    "formula_info",
    "formula_names",
    "formula_reference",
]


@dataclass(frozen=True, slots=True)
class Parameter:
    """One argument of a formula: its name, what it is (a dimension in words, ``hardware
    entry``, ``text``, ``number``), its default as napkin source and the example's value."""

    name: str
    dimension: str
    default: str | None
    example: str | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class FormulaReference:
    """Everything the reference says about one formula."""

    name: str
    domain: str
    summary: str
    signature: str
    parameters: tuple[Parameter, ...]
    result: str
    result_unit: str
    symbol: str
    citation: str
    sources: tuple[tuple[str, Source], ...]  # (citation id, title with link)
    example: str
    example_text: str
    example_latex: str
    fields: tuple[tuple[str, str], ...] = ()  # a result object's fields, rendered as text

    def to_dict(self) -> dict[str, Any]:
        """The ``mlsysim formulas --json`` form of this formula."""
        return {
            "name": self.name,
            "domain": self.domain,
            "summary": self.summary,
            "signature": self.signature,
            "parameters": [p.to_dict() for p in self.parameters],
            "result": {"dimension": self.result, "unit": self.result_unit},
            "latex": self.symbol,
            "citation": self.citation,
            "sources": [{"id": cid, **s.to_dict()} for cid, s in self.sources],
            "example": {
                "expression": self.example,
                "text": self.example_text,
                "latex": self.example_latex,
                "fields": dict(self.fields),
            },
        }

    def text(self) -> str:
        """The plain-text reference (what ``mlsysim formulas NAME`` prints)."""
        width = max((len(p.name) for p in self.parameters), default=0)
        lines = [self.signature, f"  {self.summary}" if self.summary else "", ""]
        lines.append(f"  domain:    {self.domain}")
        lines.append("  arguments:")
        for p in self.parameters:
            shown = p.dimension + (f", default {p.default}" if p.default is not None else "")
            example = f"  (example: {p.example})" if p.example is not None else ""
            lines.append(f"    {p.name:<{width}}  {shown}{example}")
        unit = f" ({self.result_unit})" if self.result_unit else ""
        lines.append(f"  result:    {self.result}{unit}")
        lines.append(f"  LaTeX:     {self.symbol}")
        lines.append(f"  citation:  {self.citation}")
        for cid, s in self.sources:
            lines.append(f"  source:    {s.text}" + (f" <{s.url}>" if s.url else "") + f" [{cid}]")
        lines.append(f"  example:   {self.example}")
        lines.append(f"             = {self.example_text}")
        for name, text in self.fields:
            lines.append(f"               .{name} = {text}")
        return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")


def formula_names() -> list[str]:
    """Every public formula's name, in the order of :data:`mlsysim.core.formulas.FORMULAS`."""
    from mlsysim.core.formulas import FORMULAS

    return list(FORMULAS)


def formula_info(name: str) -> Any:
    """The :class:`~mlsysim.core.formulas.FormulaInfo` of formula ``name``."""
    return _function(name).formula


def _function(name: str) -> Any:
    from mlsysim.core.formulas import FORMULAS

    fn = FORMULAS.get(name)
    if fn is None:
        raise UnknownNameError(
            "formula", name, list(FORMULAS), fix="`mlsysim formulas` lists every formula"
        )
    return fn


def formula_reference(name: str, options: Options | None = None) -> FormulaReference:
    """The reference of formula ``name`` with its example evaluated (UnknownNameError with
    did-you-mean for a name that is not a formula; MlsysimError if the example fails)."""
    from mlsysim.core.formulas.examples import EXAMPLES
    from mlsysim.viz.format import render_value

    fn = _function(name)
    info = fn.formula
    example = EXAMPLES.get(name)
    if example is None:
        raise MlsysimError(
            f"formula {name!r} has no example",
            fix="add one line for it to mlsysim/core/formulas/examples.py",
        )
    evaluator = Evaluator(options)
    try:
        ev = evaluator.evaluate(example)
    except Located as loc:
        raise MlsysimError(
            f"the example of {name} does not evaluate",
            where=example,
            why=str(loc.error),
            fix="correct it in mlsysim/core/formulas/examples.py",
        ) from None
    bound: dict[str, Any] = {}
    for _label, _result, called, args in ev.trace.calls:
        if called is not None and called.name == name:
            bound = dict(args)
    result = unwrap(ev.value)
    value = headline(ev.value)
    fields: list[tuple[str, str]] = []
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        for f in dataclasses.fields(result):
            fields.append((f.name, _text(getattr(result, f.name), evaluator)))
        if value is result:
            value = None
    if value is None:
        shown = Rendered(
            text=f"{type(result).__name__}(…)",
            latex=r"\text{" + type(result).__name__ + "}",
            html=_html.escape(type(result).__name__),
            markdown=type(result).__name__,
            math=False,
        )
    else:
        shown = render_value(value, **evaluator.render_options(ev, None, None, None))
    return FormulaReference(
        name=name,
        domain=info.domain,
        summary=info.doc,
        signature=info.signature(),
        parameters=_parameters(fn, bound, evaluator),
        result=_dimension_words(info.result),
        result_unit=_unit_of(value),
        symbol=info.render_symbol(),
        citation=info.citation,
        sources=tuple((cid, _source(cid)) for cid in info.sources),
        example=example,
        example_text=shown.text,
        example_latex=shown.latex,
        fields=tuple(fields),
    )


def _parameters(fn: Any, bound: dict[str, Any], evaluator: Evaluator) -> tuple[Parameter, ...]:
    defaults = fn.formula.default_texts()
    out = []
    for pname, p in inspect.signature(fn).parameters.items():
        default = defaults.get(pname)
        given = bound.get(pname, None if p.default is inspect.Parameter.empty else p.default)
        example = _text(given, evaluator, as_written=True) if pname in bound else None
        out.append(Parameter(pname, _kind_of(given), default, example))
    return tuple(out)


def _kind_of(value: Any) -> str:
    """What an argument is, in words: a dimension, a registry entry, text, a number."""
    from mlsysim.core.units import describe_dimension, ureg

    v = unwrap(value)
    if isinstance(v, bool):
        return "true or false"
    if isinstance(v, str):
        return "text"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, ureg.Quantity):
        words = describe_dimension(v).split(" (", 1)[0]  # the named dimension, when it has one
        return "number" if words == "dimensionless" else words
    noun = _noun(v)
    return f"{noun} entry" if noun else type(v).__name__


def _noun(spec: Any) -> str | None:
    from mlsysim.core.registry import catalog, kinds

    nouns = kinds()
    for kind, entries in catalog().entries.items():
        if entries.get(str(getattr(spec, "id", ""))) is spec:
            return nouns.get(kind)
    return None


def _text(value: Any, evaluator: Evaluator, *, as_written: bool = False) -> str:
    v = unwrap(value)
    if isinstance(v, str):
        return f'"{v}"'
    if hasattr(v, "id") and hasattr(v, "source"):
        return str(v.id)
    if not as_written:
        return evaluator.text(v)
    from mlsysim.book.evaluator import written_digits

    return evaluator.text(v, digits=written_digits(v))


def _dimension_words(result: str) -> str:
    return result.replace("[", "").replace("]", "").replace("_", " ")


def _unit_of(value: Any) -> str:
    from mlsysim.core.units import ureg
    from mlsysim.viz.format import format_unit

    if isinstance(value, ureg.Quantity) and not value.dimensionless:
        return format_unit(value.units)[0]
    return ""


def _source(cid: str) -> Source:
    from mlsysim.core.registry import catalog

    cite = catalog().sources.get(cid)
    return Source(cite.short(), cite.url) if cite is not None else Source(cid)


@dataclass(frozen=True, slots=True)
class FormulaCard:
    """A formula card for a book page: the reference rendered for every output.

    ``arguments`` is the argument table as a host-neutral :class:`~mlsysim.viz.table.
    TableRendered` (a host that builds its own table nodes reads its cells).
    """

    reference: FormulaReference
    arguments: TableRendered

    @property
    def text(self) -> str:
        return self.reference.text()

    @property
    def example(self) -> Rendered:
        """The example's result as a value a host splices (text in HTML, math in LaTeX)."""
        r = self.reference
        return Rendered(
            text=r.example_text,
            latex=r.example_latex,
            html=_html.escape(r.example_text),
            markdown=f"${r.example_latex}$",
            math=True,
        )

    @property
    def symbol_mathml(self) -> str:
        """The formula's LaTeX as display MathML (pages read without MathJax)."""
        from mlsysim.viz.mathml import display_mathml

        return display_mathml(self.reference.symbol, self.reference.symbol)

    @property
    def markdown(self) -> str:
        from mlsysim.viz.format import escape_markdown

        r = self.reference
        out = [f"`{r.signature}`", ""]
        if r.summary:
            out += [escape_markdown(r.summary), ""]
        out += [f"$$\n{r.symbol}\n$$", "", self.arguments.markdown, ""]
        out.append(f"Example: `{r.example}` = ${r.example_latex}$")
        out += ["", "Source: " + "; ".join(s.markdown for _, s in r.sources)]
        return "\n".join(out)

    @property
    def latex(self) -> str:
        from mlsysim.viz.format import escape_latex_text

        r = self.reference
        out = [
            r"\par\noindent\texttt{" + escape_latex_text(r.signature) + "}",
            r"\par " + escape_latex_text(r.summary) if r.summary else "",
            r"\[ " + r.symbol + r" \]",
            self.arguments.latex,
            r"\par\noindent Example: \texttt{"
            + escape_latex_text(r.example)
            + "} $= "
            + r.example_latex
            + "$",
            r"\par\noindent Source: " + "; ".join(escape_latex_text(s.text) for _, s in r.sources),
        ]
        return "\n".join(line for line in out if line)

    @property
    def html(self) -> str:
        r = self.reference
        esc = _html.escape
        out = [
            f'<div class="mlsysim-formula-card" id="formula-{esc(r.name)}">',
            f'<p class="mlsysim-signature"><code>{esc(r.signature)}</code></p>',
        ]
        if r.summary:
            out.append(f"<p>{esc(r.summary)}</p>")
        out.append(f'<div class="math mlsysim-eq">{self.symbol_mathml}</div>')  # no MathJax needed
        out.append(self.arguments.html)
        out.append(f"<p>Example: <code>{esc(r.example)}</code> = {esc(r.example_text)}</p>")
        out.append(
            '<p class="mlsysim-sources">Source: ' + "; ".join(s.html for _, s in r.sources) + "</p>"
        )
        out.append("</div>")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.reference.to_dict(),
            "arguments": self.arguments.to_dict(),
            "text": self.text,
            "markdown": self.markdown,
            "latex": self.latex,
            "html": self.html,
        }


def formula_card(name: str, options: Options | None = None) -> FormulaCard:
    """The card of formula ``name`` (what a host's formula-card directive or shortcode
    splices in): the reference, with its argument table."""
    from mlsysim.viz.table import render_table

    ref = formula_reference(name, options)
    rows = [
        [p.name, p.dimension, p.default if p.default is not None else "—", p.example or "—"]
        for p in ref.parameters
    ]
    table = render_table(["argument", "is", "default", "example"], rows)
    return FormulaCard(ref, table)
