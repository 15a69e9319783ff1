project = "shared values"
extensions = ["mlsysim_sphinx", "myst_parser"]
exclude_patterns = ["_build"]
