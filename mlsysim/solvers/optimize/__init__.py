"""Searches over configurations.

Each optimizer calls a solver and ranks what it returns (a new search is one module here, a
``BaseOptimizer`` returning a ``Search``).

* ``batch`` — Searches over configurations: each optimizer calls a solver and keeps the best
  result;
* ``bound`` — Branch and bound over a list of candidates: exact top-k without solving every
  candidate;
* ``parallel`` — The parallelism search: the highest-throughput way to train a model on a
  cluster that fits;
* ``parallel_bounds`` — Bounds on a parallel configuration's throughput that cost no solve, for
  branch and bound;
* ``parallel_space`` — The parallelism search's space: every training configuration worth
  solving, cut by rule;
* ``pareto`` — Pareto frontiers: the candidates that no other candidate beats on every
  objective;
* ``placement`` — The placement search: which hardware and which region train a model at the
  least cost, time, carbon, energy or water (carbon-aware placement);
* ``result`` — What every optimizer returns: ranked candidates, the winner, why it wins, its
  JSON and CSV;
* ``schema`` — JSON Schema (draft 2020-12) of what every optimizer returns (``mlsysim optimize
  --json``, ``mlsysim schema optimize``), versioned with :data:`OPTIMIZE_SCHEMA_VERSION`;
* ``serving`` — The serving search: the hardware, precision, tensor parallelism and batch that
  serve a demand within its SLO at the least cost, carbon, energy, water or devices.

Imports only ``run``, ``serving``, ``sweeps``, ``api``, ``distributed``, ``single_node``,
``arguments``, ``base``, ``quantities`` of the other parts of ``mlsysim.solvers`` (the layers
contract in pyproject.toml). The names users call are exported by :mod:`mlsysim.solvers` and
:mod:`mlsysim`; import a module of this package by its own path.
"""

__all__: list[str] = []
