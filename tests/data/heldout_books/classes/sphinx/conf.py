"""Held-out input classes (session 25), MyST under Sphinx: HTML admonitions (MyST's
html_admonition), substitutions used inside substitutions and through Jinja filters, errors
in role and directive options, role names in another case. Session 26: code directives'
captions, csv-table cells, versionchanged's text and deflist definitions holding later
blocks (all inline markup in Sphinx). Self-written."""

project = "classes"
extensions = ["myst_parser", "mlsysim_sphinx"]
myst_enable_extensions = ["colon_fence", "substitution", "html_admonition", "deflist"]
exclude_patterns = ["_build", "EXPECTED_FAILURES.txt"]
mlsysim_tolerance = "5%"
# a conf.py value used through a filter: its item is placed where it is used
myst_substitutions = {"tdp_role": "  {napkin}`H100.tdp`  "}
