"""Execution layer: plans saying how a workload runs — numeric formats (weights, activations,
gradients, KV cache), weight-only quantization, 2:4 sparsity, activation recomputation and
optimizer state; later parallelism and checkpoint policy. A plan is bound to one device by
:meth:`ExecutionPlan.resolve`. See :mod:`mlsysim.execution.plan`."""

from mlsysim.execution.plan import PLAN_OPTIONS, ExecutionPlan, ResolvedPlan

__all__ = ["PLAN_OPTIONS", "ExecutionPlan", "ResolvedPlan"]
