"""Hardware layer: devices as sourced data and what executing on them costs.

* :mod:`.registry` — accelerators, boards and microcontrollers (``data/*.toml``), registered as
  the ``hardware`` kind;
* :mod:`.facts` — a device's datasheet as checked floats for the solvers;
* :mod:`.efficiency` — sourced default efficiencies and overheads of running on a device.
"""
