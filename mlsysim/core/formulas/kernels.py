"""Kernels on a device: wave quantization of tiled work and the launch cost a step exposes.

A GPU runs a GEMM as output tiles, one thread block per tile, as many at once as it has
streaming multiprocessors (SMs): a problem whose tiles do not fill the last *wave* leaves SMs
idle (NVIDIA's Matrix Multiplication Background guide, §3.2 "wave quantization"). A batch-1
convolution has too few output tiles to fill an A100's 108 SMs. Libraries split the reduction
dimension K over several blocks when the tiles alone cannot fill the device (split-K), which
recovers part of it. Launching a kernel costs host and front-end time; launches are
asynchronous, so that cost hides behind the previous kernel unless the kernel is shorter
(Paszke et al. 2019, §5: PyTorch's asynchronous execution); a CUDA graph replays a captured
sequence with one host call and a small per-node cost.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import ceil, larger, select, smaller
from mlsysim.core.constants import SMALLEST_GEMM_TILE
from mlsysim.core.formulas._args import count, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "exposed_launch_overhead",
    "exposed_overhead_s",
    "gemm_row_breaks",
    "gemm_tile_rows",
    "gemm_wave_efficiency",
    "gemm_wave_fraction",
    "graph_launch_overhead",
    "graph_launch_overhead_s",
    "grouped_gemm_wave_fraction",
    "padded_wave_efficiency",
    "padded_wave_fraction",
    "wave_efficiency",
    "wave_fraction",
]

_WAVES = ("solver_nvidia2023_matmul_guide",)
_SMALLEST_TILE = float(SMALLEST_GEMM_TILE.value)
#: Power-of-two tile sides below the engine's large tile, largest first (64, 32, 16, 8).
_SMALL_SIDES = tuple(_SMALLEST_TILE * 2.0**i for i in range(3, -1, -1))


def wave_fraction(work: float, units: float) -> float:
    """Float fast path of :func:`wave_efficiency`: ``w / (⌈w/u⌉·u)`` (1 when either is 0;
    ``work`` a float or an array, element-wise)."""
    if units <= 0.0:
        return 1.0
    waves = larger(ceil(work / units), 1.0)  # an empty problem: one wave, never 0/0
    eta = work / (waves * units)
    return select(work > 0.0, eta, 1.0)


def padded_wave_fraction(work: float, tiles: float, units: float) -> float:
    """Float fast path of :func:`padded_wave_efficiency`: ``w / (⌈n/u⌉·u)`` for ``w`` tiles'
    worth of useful work launched as ``n`` (padded) tiles (1 when there is none)."""
    if units <= 0.0:
        return 1.0
    waves = larger(ceil(tiles / units), 1.0)  # an empty problem: one wave, never 0/0
    eta = work / (waves * units)
    return select(work > 0.0, eta, 1.0)


@formula(
    symbol=r"\eta_{\mathrm{wave}} = \frac{n_{\mathrm{tiles}}}{\lceil n_{\mathrm{tiles}} / "
    r"n_{\mathrm{SM}} \rceil\, n_{\mathrm{SM}}}",
    substituted=r"\frac{ {{tiles}} }{\lceil {{tiles}} / {{units}} \rceil \cdot {{units}} }",
    sources=_WAVES,
    citation="NVIDIA Matrix Multiplication Background User's Guide (2023), §3.2",
    result="dimensionless",
)
def wave_efficiency(tiles: Any, units: Any) -> float:
    """The busy fraction of a device running ``tiles`` equal blocks on ``units`` SMs (cores)
    at one block each: full waves keep every SM busy, the last partial wave leaves the rest
    idle. 109 tiles on an A100's 108 SMs take two waves: 109/216 ≈ 0.50.

    Source: NVIDIA, Matrix Multiplication Background User's Guide (DU-09799-001), §3.2.
    """
    where = "wave_efficiency"
    n = count(tiles, "tiles", where)
    u = count(units, "units", where)
    eta = wave_fraction(n, u)
    return eta


@formula(
    symbol=r"\eta = \frac{w}{\lceil n_{\mathrm{tiles}} / n_{\mathrm{SM}} \rceil\, n_{\mathrm{SM}}}",
    substituted=r"\frac{ {{work}} }{\lceil {{tiles}} / {{units}} \rceil \cdot {{units}} }",
    sources=_WAVES,
    citation="NVIDIA Matrix Multiplication Background User's Guide (2023), §3.1-3.2",
    result="dimensionless",
)
def padded_wave_efficiency(work: Any, tiles: Any, units: Any) -> float:
    """Busy fraction of a device whose problem is ``work`` tiles' worth of useful work, run as
    ``tiles`` full-size blocks (the last tile of a dimension padded: tile quantization) on
    ``units`` SMs (wave quantization). The kernel takes ``⌈tiles/units⌉`` waves of a full
    tile each, so a larger problem never takes less time. A 129-query prompt's attention
    block grid on one head: 1.008 blocks of work in 2 blocks, one wave of 108 SMs: 0.0093.

    Source: NVIDIA, Matrix Multiplication Background User's Guide (DU-09799-001), §3.1-3.2.
    """
    where = "padded_wave_efficiency"
    w = count(work, "work", where, minimum=0)
    n = count(tiles, "tiles", where, minimum=w)
    u = count(units, "units", where)
    eta = padded_wave_fraction(w, n, u)
    return eta


def _tile_side(d: float, tile: float) -> float:
    """The tile side a library runs GEMM dimension ``d`` on: the smallest power-of-two side
    from 8 up that holds ``d``, at most the engine's tile (``d`` a float or an array)."""
    t = tile
    for side in _SMALL_SIDES:  # largest first: the smallest side that holds d wins
        if side < tile:
            t = select(d <= side, side, t)
    return t


