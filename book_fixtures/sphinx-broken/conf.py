"""The sample book's broken twin: wrong claims and checks at the lines listed in
EXPECTED_FAILURES.txt; its build must fail and report exactly those lines."""

project = "Napkin Math for ML Systems"
author = "mlsysim authors"
copyright = "2025, mlsysim authors"

extensions = ["myst_parser", "mlsysim_sphinx"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["colon_fence", "dollarmath"]
exclude_patterns = ["_build", "EXPECTED_FAILURES.txt"]

# mlsysim: defaults shown explicitly
mlsysim_sig_figs = 3
mlsysim_tolerance = 0.05
mlsysim_fail_mode = "error"
mlsysim_siunitx = False

html_theme = "alabaster"
latex_engine = "pdflatex"
latex_documents = [("index", "napkin-book.tex", project, author, "manual")]
