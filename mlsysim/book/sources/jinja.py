"""MyST substitutions written as Jinja expressions: ``{{ name | trim }}``, ``{{ a ~ b }}``.

MyST looks a ``{{ … }}`` up as a substitution's name first; anything else it renders with
Jinja2 (substitutions as variables, undefined names an error), then parses the result as
Markdown where it is used, so a role in a value runs through the expression as rendered. The
scanner renders the same way, with the same library, when the expression is one mlsysim
models: names, literals, ``~`` and these text filters with literal arguments (``trim``,
``upper``, ``lower``, ``title``, ``capitalize``, ``string``, ``safe``, ``default``/``d``,
``replace``), in a sandbox, the output bounded; the rendered value's items are placed at the
``{{``. Any other expression over a substitution whose value holds napkin items (a call, a
loop, ``env``…) cannot be told without running the book's code: a problem every host reports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JINJA", "MAX_RENDERED", "names_of", "render", "unmodelled"]

#: the attribute of a found ``{{ expression }}`` (besides SUBSTITUTION: the expression)
JINJA = "\0jinja"
#: longest rendered value read (characters)
MAX_RENDERED = 100_000
_FILTERS = frozenset(
    {"trim", "upper", "lower", "title", "capitalize", "string", "safe", "default", "d", "replace"}
)


def _parsed(expr: str) -> Any:
    """The Jinja2 template of ``{{ expr }}``, or None when it is not one (MyST warns)."""
    import jinja2

    if len(expr) > 1000 or "%}" in expr or "{%" in expr:
        return None
    try:
        return jinja2.Environment().parse("{{" + expr + "}}")
    except (jinja2.TemplateSyntaxError, RecursionError):
        return None


def names_of(expr: str) -> frozenset[str] | None:
    """The variables ``{{ expr }}`` reads; None when it is not a Jinja expression."""
    import jinja2.nodes as n

    tree = _parsed(expr)
    if tree is None:
        return None
    return frozenset(x.name for x in tree.find_all(n.Name))


def _modelled(node: Any) -> bool:
    import jinja2.nodes as n

    if isinstance(node, n.Template | n.Output):
        return all(_modelled(c) for c in node.iter_child_nodes())
    if isinstance(node, n.TemplateData | n.Const):
        return True
    if isinstance(node, n.Name):
        return node.ctx == "load" and node.name != "env"
    if isinstance(node, n.Concat):
        return all(_modelled(c) for c in node.nodes)
    if isinstance(node, n.Filter):
        return (
            node.name in _FILTERS
            and node.node is not None
            and _modelled(node.node)
            and all(isinstance(a, n.Const) for a in node.args)
            and not node.kwargs
            and node.dyn_args is None
            and node.dyn_kwargs is None
        )
    return False


def _bound(node: Any, values: dict[str, str]) -> int:
    """An upper bound of the length of what a modelled ``node`` renders (a ``replace`` may
    put its new text between any two characters)."""
    import jinja2.nodes as n

    if isinstance(node, n.Name):
        return len(values.get(node.name, ""))
    if isinstance(node, n.Const | n.TemplateData):
        return len(str(node.value if isinstance(node, n.Const) else node.data))
    if isinstance(node, n.Filter):
        inner = _bound(node.node, values)
        extra = [len(str(getattr(a, "value", ""))) for a in node.args]
        if node.name == "replace" and len(extra) >= 2:
            return (inner + 1) * max(1, extra[1])
        return inner + sum(extra)
    return sum(_bound(c, values) for c in node.iter_child_nodes())


def render(expr: str, values: dict[str, str]) -> str | None:
    """``{{ expr }}`` rendered as MyST renders it (``values``: the substitutions); None when
    mlsysim does not model the expression, or Jinja fails (MyST then warns and renders
    nothing), or the result is longer than :data:`MAX_RENDERED`."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    tree = _parsed(expr)
    if tree is None or not _modelled(tree) or _bound(tree, values) > MAX_RENDERED:
        return None
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    try:
        out = env.from_string("{{" + expr + "}}").render(values)
    except Exception:  # an undefined name, a bad filter argument: MyST renders nothing
        return ""
    return out if len(out) <= MAX_RENDERED else None


def unmodelled(expr: str, names: list[str]) -> tuple[str, str]:
    """(message, why) of an expression over substitutions ``names`` holding napkin items that
    mlsysim cannot render."""
    shown = ", ".join(names)
    return (
        f"the substitution expression {{{{{expr}}}}} uses {shown}, which holds napkin items, "
        "in a form mlsysim does not render",
        "MyST renders it with Jinja where it is used, and the items it then holds cannot be "
        "known without running it. How to fix: write {{ "
        + names[0]
        + " }} (or a filter of trim, upper, lower, title, capitalize, string, safe, default, "
        "replace with literal arguments)",
    )
