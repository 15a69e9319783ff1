"""The ground every layer stands on: units, typed specs, errors, the registry machinery,
constants, formulas and walls — and nothing that models a system.

* :mod:`.units` — the one pint registry (``ureg``, ``Q_``) and the ``si``/``from_si`` fast edge;
* :mod:`.types`, :mod:`.registry` — frozen spec classes and data files; a layer registers its
  kinds with :func:`~mlsysim.core.registry.register_kind`;
* :mod:`.constants` — every sourced constant, format table and default, once;
* :mod:`.formulas` — every equation, once: a cited ``@formula`` and its float fast path;
* :mod:`.walls` — the 22 walls, each naming its formulas and the solver (by id) that decides it;
* :mod:`.arguments`, :mod:`.cache` — user-argument checks and generation-aware derived caches;
* :mod:`.exceptions` — the error hierarchy.

Core imports no layer above it (``tests/test_architecture.py``).
"""
