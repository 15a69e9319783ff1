"""Internal ids as words for prose: ``memory_bandwidth`` → ``memory bandwidth``.

Messages, explainers and rendered text name things the way a textbook does; the ids stay in
data, JSON and code. Acronyms keep their capitals (``gemm_efficiency`` → ``GEMM efficiency``).
"""

from __future__ import annotations

__all__ = ["words"]

#: id parts written in capitals in prose
_ACRONYMS = frozenset(
    {
        "gemm", "mfu", "hfu", "kv", "tp", "pp", "dp", "cp", "ep", "sp", "pue", "wue", "tdp",
        "hbm", "nvls", "mtbf", "tco", "ttft", "tpot", "slo", "gpu", "cpu", "npu", "tpu",
        "io", "fp8", "fp16", "bf16", "int8", "int4", "nic", "qps", "mtok",
    }
)  # fmt: skip


def words(identifier: str) -> str:
    """``memory_bandwidth`` → ``memory bandwidth``, ``gemm_efficiency`` → ``GEMM efficiency``."""
    parts = [p for p in identifier.replace("-", "_").split("_") if p]
    return " ".join(p.upper() if p.lower() in _ACRONYMS else p for p in parts)
