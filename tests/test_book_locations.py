"""Every failure points at the character it is about, whatever the item's layout.

Found by the held-out chapters (tests/test_heldout_books.py): a binding's or a block claim's
leading blank counted twice; an error inside a claim's ``of=`` expression placed as if the
expression began at the claimed figure; an item over several lines reported in the first
line, or at column 1 of an indented continuation line; a statement's continuation line in an
indented block missing the block's indent; reST directive content indented with a tab cut
mid-word; a table column's unit reported once, at the first column, for the first column that
had one. Expected columns are counted by hand from the sources below (1-based characters; a
tab is one character).
"""

from __future__ import annotations

import json
from pathlib import Path

from mlsysim.book import Document


def failures(cli, tmp_path: Path, name: str, text: str) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    """(line, column, message) of every failure ``mlsysim check`` reports for ``text``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    _, out, _ = cli("check", str(path), "--format", "json")
    return [(f["line"], f["column"], f["message"]) for f in json.loads(out)["failures"]]


def test_block_bindings_and_claims_point_at_the_operator() -> None:
    doc = Document("x.md")
    doc.block(
        "x = 1 ms + 1 GB\n"
        "x2 =   1 ms + 1 GB\n"
        "1 ms ~ 1 ms + 1 GB\n"
        "1 ms~   1 ms + 1 GB\n"
        "y = 3 $ 4\n"
        "1 ms ~    1 GB",
        1,
    )
    doc.claim("1 ms ~    1 ms + 1 GB", 10, column=1)
    assert [(f.line, f.column) for f in doc.failures] == [
        (1, 10),
        (2, 13),
        (3, 13),
        (4, 14),
        (5, 7),
        (6, 11),  # a claim whose sides differ in dimension: at its expression
        (10, 16),
    ]


def test_an_of_expression_fails_where_it_is_written(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    qmd = (
        "# T\n\n"
        'A [about 300 FLOP/B]{.claim of="ridge_point(H10, \'bf16\')" tol="10%"} here.\n\n'
        'Span [300\n  FLOP/B]{.claim\n  of="ridge_point(H11)"} wraps.\n\n'
        'Short {{< claim "300 FLOP/B" of="ridge_point(H12, \'bf16\')" >}}.\n\n'
        "::: {.callout-note title=\"A [3 W]{.claim of='H13.tdp'} title\"}\nx\n:::\n"
    )
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "of.qmd", qmd)] == [
        (3, 45),
        (7, 19),
        (9, 46),
        (11, 46),
    ]
    md = (
        '# T\n\nA {claim}`about 300 FLOP/B | of=ridge_point(H10, "bf16")` and\n'
        "{claim}`300 W |\n of=H11.tdp`.\n"
    )
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "of.md", md)] == [
        (3, 45),
        (5, 5),
    ]


def test_items_over_several_lines_fail_on_their_own_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = (
        "# M\n\n- A list item {napkin}`1 +\n  H10.tdp` wraps.\n\n"
        "> quoted {napkin}`1 +\n> H11.tdp` wraps.\n\n"
        "1. item\n\n   ```{napkin}\n   x = (1 +\n        H12.tdp)\n   ```\n"
    )
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "m.md", md)] == [
        (4, 3),
        (7, 3),
        (13, 9),
    ]
    qmd = (
        "# Q\n\n- A list item `1 +\n  H10.tdp`{.napkin} wraps.\n\n"
        "> quoted `1 +\n> H11.tdp`{.napkin} wraps.\n\n"
        "1. item\n\n   ```{.napkin}\n   x = (1 +\n        H12.tdp)\n   ```\n"
    )
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "q.qmd", qmd)] == [
        (4, 3),
        (7, 3),
        (13, 9),
    ]
    rst = "T\n=\n\n* a bullet :napkin:`1 +\n  H10.tdp` wraps.\n"
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "r.rst", rst)] == [(5, 3)]


def test_rst_directive_content_indented_with_tabs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rst = (
        "Tabs\n====\n\n.. napkin::\n\n"
        '\tx = 1 ms\n\tcheck(x > 2 ms, "tab-indented")\n\ty = 1 ms +\t1 GB\n\n'
        "A line\twith a tab then :claim:`5 ms ~ x`.\n"
    )
    found = failures(cli, tmp_path, "tabs.rst", rst)
    assert [(line, col) for line, col, _ in found] == [(7, 2), (8, 11), (10, 32)]
    assert found[0][2] == "check failed: tab-indented"


def test_table_units_fail_cell_by_cell_at_the_unit(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = (
        "# T\n\n```{napkin-table} X\n:rows: H100, A100\n\n"
        "A = {row}.tdp -> µs)\nB = {row}.tdp -> GB\nC = {row}.tdpp\n```\n\n"
        "```{napkin-table} Y\n:rows: H100\n:units: GB\n\nD = {row}.tdp\n```\n"
    )
    found = failures(cli, tmp_path, "t.md", md)
    # one failure per row, each column's own (a bad first column hides none after it)
    assert [(line, col) for line, col, _ in found] == [
        (6, 18),
        (6, 18),
        (7, 18),
        (7, 18),
        (8, 11),
        (8, 11),
        (15, 5),  # a table option's unit: at the column's expression
    ]
    assert found[0][2] == "cannot read the unit 'µs)'"
    assert found[2][2].startswith("cannot convert 1 W")


def test_includes_take_the_marked_text_and_keep_its_places(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "_part.md").write_text(
        "Before: {napkin}`H10.tdp`\n<!-- start -->\nInside: {napkin}`H11.tdp`\n"
        "<!-- end -->\nAfter: {napkin}`H12.tdp`\n",
        encoding="utf-8",
    )
    (tmp_path / "_part.qmd").write_text(
        'Wrapped [700 W]{.claim\n  of="H13.tdpp"} in an included file.\n', encoding="utf-8"
    )
    md = (
        "# I\n\n```{include} _part.md\n:start-after: <!-- start -->\n:end-before: <!-- end -->\n"
        "```\n\n```{include} _part.md\n:start-after: Before:\n:end-before: <!-- start\n```\n"
    )
    found = failures(cli, tmp_path, "inc.md", md)
    assert [(line, col, msg.split(";")[0]) for line, col, msg in found] == [
        (1, 18, "no name 'H10'"),  # the first line begins mid-line, after its marker
        (3, 18, "no name 'H11'"),
    ]
    qmd = "# Q\n\n{{< include _part.qmd >}}\n"
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "inc.qmd", qmd)] == [(2, 7)]


def test_a_byte_order_mark_is_not_part_of_the_chapter(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A UTF-8 BOM before front matter: the front matter still sets the chapter's options
    (1000 W vs 700 W passes at its 50 %), and columns count from after the mark."""
    front = "---\nmlsysim:\n  tolerance: 50%\n---\n"
    for name, text in {
        "b.md": front + "A {claim}`1000 W ~ H100.tdp` {napkin}`H10`.\n",
        "b.qmd": front + 'A [1000 W]{.claim of="H100.tdp"} `H10`{.napkin}.\n',
    }.items():
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        _, out, _ = cli("check", str(path), "--format", "json")
        assert [(f["line"], f["column"]) for f in json.loads(out)["failures"]] == [
            (5, 39 if name == "b.md" else 35)
        ]


