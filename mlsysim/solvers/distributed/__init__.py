"""The distributed solver.

One workload over a node or a cluster (its plans, per-rank timing and collectives, the step's
composition, its result).

* ``explain`` — Why a distributed step's wall binds, and its derivation step by step with
  sources;
* ``plans`` — A distributed solve's arguments, checked as ``solve()`` checks them: the target
  (model, phase, system view, the model's facts), the parallel plan on the view's devices, the
  execution plan resolved on its device, the batch's split into micro-batches and the plan
  against the model's shape (:mod:`mlsysim.solvers.distributed.solver` runs them in that order;
  a sweep, :mod:`mlsysim.solvers.sweeps.distributed`, runs each once per combination that reads
  it);
* ``results`` — The distributed solver's result: a step over many devices, with its versioned
  JSON form;
* ``solver`` — The distributed solver: one workload over many devices, composed from per-rank
  lowering, collectives on the real topology and the pipeline schedule;
* ``step`` — The distributed step composed from one rank's timing: the one composition of a
  solve and of a sweep;
* ``timing`` — One rank's timing and its collectives' prices in a distributed step.

Imports only ``single_node``, ``arguments``, ``base``, ``quantities`` of the other parts of
``mlsysim.solvers`` (the layers contract in pyproject.toml). The names users call are exported
by :mod:`mlsysim.solvers` and :mod:`mlsysim`; import a module of this package by its own path.
"""

__all__: list[str] = []
