"""Execution layer: plans saying how a workload runs (precision, quantization, sparsity,
recompute, optimizer state). See :mod:`mlsysim.execution.plan`."""

from mlsysim.execution.plan import BYTES_PER_ELEMENT, ExecutionPlan, ResolvedPlan

__all__ = ["BYTES_PER_ELEMENT", "ExecutionPlan", "ResolvedPlan"]
