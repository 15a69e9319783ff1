"""Golden strings for mlsysim.viz.format: significant figures, prefixes, styles, LaTeX forms.

Published figures used as inputs: NVIDIA H100 SXM datasheet (989.4 TFLOP/s dense BF16 with
sparsity halved, 3.35 TB/s HBM3, 80 GB, 700 W, 1,979 TFLOP/s sparse BF16).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsysim.core.exceptions import ConfigError, DimensionError, MlsysimError, UnknownNameError
from mlsysim.core.units import Q_
from mlsysim.viz.format import (
    SIUNITX_PREAMBLE,
    format_unit,
    render_value,
    render_value_exact,
    significant_digits,
)


def text(value, **kw):
    return render_value(value, **kw).text


def latex(value, **kw):
    return render_value(value, **kw).latex


# --- significant digits as written ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("989.4", 4),
        ("3.35", 3),
        ("80", 2),
        ("700", 3),
        ("1,979", 4),
        ("1e-3", 1),
        ("3.0", 2),
        ("0.00123", 3),
        ("-2.50", 3),
        ("3.35 TB/s", 3),
        (".5", 1),
        ("1_000", 4),
    ],
)
def test_significant_digits(written, digits):
    assert significant_digits(written) == digits


def test_significant_digits_rejects_non_numbers():
    with pytest.raises(MlsysimError, match="significant digits"):
        significant_digits("TB/s")


# --- significant figures and zero -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kw", "expected"),
    [
        (Q_("3 ms"), {"sig_figs": 2}, "3.0 ms"),
        (Q_("0.000123 s"), {}, "123 µs"),
        (Q_("999.96 GB"), {}, "1.00 TB"),
        (Q_("999.4 GB"), {}, "999 GB"),
        (Q_("59.999 s"), {}, "1.00 min"),
        (-Q_("3.35 TB/s"), {}, "-3.35 TB/s"),
        (0, {}, "0"),
        (0.0, {"sig_figs": 3}, "0"),
        (Q_("0 s"), {}, "0 s"),
        (2.675, {"sig_figs": 3}, "2.68"),  # half-up on the decimal as written
        (0.125, {"sig_figs": 2}, "0.13"),
        (19.5, {}, "19.5"),
        (1 / 3, {}, "0.333"),
        (123456.0, {}, "123,000"),
        (-0.0004567, {}, "-0.000457"),
    ],
)
def test_sig_figs(value, kw, expected):
    assert text(value, **kw) == expected


@pytest.mark.parametrize("value", [1e-30, -1e-30, 5e-324, Q_("1e-30 s"), Q_("1e-40 J")])
def test_non_zero_never_prints_as_zero(value):
    out = text(value)
    assert out not in ("0", "-0") and not out.startswith(("0 ", "-0 "))
    assert any(d in out for d in "123456789")


def test_tiny_values_switch_to_scientific():
    assert text(1e-30) == "1.00 × 10⁻³⁰"
    assert latex(1e-30) == r"{1.00 \times 10^{-30}}"  # one group: no line break inside
    assert text(Q_("1e-30 s")) == "1.00 × 10⁻³⁰ s"


def test_ints_print_exactly():
    assert text(1979) == "1,979"
    assert latex(1979) == "1{,}979"
    assert text(Q_(80, "GB")) == "80 GB"
    assert text(1024, sig_figs=2) == "1,000"
    assert text(10**20) == "1 × 10²⁰"


def test_given_digits_prevent_rerounding():
    # datasheet 989.4 TFLOP/s must not become 989 when no sig figs are asked
    assert text(Q_("989.4 TFLOP/s"), given_digits=4) == "989.4 TFLOP/s"
    assert text(Q_("989.4 TFLOP/s")) == "989 TFLOP/s"
    assert text(Q_("989.4 TFLOP/s"), given_digits=4, sig_figs=2) == "990 TFLOP/s"
    assert text(Q_("80 GB"), given_digits=2) == "80 GB"
    assert text(Q_("1979 TFLOP/s"), given_digits=4) == "1.979 PFLOP/s"


# --- automatic prefixes, per dimension ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Q_("989.4e12 FLOP/s"), "989 TFLOP/s"),
        (Q_("3.35e12 B/s"), "3.35 TB/s"),
        (Q_("3350 GB/s"), "3.35 TB/s"),
        (Q_("80e9 B"), "80.0 GB"),
        (Q_("80 GiB"), "80 GiB"),
        (Q_("1536 MiB"), "1.50 GiB"),
        (Q_("2 Gb/s"), "2.00 Gb/s"),
        (Q_("3.2 us"), "3.20 µs"),
        (Q_("0.5 ns"), "500 ps"),
        (Q_("23.88 ms"), "23.9 ms"),
        (Q_("90000 s"), "1.04 days"),
        (Q_("7200 s"), "2.00 h"),
        (Q_("3 yr"), "3 years"),
        (Q_("1 d"), "1 day"),
        (Q_("5000 kWh"), "5.00 MWh"),
        (Q_("3 W") * Q_("2 h"), "6.00 Wh"),
        (Q_("5.4e12 J"), "1.50 GWh"),  # the field writes energy in Wh, never TJ
        (Q_("2.6 J"), "2.60 J"),
        (Q_("0.9 pJ"), "0.900 pJ"),
        (Q_("6 mWh"), "21.6 J"),  # never mWh in scientific notation
        (Q_("700 W"), "700 W"),
        (Q_("10.2e3 W"), "10.2 kW"),
        (Q_("1500 kgCO2e"), "1.50 tCO₂e"),
        (Q_("1234 USD"), "1,234 USD"),
        (Q_("2.5e6 USD"), "2,500,000 USD"),
        (Q_("3.14e23 FLOP"), "3.14 × 10²³ FLOP"),
        (Q_("6738415616 param"), "6.74 billion params"),  # B means bytes
        (Q_("15e12 token"), "15.0 trillion tokens"),
        (Q_("1024 sample"), "1,024 samples"),
        (Q_("989.4 TFLOP/s") / Q_("3.35 TB/s"), "295 FLOP/B"),
        (Q_("80 GB") / Q_("3.35 TB/s"), "23.9 ms"),
        (Q_("1 GHz"), "1 GHz"),
        (Q_("430 gCO2e/kWh"), "430 gCO₂e/kWh"),
        (Q_("5 percent"), "5.00 %"),
    ],
)
def test_auto_prefixes(value, expected):
    assert text(value) == expected


def test_auto_is_the_default():
    q = Q_("0.000123 s")
    assert render_value(q, unit="auto") == render_value(q)


def test_binary_prefixes_are_never_converted_silently():
    assert "GB" not in text(Q_("80 GiB")).replace("GiB", "")
    assert text(Q_("80 GiB"), unit="GB") == "85.9 GB"


# --- requested units -------------------------------------------------------------------------


def test_requested_unit_converts():
    assert text(Q_("3350 GB/s"), unit="TB/s") == "3.35 TB/s"
    assert text(Q_("23.88 ms"), unit="s") == "0.0239 s"
    assert text(Q_("700 W"), unit="kW") == "0.700 kW"
    assert text(Q_("1979 TFLOP/s"), unit="TFLOP/s", given_digits=4) == "1,979 TFLOP/s"
    assert text(0.953, unit="%") == "95.3 %"


def test_requested_unit_of_another_dimension_raises():
    with pytest.raises(DimensionError):
        render_value(Q_("3.35 TB/s"), unit="Hz")
    with pytest.raises(DimensionError):
        render_value(Q_("80 GB"), unit="ms")


def test_unknown_unit_is_a_named_error():
    with pytest.raises(UnknownNameError, match="unit"):
        render_value(Q_("3 ms"), unit="fortnights")


# --- styles ----------------------------------------------------------------------------------


def test_percent_style():
    r = render_value(0.953, style="percent")
    assert (r.text, r.latex) == ("95.3 %", r"{95.3\,\%}")
    assert text(Q_("0.5 s") / Q_("2 s"), style="percent") == "25.0 %"
    with pytest.raises(ConfigError, match="dimensionless"):
        render_value(Q_("3 ms"), style="percent")


def test_multiplier_style():
    r = render_value(19.5, style="multiplier")
    assert (r.text, r.latex) == ("19.5×", r"{19.5\times}")


def test_scientific_and_engineering_styles():
    r = render_value(3.14e23, style="scientific")
    assert (r.text, r.latex) == ("3.14 × 10²³", r"{3.14 \times 10^{23}}")
    assert text(Q_("989.4 TFLOP/s"), style="engineering") == "989 × 10¹² FLOP/s"
    assert text(Q_("989.4 TFLOP/s"), style="scientific") == "9.89 × 10¹⁴ FLOP/s"
    assert text(12345.0, style="engineering") == "12.3 × 10³"
    # the power of ten carries the scale, in the family's base unit (never 1.23 × 10⁶ mW)
    assert text(Q_("1234 W"), style="scientific") == "1.234 × 10³ W"  # written digits kept
    assert text(Q_("2 gCO2e"), style="scientific") == "2.00 × 10⁻³ kgCO₂e"
    assert text(Q_("3 mL"), style="engineering") == "3.00 × 10⁻³ L"
    assert text(Q_("5e20 W")) == "5.00 × 10²⁰ W"  # beyond TW: scientific in watts


def test_plain_style_never_uses_scientific():
    assert text(1e-6, style="plain") == "0.00000100"
    assert text(Q_("999.96 GB"), style="plain") == "1.00 TB"


def test_thousands_separators():
    assert text(Q_("2.5e6 USD"), thousands=False) == "2500000 USD"
    assert latex(Q_("1234 USD")) == r"{1{,}234\,\mathrm{USD}}"


def test_bad_options():
    with pytest.raises(ConfigError, match="style"):
        render_value(1.0, style="fancy")
    with pytest.raises(ConfigError, match="sig_figs"):
        render_value(1.0, sig_figs=0)


# --- other value kinds -----------------------------------------------------------------------


def test_bools_and_strings_render_as_text():
    assert render_value(True).text == "true"
    assert render_value(False).math is False
    r = render_value("50%_off")
    assert (r.text, r.latex, r.math) == ("50%_off", r"50\%\_off", False)
    assert render_value("<b>").html == "&lt;b&gt;"


def test_registry_entries_render_by_id():
    class Spec:
        id = "H100"

    assert render_value(Spec()).text == "H100"


def test_unrenderable_values_raise():
    with pytest.raises(MlsysimError, match="cannot render"):
        render_value(object())


# --- LaTeX, HTML, Markdown forms -------------------------------------------------------------


def test_plain_latex_forms():
    # a number and its unit are one group, so TeX and MathJax never break between them
    assert latex(Q_("295 FLOP/B")) == r"{295\,\mathrm{FLOP/B}}"
    assert latex(Q_("3.2 us")) == r"{3.20\,\mu\mathrm{s}}"
    assert latex(Q_("3.35 TB/s")) == r"{3.35\,\mathrm{TB/s}}"
    assert latex(Q_("430 gCO2e/kWh")) == r"{430\,\mathrm{gCO_2e/kWh}}"
    assert latex(Q_("6.74e9 param")) == r"{6.74\,\mathrm{billion}\ \mathrm{params}}"
    assert latex(295) == "295"
    for q in (Q_("295 FLOP/B"), Q_("3.2 us"), Q_("1 GB") / Q_("1 us"), Q_("4 m**2")):
        out = latex(q)
        assert "µ" not in out and "\\frac" not in out


def test_html_reads_without_mathjax_and_markdown_wraps_math():
    r = render_value(Q_("295 FLOP/B"))
    assert r.html == "295\u202fFLOP/B"  # a narrow no-break space: never breaks from its unit
    assert r.markdown == r"${295\,\mathrm{FLOP/B}}$"
    assert r.math is True


def test_siunitx_only_changes_latex():
    r = render_value(Q_("295 FLOP/B"), siunitx=True)
    assert r.latex == r"\qty{295}{FLOP/B}"
    assert r.html == "295\u202fFLOP/B"
    assert latex(Q_("5 kgCO2e"), siunitx=True) == r"\qty{5}{kgCO_2e}"
    assert latex(Q_("3.2 us"), siunitx=True) == r"\qty{3.20}{\micro s}"
    assert latex(0.953, style="percent", siunitx=True) == r"\qty{95.3}{\percent}"
    assert latex(19.5, style="multiplier", siunitx=True) == r"\num{19.5}\times"
    assert latex(3.14e23, style="scientific", siunitx=True) == r"\num{3.14e23}"
    assert "siunitx" in SIUNITX_PREAMBLE


def test_format_unit():
    assert format_unit("TB/s") == ("TB/s", r"\mathrm{TB/s}")
    assert format_unit("us") == ("µs", r"\mu\mathrm{s}")
    assert format_unit(Q_("3 kg*m**2").units) == ("kg·m²", r"\mathrm{kg\cdot m^{2}}")
    assert format_unit("USD/h") == ("USD/h", r"\mathrm{USD/h}")
    # counts: plural on their own or over something, singular under the fraction bar
    assert format_unit("token/s") == ("tokens/s", r"\mathrm{tokens/s}")
    assert format_unit("J/token") == ("J/token", r"\mathrm{J/token}")
    assert format_unit("USD/param") == ("USD/param", r"\mathrm{USD/param}")
    assert format_unit("kgCO2e") == ("kgCO₂e", r"\mathrm{kgCO_2e}")
    assert format_unit("") == ("", "")


def test_exactness_flag():
    assert render_value_exact(19.5)[1] is True
    assert render_value_exact(1 / 3)[1] is False
    assert render_value_exact(Q_("3.35 TB/s"))[1] is True


# --- LaTeX validity: compile a sample with pdflatex --------------------------------------------


def _tex_samples() -> list[str]:
    values = [
        (Q_("295 FLOP/B"), {}),
        (Q_("3.2 us"), {}),
        (Q_("1979 TFLOP/s"), {"unit": "TFLOP/s"}),
        (0.953, {"style": "percent"}),
        (19.5, {"style": "multiplier"}),
        (3.14e23, {"style": "scientific"}),
        (Q_("430 gCO2e/kWh"), {}),
        (Q_("4 m**2"), {}),
        (Q_("1 GB") / Q_("1 us"), {}),
        (Q_("6738415616 param"), {}),
        (Q_("2.7 tCO2e"), {}),
        (-1e-30, {}),
    ]
    out = []
    for value, kw in values:
        out.append(render_value(value, **kw).latex)
        out.append(render_value(value, siunitx=True, **kw).latex)
    return out


@pytest.mark.tex
def test_latex_compiles_with_pdflatex(tmp_path: Path):
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdflatex is required in CI (install texlive, see scripts/setup.sh)")
        pytest.skip("pdflatex not installed (install texlive to run the LaTeX validity test)")
    from types import SimpleNamespace

    from mlsysim.viz.derivation import render_derivation
    from mlsysim.viz.table import render_table

    amdahl = SimpleNamespace(
        name="amdahl",
        symbol=r"S = \frac{1}{(1-p)+p/s}",
        substituted=r"\frac{1}{(1-{{p}})+{{p}}/{{speedup}}}",
    )
    eq = render_derivation(amdahl, {"p": 0.95, "speedup": 247}, 18.57, style="multiplier")
    table = render_table(
        ["device", "bandwidth"],
        [["H100_SXM", Q_("3.35 TB/s")], ["x", 0.5]],
        sources=["NVIDIA H100 datasheet, 100% of specs & more"],
    )
    body = "\n\n".join(f"${s}$" for s in _tex_samples())
    body += f"\n\n\\[{eq.latex}\\]\n\n{table.latex}\n"
    doc = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n"
        + SIUNITX_PREAMBLE
        + "\\begin{document}\n"
        + body
        + "\n\\end{document}\n"
    )
    (tmp_path / "sample.tex").write_text(doc, encoding="utf-8")
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "sample.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = (tmp_path / "sample.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-3000:]
    assert "Missing character" not in log
    assert "Undefined control sequence" not in log


def test_float_digits_ignore_the_repr_suffix():
    from mlsysim.viz.format import float_digits

    assert float_digits(989.4) == 4
    assert float_digits(2.0) == 1
    assert float_digits(80.0) == 2
    assert float_digits(1e-3) == 1
    assert float_digits(1000) == 1
    assert float_digits(0.1 + 0.2) == 17


def test_given_digits_beyond_a_double_are_clamped():
    assert text(0.1 + 0.2, given_digits=17) == "0.300000000000000"


# --- property: shown digits are the value, rounded to the asked figures ----------------------

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _parse_text(shown: str) -> Decimal:
    mantissa, _, exponent = shown.replace(",", "").partition(" × 10")
    return Decimal(mantissa).scaleb(int(exponent.translate(_SUPERSCRIPTS)) if exponent else 0)


@given(
    x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
    n=st.integers(min_value=1, max_value=8),
)
@settings(max_examples=300, deadline=None)
def test_rounding_property(x, n):
    shown = text(x, sig_figs=n)
    if x == 0:
        assert shown == "0"
        return
    assert any(d in shown for d in "123456789"), shown
    exact = Decimal(repr(x))
    bound = abs(exact) * Decimal(5) * Decimal(10) ** (-n)
    assert abs(_parse_text(shown) - exact) <= bound, (x, n, shown)


@given(x=st.floats(min_value=1e-12, max_value=1e12, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_time_prefixes_round_trip(x):
    shown = text(Q_(x, "s"))
    number, _, unit = shown.rpartition(" ")
    unit = {"days": "d", "day": "d", "years": "yr", "year": "yr"}.get(unit, unit)
    back = Q_(float(_parse_text(number)), unit).to("s").magnitude
    assert abs(back - x) <= x * 0.005 * (1 + 1e-9), (x, shown)


# Written digits carry over a decimal rescaling only: a binary or sexagesimal change of unit is
# a new number, shown with at least the default significant figures (1 GiB = 1.0737 GB).
@pytest.mark.parametrize(
    ("text", "digits", "unit", "shown"),
    [
        ("1 GiB", 1, "GB", "1.07 GB"),  # 2**30 B = 1.073741824e9 B
        ("80 GB", 2, "GiB", "74.5 GiB"),  # 80e9 / 2**30 = 74.506
        ("0.5 GiB", 1, None, "512 MiB"),  # 0.5 × 1024 MiB, not "500 MiB"
        ("90 s", 2, None, "1.50 min"),
        ("2039 GB/s", 4, "TB/s", "2.039 TB/s"),  # decimal: the written digits carry
        ("989.4 TFLOP/s", 4, "PFLOP/s", "0.9894 PFLOP/s"),
    ],
)
def test_written_digits_survive_only_decimal_rescaling(
    text: str, digits: int, unit: str | None, shown: str
) -> None:
    assert render_value(Q_(text), unit=unit, given_digits=digits).text == shown


def test_a_count_of_one_is_singular():
    assert text(Q_("1 token")) == "1 token"
    assert text(Q_("1 token/s"), sig_figs=1) == "1 token/s"
    assert text(Q_("1 token/s")) == "1.00 tokens/s"  # as English writes 1.00
    assert text(Q_("2 token/s"), sig_figs=1) == "2 tokens/s"
    assert text(Q_("1 param"), unit="param") == "1 param"
