"""A Sphinx book whose chapters hide napkin-like text where hosts and check could disagree."""

project = "traps"
extensions = ["myst_parser", "mlsysim_sphinx"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["colon_fence", "dollarmath"]
exclude_patterns = ["_build", "inc", "EXPECTED_FAILURES.txt"]

# project default: 20 %; the MyST chapter's front matter tightens it to 10 %
mlsysim_tolerance = 0.2
