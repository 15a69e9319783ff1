"""Hostile chapters, one per class of attack the hardening issue lists, shared by the tests.

Each case is (syntax, text): the hostile part, then a sentinel item that must still fail at
its own line (``H10``, an unknown name), so a test sees that the attack neither hung, crashed
nor hid the other failures of the run. Hosts get the same cases in their own syntax.
"""

from __future__ import annotations

__all__ = ["CASES", "DOCUTILS_HANGS", "PANDOC_HANGS", "SENTINEL", "chapter", "sentinel_line"]

#: An item that always fails with "no name 'H10'".
SENTINEL = "H10"

_BLOCK_DIAMOND = "x0 = 1 ms\n" + "".join(f"x{i} = x{i - 1} + x{i - 1}\n" for i in range(1, 60))
_BLOCK_CHAIN = "y0 = 1 ms\n" + "".join(f"y{i} = y{i - 1} + 1 ms\n" for i in range(1, 1200))

#: name -> (syntax, hostile text); syntax is "myst", "rst" or "pandoc"
CASES: dict[str, tuple[str, str]] = {
    # scanners that backtracked: unclosed quotes and backslashes, runs without an end
    "role_quote_backslashes": ("myst", "{napkin}`'" + "\\" * 40 + "`"),
    "role_dquote_backslashes": ("myst", '{napkin}`"' + "\\\\" * 3000),
    "rst_role_backslashes": ("rst", ":napkin:`'" + "\\" * 40 + "`"),
    "rst_unclosed_roles": ("rst", ":napkin:`a " * 20000),
    "shortcode_spaces": ("pandoc", "{{< napkin " + " " * 10000),
    "shortcode_quotes": ("pandoc", '{{< "' * 20000),
    "code_then_brace": ("pandoc", "`a`{" * 25000),
    "span_claim_classes": ("pandoc", "[a]{" + ".claim " * 15000),
    "span_claims_unclosed": ("pandoc", "[a]{.claim " * 10000),
    "backtick_runs": ("myst", "`" * 30000 + " {napkin}`" * 500),
    "brackets": ("pandoc", "[" * 30000 + "]" * 30000),
    "div_title_escapes": ("pandoc", '::: {title="' + '\\" `a`{.napkin} ' * 1500 + "}\n:::"),
    "div_title_unclosed": ("pandoc", "::: {" + 'fig-cap="x ' * 20000 + "\n:::"),
    "comments_unclosed": ("myst", "x <!--" * 20000),
    # text that pint's parser would evaluate
    "unit_bombs": (
        "myst",
        "{napkin}`1 GB -> 9**9**9 B` {napkin}`1 GB | unit=9**9**9 B` "
        "{claim}`1 GB ~ 1 GB @ 9**9**9 B` {napkin}`2 * 9**9**9`",
    ),
    # reachable methods and arguments that hang or exhaust memory
    "methods": (
        "myst",
        '{napkin}`H100.require("peak_flops.__func__.__code__.co_filename")` '
        '{napkin}`solve(Llama2_7B, H100, phase="decode").to_json(indent=100000)` '
        "{napkin}`round(5 GB, -1e9)` {napkin}`max((1,)*10**8)` "
        "{napkin}`erlang_c(arrival_rate=1/s, service_rate=2/s, servers=10**9)` "
        "{napkin}`H100.model_dump()` {napkin}`ring_allreduce(size=-1 GB, n=8.5, bandwidth=1 GB/s)`",
    ),
    # derivations that grew without bound
    "diamond_bindings": ("myst", f"```{{napkin}}\n{_BLOCK_DIAMOND}check(x59 < 1 ms, 'd')\n```"),
    "chain_of_1200": ("myst", f"```{{napkin}}\n{_BLOCK_CHAIN}check(y1199 < 1 ms, 'c')\n```"),
    # inputs that crashed the engine
    "crashes": (
        "myst",
        "{napkin}`1 GB**40` {napkin}`1 GB | unit=GB/` {napkin}`1 < 2 -> GB` "
        "{napkin}`'' -> W` {claim}`H100 ~ pi` {napkin}`1 GB | unit=\"` {napkin}`1e300 GB -> B`",
    ),
    # wrong numbers that must be errors instead
    "wrong_numbers": (
        "myst",
        "{napkin}`1 GB == 1 s` {napkin}`40 % 3` {claim}`2 ~ 2 @ inf%` {napkin}`1 GB ** 1e-300`",
    ),
}


#: Cases pandoc's own Markdown reader cannot parse in minutes (before any filter runs):
#: 500 nested brackets already take longer than a minute, and thousands of ``{{< "``
#: take seconds per thousand. ``mlsysim check`` reads them in milliseconds.
PANDOC_HANGS = frozenset({"brackets", "shortcode_quotes"})
#: Cases docutils' own reST parser takes minutes over (20,000 unclosed roles: 94 s with or
#: without mlsysim_sphinx); ``mlsysim check`` reads them in a tenth of a second.
DOCUTILS_HANGS = frozenset({"rst_unclosed_roles"})


def chapter(syntax: str, hostile: str) -> str:
    """A chapter of ``syntax`` holding the hostile text, then the sentinel on its own line."""
    if syntax == "rst":
        return f"Hostile\n=======\n\n{hostile}\n\nSentinel :napkin:`{SENTINEL}`.\n"
    if syntax == "pandoc":
        return f"# Hostile\n\n{hostile}\n\nSentinel `{SENTINEL}`{{.napkin}}.\n"
    return f"# Hostile\n\n{hostile}\n\nSentinel {{napkin}}`{SENTINEL}`.\n"


def sentinel_line(syntax: str, hostile: str) -> int:
    """The line of the sentinel item in :func:`chapter`."""
    return (
        chapter(syntax, hostile)
        .split("\n")
        .index(next(ln for ln in chapter(syntax, hostile).split("\n") if ln.startswith("Sentinel")))
        + 1
    )
