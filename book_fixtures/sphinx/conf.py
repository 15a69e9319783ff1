"""Sphinx configuration of the mlsysim sample book (HTML and LaTeX/PDF)."""

project = "Napkin Math for ML Systems"
author = "mlsysim authors"
copyright = "2025, mlsysim authors"

extensions = ["myst_parser", "mlsysim_sphinx", "sphinxcontrib.bibtex"]
# `mlsysim bib . -o mlsysim.bib` writes every source the book's values cite; with
# sphinxcontrib-bibtex, derivations and formula cards cite them, linked to the bibliography
bibtex_bibfiles = ["mlsysim.bib"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["colon_fence", "dollarmath"]
exclude_patterns = ["_build", "EXPECTED_FAILURES.txt"]

# mlsysim: defaults shown explicitly
mlsysim_sig_figs = 3
mlsysim_tolerance = 0.05
mlsysim_fail_mode = "error"
mlsysim_siunitx = False
# charts: matplotlib rc parameters over the engine's base style (CSS themes figure.napkin-plot)
mlsysim_plot_style = {"lines.linewidth": 1.8}

html_theme = "alabaster"
latex_engine = "pdflatex"
latex_documents = [("index", "napkin-book.tex", project, author, "manual")]
