"""Generation and serving.

One batch from prompt to last token (``generate``) and continuous batching at a request rate
(``serve``), composed from solves.

* ``build`` — The :class:`~mlsysim.solvers.serving.result.ServingResult` of a serving solve,
  built from what the solver computed: a replica that does not fit (:func:`infeasible`), the
  saturated engine (:func:`saturated`) or the engine at a rate below its capacity
  (:func:`at_rate`);
* ``explain`` — Why a generation or a served model is bound, in words and numbers;
* ``generation`` — ``mlsysim.generate``: one batch of requests from prompt to last token — TTFT,
  TPOT, latency;
* ``generation_result`` — Results of ``generate`` (one batch, prompt to last token): Quantities
  on access, JSON forms;
* ``replica`` — The steady state of one serving replica under continuous batching, and its
  queues;
* ``result`` — The result of ``serve``: capacity, latency means and percentiles at a rate, the
  SLO, JSON;
* ``schemas`` — JSON Schemas (draft 2020-12) of ``generate`` and ``serve`` results (``mlsysim
  schema generate``, ``mlsysim schema serve``), versioned with :data:`GENERATE_SCHEMA_VERSION`
  and :data:`SERVE_SCHEMA_VERSION`;
* ``serve`` — ``mlsysim.serve``: an LLM served with continuous batching at a request rate;
* ``solver`` — The serving solver: one request rate on an engine with continuous batching,
  solved;
* ``steps`` — The steps of one serving replica, composed from ``solve()``: prefill, decode,
  mixed, verify.

Imports only ``api``, ``distributed``, ``single_node``, ``arguments``, ``base``, ``quantities``
of the other parts of ``mlsysim.solvers`` (the layers contract in pyproject.toml). The names
users call are exported by :mod:`mlsysim.solvers` and :mod:`mlsysim`; import a module of this
package by its own path.
"""

__all__: list[str] = []
