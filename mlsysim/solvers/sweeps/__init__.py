"""Sweeps.

``solve`` over every point of a grid, vectorized (one-device structures on arrays by the kernel,
distributed ones by the distributed solver's own steps).

* ``axes`` — A sweep's axes: each keyword's values as given (a scalar, a list, a 1-D array, a
  dask array), checked, and the integer axes (``batch``, ``seq_len``) as int64 arrays, every
  value checked as ``solve()`` checks it (:mod:`mlsysim.solvers.sweeps.grid` says what a grid
  is);
* ``distributed`` — Distributed configurations of a sweep, evaluated together: the solver's
  steps, shared where they can be, and its composition on arrays;
* ``distributed_lowering`` — The rank's lowering row of a distributed sweep: one lowering timed
  once for every pipeline depth and recomputation policy that can share it;
* ``distributed_parts`` — The parts of a distributed sweep and their composition on arrays
  (:mod:`mlsysim.solvers.sweeps.distributed` says what is shared and why);
* ``fill`` — Filling a sweep's columns for a range of its points: one-device structures through
  the sweep kernel, distributed ones through :mod:`mlsysim.solvers.sweeps.distributed` (whole
  structures as one block, a chunk's edges one by one), as :mod:`mlsysim.solvers.sweeps.grid`
  describes;
* ``grid`` — ``mlsysim.sweep(**axes)``: ``solve()`` over every point of a grid, vectorized;
* ``kernel`` — The sweep kernel: the single-node solver's steps on whole arrays of batch and
  sequence length;
* ``lazy`` — A sweep over dask arrays (``batch`` or ``seq_len`` given as one): one dask array
  per column, each chunk one task running the sweep kernel (:mod:`mlsysim.solvers.sweeps.grid`
  says when to use it);
* ``refused`` — Points ``solve()`` refuses, in a sweep run with ``invalid="mark"``;
* ``result`` — What a sweep returns: named columns, one value per grid point;
* ``space`` — A sweep's grid: its axes, their Cartesian product of *structures* (every axis but
  ``batch`` and ``seq_len``) each routed as ``solve()`` routes it, and its columns
  (:mod:`mlsysim.solvers.sweeps.grid` says what a grid is and how it runs;
  :mod:`mlsysim.solvers.sweeps.fill` fills its columns).

Imports only ``api``, ``distributed``, ``single_node``, ``arguments``, ``base``, ``quantities``
of the other parts of ``mlsysim.solvers`` (the layers contract in pyproject.toml). The names
users call are exported by :mod:`mlsysim.solvers` and :mod:`mlsysim`; import a module of this
package by its own path.
"""

__all__: list[str] = []