def test_rst_csv_table_cells_are_read_as_docutils_reads_them(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """docutils parses a csv-table's title and every cell as reST (after CSV's ``""`` became
    ``"``): their roles are items, which ``mlsysim check`` skipped while Sphinx ran them."""
    rst = (
        "CSV\n===\n\n.. csv-table:: A title with :napkin:`H10.tdp`\n"
        '   :header: "Device", "TDP"\n\n'
        '   "H100", ":napkin:`H11.tdp`"\n'
        "   A100, :claim:`7 W ~ A100.tdp`\n"
        '   "B200", ":napkin:`H12.peak_flops(""bf16"")`"\n'
    )
    found = failures(cli, tmp_path, "csv.rst", rst)
    assert [(line, col) for line, col, _ in found] == [(4, 38), (7, 22), (8, 18), (9, 22)]
    assert found[3][2].startswith("no name 'H12'")  # not a syntax error: "" is one quote


def test_a_bad_tolerance_fails_at_the_tolerance(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = (
        "# T\n\n```{napkin}\ntt = 4 ms\n4 ms ~ tt @ 0.1 GB\n```\n\n"
        "A {claim}`4 ms ~ tt @ 0.1 GB` and {claim}`4 ms | of=tt, tol=0.1 GB` and "
        "{claim}`4 ms ~ tt @ 10 %%`.\n"
    )
    found = failures(cli, tmp_path, "tol.md", md)
    assert [(line, col) for line, col, _ in found] == [(5, 13), (8, 23), (8, 61), (8, 93)]
    assert found[3][2] == "cannot read the tolerance '10 %%'"
    qmd = (
        '# T\n\n```{.napkin}\ntt = 4 ms\n```\n\nA [4 ms]{.claim of="tt" tol="0.1 GB"} and '
        '[4 ms]{.claim of="tt" tolerance="lots"}.\n'
    )
    found = failures(cli, tmp_path, "tol.qmd", qmd)
    assert [(line, col) for line, col, _ in found] == [(7, 30), (7, 76)]


def test_a_claim_span_with_markdown_inside_is_its_text(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``[**30** FLOP/B]{.claim …}``: the figure is the span's text, as the filter reads it
    from pandoc (emphasis, links and code marks are not part of it), at the span's column."""
    qmd = (
        '# F\n\n```{.napkin}\nridge = ridge_point(H100, "bf16")\n```\n\n'
        'Bold [**30** FLOP/B]{.claim of="ridge"}, [about *30* FLOP/B]{.claim of="ridge"}, '
        '[30 [FLOP/B](https://x.org)]{.claim of="ridge"} and [2 * 150 FLOP/B]{.claim of="ridge"}.\n'
    )
    found = failures(cli, tmp_path, "fmt.qmd", qmd)
    assert [(line, col, msg.split(" disagrees")[0]) for line, col, msg in found] == [
        (7, 7, "claim 30 FLOP/B"),
        (7, 43, "claim about 30 FLOP/B"),
        (7, 83, "claim 30 FLOP/B"),
    ]


def test_an_expression_written_as_an_attribute_fails_there(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    qmd = '# A\n\nAttr []{.napkin expr="1 + H10.tdp"} and []{.claim claim="7 W ~ H100.tdp"}.\n'
    found = failures(cli, tmp_path, "attr.qmd", qmd)
    assert [(line, col) for line, col, _ in found] == [(3, 27), (3, 58)]


def test_a_table_row_fails_at_its_place_in_rows(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = {
        name: [(line, col) for line, col, _ in failures(cli, tmp_path, name, text)]
        for name, text in {
            "rows.md": "# T\n\n```{napkin-table} X\n:rows: H100, H10, A100 ,\n\nA = {row}.tdp\n"
            "```\n",
            "rows.qmd": '# T\n\n```{.napkin-table rows="H100, H11"}\nA: row.tdp\n```\n',
            "rows.rst": "T\n=\n\n.. napkin-table:: X\n   :rows: H12, A100\n\n   A = {row}.tdp\n",
        }.items()
    }
    assert found == {"rows.md": [(4, 14)], "rows.qmd": [(3, 31)], "rows.rst": [(5, 11)]}


def test_placing_attribute_values_survives_truncated_attributes() -> None:
    """Found by the fuzzer: an attribute whose value is cut off at the end of the text."""
    from mlsysim.book.sources.check import check_document

    for text in ["[]{.claim of=", '[x]{.claim of="', "[a]{.napkin expr=", '{{< claim "x" of=']:
        check_document(Path("/nonexistent/cut.qmd"), text=text)


def test_table_and_plot_shortcodes_fail_at_their_place(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """There is no ``{{< napkin-table >}}`` or ``{{< napkin-plot >}}`` shortcode: check
    skipped them silently while Quarto showed ``?napkin-table``; each fails at its ``{{<``,
    in a paragraph of its own or inside one, saying what to write instead."""
    qmd = (
        '# S\n\n{{< napkin-table rows="H100, A100" >}}\n\n'
        'Inline {{< napkin-plot "x" kind="roofline" >}} and {{{< napkin-table >}}} (escaped).\n'
    )
    found = failures(cli, tmp_path, "sc.qmd", qmd)
    assert [(line, col) for line, col, _ in found] == [(3, 1), (5, 8)]
    assert [msg for _, _, msg in found] == [
        "there is no {{< napkin-table >}} shortcode",
        "there is no {{< napkin-plot >}} shortcode",
    ]
    _, out, _ = cli("check", str(tmp_path / "sc.qmd"), "--format", "json")
    hints = [f["hint"] for f in json.loads(out)["failures"]]
    assert "```{.napkin-table" in hints[0] and "```{.napkin-plot" in hints[1]


def test_escaped_quotes_keep_later_columns(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pandoc's ``\\"`` in an attribute value and CSV's ``""`` in a csv-table cell are one
    character to the host: columns after them were one short per escape."""
    qmd = (
        "# E\n\n"
        '[700 W]{.claim of="0 * H100.peak_flops(\\"bf16\\") + H10.tdp"} and '
        '[7 W]{.claim of="H100.tdp" tol="\\"x\\""}.\n\n'
        '[]{.napkin expr="H100.peak_flops(\\"bf16\\") + H11.x"}\n'
    )
    assert [(line, col) for line, col, _ in failures(cli, tmp_path, "e.qmd", qmd)] == [
        (3, 52),
        (3, 98),  # the tolerance's value, at its first character as written (the escape)
        (5, 46),
    ]
    rst = (
        "E\n=\n\n.. csv-table:: T\n   :header: a, b\n\n"
        '   "x", ":napkin:`H100.peak_flops(""bf16"") + H12.x`"\n'
        '   "y", ":napkin:`H100.peak_flops(""bf16"") + H100.peak_flops(""fp8"") + H13.x`"\n'
    )
    found = failures(cli, tmp_path, "e.rst", rst)
    assert [(line, col) for line, col, _ in found] == [(7, 47), (8, 74)]


def test_unit_mismatches_name_kinds_of_quantity(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Messages said ``power (length^2·mass/time^3)``: a mechanical dimension is named by its
    kind, an unnamed one as a ratio of kinds, the book's own base dimensions as before."""
    md = (
        "# U\n\n{napkin}`H100.tdp + 1 s` {claim}`1 W ~ H100.memory.bandwidth` "
        "{napkin}`1 J/token + 1 token/W` {napkin}`1 W * 1 token + 1 GB` "
        "{napkin}`H100.tdp - 1 s` {napkin}`2 - 1 s` {napkin}`1 s + 2 / 3`\n"
    )
    assert [msg for _, _, msg in failures(cli, tmp_path, "u.md", md)] == [
        "cannot add 700 W (power) to 1 s (time)",
        "cannot compare 1 W (power) with H100.memory.bandwidth = 3.350 TB/s "
        "(bandwidth (information/time))",
        "cannot add 1 J/token (energy per token) to 1 token/W (tokens per power)",
        "cannot add 1 token·W (energy·tokens/time) to 1 GB (information)",
        # a - b subtracts b from a (the sides were swapped)
        "cannot subtract 1 s (time) from 700 W (power)",
        "cannot subtract 1 s (time) from 2 (dimensionless number)",
        "cannot add 1 s (time) to 0.666667 (dimensionless number)",  # not 0.6666666666666666
    ]


def test_substitution_values_are_items_where_written(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With MyST's substitution extension, ``{{ name }}`` renders the front matter's value,
    whose roles Sphinx runs once per use; check skipped them. Each use gives the value's
    items, placed in the front matter; an unused or unknown name gives none."""
    (tmp_path / "conf.py").write_text(
        'extensions = ["myst_parser", "mlsysim_sphinx"]\n'
        'myst_enable_extensions = ["substitution"]\n',
        encoding="utf-8",
    )
    md = (
        "---\nmyst:\n  substitutions:\n"
        "    ridge: \"{napkin}`ridge_point(A10x, 'bf16')`\"\n"
        '    unused: "{napkin}`H10.tdp`"\n'
        "    block: |\n      A block {napkin}`H11.tdp`\n---\n\n"
        "# S\n\nOnce {{ ridge }}, twice {{ridge}}, `{{ ridge }}` in code, {{ nothing }}.\n\n"
        "{{ block }}\n"
    )
    found = failures(cli, tmp_path, "s.md", md)
    assert [(line, col) for line, col, _ in found] == [(4, 34), (4, 34), (7, 24)]
    (tmp_path / "conf.py").write_text('extensions = ["myst_parser"]\n', encoding="utf-8")
    assert failures(cli, tmp_path, "s.md", md) == []  # without the extension: plain text
    # conf.py's myst_substitutions: placed in conf.py; the front matter's win
    (tmp_path / "conf.py").write_text(
        'extensions = ["myst_parser"]\nmyst_enable_extensions = ["substitution"]\n'
        'myst_substitutions = {\n    "ridge": "{napkin}`H12.tdp`",\n'
        "    \"bw\": '{napkin}`H13.tdp`',\n}\n",
        encoding="utf-8",
    )
    (tmp_path / "t.md").write_text("# T\n\n{{ bw }} and {{ ridge }}\n", encoding="utf-8")
    _, out, _ = cli("check", str(tmp_path / "t.md"), str(tmp_path / "s.md"), "--format", "json")
    placed = [(Path(f["file"]).name, f["line"], f["column"]) for f in json.loads(out)["failures"]]
    assert placed == [
        ("conf.py", 4, 24),
        ("conf.py", 5, 21),
        ("s.md", 4, 34),
        ("s.md", 4, 34),
        ("s.md", 7, 24),
    ]


def test_a_footnotes_indented_blocks_belong_to_it(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Pandoc and MyST read blocks indented four spaces under ``[^note]:`` as the note's;
    the scanner read them as indented code (check skipped them; the filter ran them)."""
    for name, block, inline, col in [
        ("f.qmd", "```{.napkin}", "`fn + H11.tdp`{.napkin}", 11),
        ("f.md", "```{napkin}", "{napkin}`fn + H11.tdp`", 19),
    ]:
        text = (
            f"# F\n\nA note.[^a]\n\n[^a]: First.\n\n    {block}\n    fn = H10.tdp\n    ```\n\n"
            f"    Then {inline}.\n\n        code in the note: {inline}\n\nAfter: {inline}\n"
        )
        found = failures(cli, tmp_path, name, text)
        after = (15, col - 2)  # the note ends at a line that is not indented
        assert [(line, c) for line, c, _ in found] == [(8, 10), (11, col), after], name


def test_an_argument_error_points_at_the_argument(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = (
        "# A\n\n{napkin}`ring_allreduce(size=1 GB, n=8 GB, bandwidth=450 GB/s)` "
        "{napkin}`ring_allreduce(1 GB, 8 GB, 450 GB/s)` "
        "{napkin}`ring_allreduce(size=1 GB, n=8, bandwith=1 GB/s, bandwidth=450 GB/s)`\n"
    )
    found = failures(cli, tmp_path, "a.md", md)
    assert [(line, col) for line, col, _ in found] == [(3, 36), (3, 95), (3, 152)]


def test_myst_block_breaks_and_amsmath_blocks_are_not_text(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """MyST's ``+++`` line is a block break whose text is metadata, and with the amsmath
    extension ``\\begin{align*}`` … ``\\end{align*}`` is display math: Sphinx ran neither's
    roles while check did (without amsmath, the environment is text to both)."""
    md = (
        '# B\n\nBefore {napkin}`H1.tdp`\n+++ {"a": "{napkin}`H2.tdp`"}\n\n'
        "\\begin{align*}\nx &= {napkin}`H3.tdp`\n\\end{align*}\n\n"
        "\\begin{unknown}\n{napkin}`H4.tdp`\n\\end{unknown}\n"
    )
    for enabled, lines in [('"amsmath"', [3, 11]), ("", [3, 7, 11])]:
        (tmp_path / "conf.py").write_text(
            f'extensions = ["myst_parser"]\nmyst_enable_extensions = [{enabled}]\n',
            encoding="utf-8",
        )
        assert [line for line, _, _ in failures(cli, tmp_path, "b.md", md)] == lines


def test_rst_footnote_bodies_are_text_and_doctests_are_not(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """docutils parses a footnote's or citation's body as reST (Sphinx ran its roles; check
    skipped the block), and a ``>>>`` doctest block as literal text (check ran it)."""
    rst = (
        "F\n=\n\nSee [#n]_ and [CIT]_.\n\n>>> x = ':napkin:`H1.tdp`'\n\n"
        ".. [#n] Note :napkin:`H2.tdp`\n   and :napkin:`H3.tdp`.\n\n"
        ".. [CIT] Cited :napkin:`H4.tdp`\n"
    )
    found = failures(cli, tmp_path, "f.rst", rst)
    assert [(line, col) for line, col, _ in found] == [(8, 23), (9, 17), (11, 25)]
