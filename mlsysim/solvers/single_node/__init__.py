"""The single-node solver.

One workload on one device (the roofline per lowered operation that every solver times with, the
result, its tables and JSON Schemas, why a wall binds).

* ``explain`` — Explanations of a solve: why the binding wall binds, a sourced derivation, and
  differences;
* ``results`` — The solver's result: frozen, JSON-serialisable, with Quantity fields for napkin
  math;
* ``schemas`` — JSON Schemas (draft 2020-12) of ``solve`` results, one device and many
  (``mlsysim schema solve-device``, ``mlsysim schema distributed``), versioned with
  :data:`SCHEMA_VERSION` and :data:`DISTRIBUTED_SCHEMA_VERSION`;
* ``solver`` — The single-node solver: a workload and a plan, lowered to operations, timed on
  one device;
* ``step_parts`` — The tables a step's result carries: memory by kind, operations,
  communication, collectives;
* ``timing`` — Timing lowered operations on one device: the roofline per operation under an
  engine.

Imports only ``arguments``, ``base``, ``quantities`` of the other parts of ``mlsysim.solvers``
(the layers contract in pyproject.toml). The names users call are exported by
:mod:`mlsysim.solvers` and :mod:`mlsysim`; import a module of this package by its own path.
"""

__all__: list[str] = []
