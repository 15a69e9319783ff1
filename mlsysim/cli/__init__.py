"""The ``mlsysim`` command: one module per subcommand (``<name>_cmd.py`` with ``add_arguments``
and ``run``), dispatched by :mod:`.main`."""
