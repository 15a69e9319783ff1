"""The MyST twin of tests/data/realbook/quarto: the constructs a real textbook uses that
Sphinx also has (admonitions with titles, nested directives, footnotes, figures with
captions, tables with captions, labelled math, includes, raw blocks, code cells as
listings), with napkin items inside them."""

project = "realbook"
extensions = ["myst_parser", "mlsysim_sphinx"]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath"]
myst_footnote_transition = False
exclude_patterns = ["_build", "chapters/_*.md", "shared", "EXPECTED_FAILURES.txt"]
suppress_warnings = ["image.not_readable", "myst.header"]
mlsysim_tolerance = "5%"