def gemm_wave_fraction(
    m: float, n: float, k: float, units: float, tile_m: float, tile_n: float, tile_k: float
) -> float:
    """Float fast path of :func:`gemm_wave_efficiency` (``m``, ``n``, ``k`` floats or arrays,
    element-wise; the device's ``units`` and tile floats): useful work over the padded tiles'
    waves, so the time, ``waves × tile``, never falls as a dimension grows."""
    t_m = _tile_side(m, tile_m)
    return grouped_gemm_wave_fraction(m, ceil(m / t_m), t_m, n, k, units, tile_n, tile_k)


def grouped_gemm_wave_fraction(
    m: float,
    row_tiles: float,
    t_m: float,
    n: float,
    k: float,
    units: float,
    tile_n: float,
    tile_k: float,
) -> float:
    """A grouped GEMM (one launch over several problems of ``n`` × ``k`` weights, as a mixture
    of experts runs its experts): ``m`` useful rows in all, launched as ``row_tiles`` tiles of
    ``t_m`` rows (each problem's rows padded on their own), then the waves as for one GEMM
    (:func:`gemm_wave_fraction`; ``m`` and ``row_tiles`` floats or arrays)."""
    if units <= 0.0:
        return 1.0
    t_n = _tile_side(n, tile_n)
    tiles = row_tiles * ceil(n / t_n)
    splits = 1.0
    k_split = k
    if tile_k > 0.0:
        chunks = ceil(k / tile_k)
        fill = units // larger(tiles, 1.0)  # whole splits the idle units hold
        s = larger(smaller(fill, chunks), 1.0)
        splits = select(tiles < units, s, 1.0)
        # a split reduces whole chunks of K: the longest split sets the kernel's time
        k_split = select(splits > 1.0, tile_k * ceil(chunks / splits), k)
    work = m * n * k / (t_m * t_n * larger(k_split, 1.0))
    eta = padded_wave_fraction(work, tiles * splits, units)
    return select((m > 0.0) & (n > 0.0) & (k > 0.0), eta, 1.0)


