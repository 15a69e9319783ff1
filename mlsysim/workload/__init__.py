"""Workload layer: models as sourced data, their architecture arithmetic, and the lowering of a
workload under an execution plan to per-device operations.

* :mod:`.registry` — transformer and CNN/KWS models (``data/*.toml``), the ``model`` kind;
* :mod:`.arch`, :mod:`.cnn` — parameter counts and layer stacks implied by an architecture;
* :mod:`.lowering` — operations with FLOPs and bytes, resident memory, model/hardware FLOPs.
"""
