"""Training runs and serving fleets.

Many steps or many devices over a duration (failures and checkpoints, energy, carbon, water,
money, each figure with its derivation).

* ``explain`` — Which walls dominate a training run or a fleet, in one sentence each with its
  numbers;
* ``inputs`` — A training run's inputs, checked and resolved: the tokens, the step, the failure
  study and the checkpoint's writers;
* ``fleet`` — Serving fleets: how many devices a demand needs at an SLO, and what they cost the
  planet;
* ``footprint`` — Energy, carbon, water and money of devices running for a time, through the
  infra data;
* ``ledger`` — Figures with their derivations: what the run and fleet solvers return, part by
  part;
* ``result`` — The result of a training run: figures with derivations, walls, explanations and
  JSON;
* ``site`` — Where devices run and on what: the site (grid, datacenter, PUE, carbon intensity),
  the device, node and cluster of a system, and the host and network power beside each device;
* ``training`` — Training runs: many steps of a solve, with failures, checkpoints, energy,
  carbon, water, cost.

Imports only ``serving``, ``sweeps``, ``api``, ``distributed``, ``single_node``, ``arguments``,
``base``, ``quantities`` of the other parts of ``mlsysim.solvers`` (the layers contract in
pyproject.toml). The names users call are exported by :mod:`mlsysim.solvers` and :mod:`mlsysim`;
import a module of this package by its own path.
"""

__all__: list[str] = []