def gemm_row_breaks(limit: float, tile_m: float) -> tuple[float, ...]:
    """The row counts up to ``limit`` after which a GEMM's rows run on more or larger tiles
    (:func:`_tile_side`): each small power-of-two side below the engine's tile (8, 16, 32,
    64) and every multiple of the tile. Between two of them a GEMM's padded tiles, waves and
    K splits stay the same, so its time grows only with the bytes it moves; one row past
    one, it can jump (tile and wave quantization). Empty without a tile model (``tile_m`` 0).
    """
    if tile_m <= 0.0:
        return ()
    small = [side for side in reversed(_SMALL_SIDES) if side < tile_m and side <= limit]
    multiples = [tile_m * i for i in range(1, int(limit // tile_m) + 1)]
    return (*small, *multiples)


def gemm_tile_rows(m: float, tile_m: float) -> float:
    """The rows of the tile a library runs a GEMM of ``m`` rows on (see :func:`_tile_side`)."""
    return _tile_side(m, tile_m)


@formula(
    symbol=(
        r"\eta = \frac{M N K / (t_m t_n k_s)}{\lceil T s / n_{\mathrm{SM}} \rceil\, "
        r"n_{\mathrm{SM}}},\ T = \lceil M/t_m \rceil \lceil N/t_n \rceil,\ "
        r"s = \min\left(\lfloor n_{\mathrm{SM}}/T \rfloor, \lceil K/t_k \rceil\right),\ "
        r"k_s = t_k \lceil \lceil K/t_k \rceil / s \rceil"
    ),
    substituted=(
        r"M={{m}},\ N={{n}},\ K={{k}},\ n_{\mathrm{SM}}={{units}},\ "
        r"t={{tile_m}} \times {{tile_n}} \times {{tile_k}}"
    ),
    sources=(*_WAVES, "solver_cublaslt_matmul_tile", "solver_cutlass_splitk"),
    citation="NVIDIA Matrix Multiplication Background User's Guide (2023), §3.1-3.2; "
    "cuBLASLt tile sizes; CUTLASS split-K",
    result="dimensionless",
)
def gemm_wave_efficiency(
    m: Any,
    n: Any,
    k: Any,
    units: Any,
    tile_m: Any = 128,
    tile_n: Any = 128,
    tile_k: Any = 256,
) -> float:
    """Busy fraction of a device running an ``m×k·k×n`` GEMM as ``t_m×t_n`` output tiles on
    ``units`` SMs: each dimension's last tile is padded (tile quantization, §3.1), a dimension
    shorter than the tile runs on the smallest power-of-two side from 8 that holds it
    (cuBLASLt's tile sizes), the last wave leaves
    SMs idle (wave quantization, §3.2), and the K dimension is split into ``t_k`` chunks when
    the tiles alone leave SMs idle (split-K, as CUTLASS and cuBLAS do for small outputs). The
    time is the waves of full (padded) tiles, so one more row never makes a GEMM faster.

    A batch-1 ResNet-50 stage-4 conv (M = 7·7, N = 512, K = 4608) runs on 64×128 tiles: 4 of
    them, split 18 ways over K, fill 72 of an A100's 108 SMs with 49/64 of each tile useful
    (0.51). Sources: NVIDIA Matrix Multiplication Background User's Guide §3.1-3.2; cuBLASLt
    ``cublasLtMatmulTile_t``; NVIDIA CUTLASS (split-K GEMM).
    """
    where = "gemm_wave_efficiency"
    M = count(m, "m", where)
    N = count(n, "n", where)
    K = count(k, "k", where)
    u = count(units, "units", where)
    t_m = count(tile_m, "tile_m", where)
    t_n = count(tile_n, "tile_n", where)
    t_k = count(tile_k, "tile_k", where, minimum=0)
    eta = gemm_wave_fraction(M, N, K, u, t_m, t_n, t_k)
    return eta


def exposed_overhead_s(body: float, launch: float, node: float = 0.0) -> float:
    """Float fast path of :func:`exposed_launch_overhead`:
    ``max(t_kernel + t_node, t_launch) − t_kernel`` (floats or arrays, element-wise)."""
    busy = body + node
    exposed = larger(launch - busy, 0.0)
    return exposed + node


@formula(
    symbol=(
        r"T_{\mathrm{exp}} = \max\left(T_{\mathrm{kernel}} + n_k\,t_{\mathrm{node}},\ "
        r"n_k\,t_{\mathrm{launch}}\right) - T_{\mathrm{kernel}}"
    ),
    substituted=r"\max\left({{kernel}} + {{node}},\ {{launch}}\right) - {{kernel}}",
    sources=("paszke2019", "solver_ocannl_cuda_graphs"),
    citation="Paszke et al. (2019), PyTorch §5: asynchronous kernel launches; CUDA graph "
    "replay per node, measured (ahrefs/ocannl #488)",
    result="time",
)
def exposed_launch_overhead(kernel: Any, launch: Any, node: Any = None) -> Any:
    """Launch cost a step exposes when launches are asynchronous: the host enqueues the next
    kernel while the device runs the current one, so a launch costs time only where it takes
    longer than the kernel it follows (short kernels, small batches: overhead-bound). The
    device itself spends ``node`` on each kernel beyond its work (dispatching its blocks and
    draining the last wave), which no asynchrony hides (``None``: not counted). Measured on
    null kernels (ocannl #488): a CUDA graph replays ~0.58 us a node (``launch`` = ``node``),
    and asynchronous enqueues of ~2.7 us each set the pace of a chain (2.6-2.8 us a launch).

    Sources: Paszke et al. 2019 (PyTorch), §5; ahrefs/ocannl issue #488.
    """
    where = "exposed_launch_overhead"
    t = positive(si(kernel, "time", "kernel"), "kernel", where, strict=False)
    t_l = positive(si(launch, "time", "launch"), "launch", where, strict=False)
    t_n = 0.0 if node is None else positive(si(node, "time", "node"), "node", where, strict=False)
    T = exposed_overhead_s(t, t_l, t_n)
    return from_si(T, "s")


def graph_launch_overhead_s(nodes: float, per_node: float, per_replay: float) -> float:
    """Float fast path of :func:`graph_launch_overhead`: ``t_replay + n·t_node``."""
    T = per_replay + nodes * per_node
    return T


@formula(
    symbol=r"T_{\mathrm{graph}} = t_{\mathrm{replay}} + n_{\mathrm{nodes}}\,t_{\mathrm{node}}",
    substituted=r"{{per_replay}} + {{nodes}} \cdot {{per_node}}",
    sources=("solver_ocannl_cuda_graphs",),
    citation="CUDA graph replay vs. individual launches, measured (ahrefs/ocannl #488)",
    result="time",
)
def graph_launch_overhead(nodes: Any, per_node: Any, per_replay: Any) -> Any:
    """Launch cost of a step captured as a CUDA graph: one replay (host call and graph
    launch) plus a small device-side cost per kernel node, instead of one host launch per
    kernel. Measured: ~15 µs per replay and ~0.58 µs per node (ahrefs/ocannl issue #488).
    """
    where = "graph_launch_overhead"
    n = count(nodes, "nodes", where, minimum=0)
    t_n = positive(si(per_node, "time", "per_node"), "per_node", where, strict=False)
    t_r = positive(si(per_replay, "time", "per_replay"), "per_replay", where, strict=False)
    T = graph_launch_overhead_s(n, t_n, t_r)
    return from_si(T, "s")
