"""Held-out MyST chapters (self-written, as an ML-systems textbook author writes them): nested
chapter folders, an include from a shared folder, admonitions, footnotes, figures, tables,
definition lists, code listings that hold napkin-like text, unicode, tabs and long lines."""

project = "heldout"
extensions = ["myst_parser", "mlsysim_sphinx"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "substitution", "amsmath"]
exclude_patterns = ["_build", "_shared", "EXPECTED_FAILURES.txt"]
suppress_warnings = ["image.not_readable"]
mlsysim_tolerance = "5%"
mlsysim_sig_figs = 3
numfig = True
# substitutions every chapter may use ({{ name }}); their roles run where they are used
myst_substitutions = {"h100_bw": "{napkin}`H100.memory.bandwidth -> TB/s`", "plain": "no items"}
