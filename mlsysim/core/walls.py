"""The 22 walls of ML systems: the limits a workload can hit, as data.

Each wall is a :class:`Wall` (``mlsysim.core.wall_record``): the question it answers, the
formulas that evaluate it, the literature it rests on and the ids of the solvers that decide
whether it binds (empty when the wall is *formula-only*). The ground never imports a solver:
walls name solvers by id, and ``tests/test_walls.py`` checks that every id exists and that the
solver lists the wall among its ``walls``, and the other way round.

>>> wall("memory_bandwidth").formulas[0]
'roofline_time'
>>> wall("memory_bandwidth").solver
'single_node'
>>> wall("data_ingestion").formula_only
True
"""

from __future__ import annotations

from mlsysim.core.exceptions import UnknownNameError
from mlsysim.core.wall_record import Wall

__all__ = ["WALLS", "Wall", "wall", "wall_ids"]


def _w(
    number: int,
    id: str,
    name: str,
    layer: str,
    question: str,
    formulas: tuple[str, ...],
    sources: tuple[str, ...],
    solvers: tuple[str, ...] = (),
) -> Wall:
    return Wall(id, number, name, layer, question, formulas, sources, solvers)


#: Solver ids (their classes' ``name``): the single-node and distributed solvers, training
#: runs, serving fleets, generation (one batch, prompt to last token) and serving (continuous
#: batching at a request rate).
_DEVICE_WALL = ("single_node", "distributed")
_DISTRIBUTED = ("distributed",)
_RUN = ("training_run",)
_RUN_AND_FLEET = ("training_run", "serving_fleet")
_SERVING = ("serving", "serving_fleet")
_GENERATE_AND_SERVE = ("generate", "serving")


#: The taxonomy, in the order of DESIGN.md §3.
WALLS: tuple[Wall, ...] = (
    _w(
        1,
        "compute",
        "Compute",
        "hardware",
        "Is the work limited by the peak arithmetic rate of the device?",
        (
            "roofline_time",
            "ridge_point",
            "attainable_flops",
            "mfu",
            "hfu",
            "model_flops",
            "flop_params",
            "model_flops_per_token",
            "hardware_flops_per_token",
            "transformer_flops_per_token",
            "wave_efficiency",
            "padded_wave_efficiency",
            "gemm_wave_efficiency",
        ),
        ("williams2009", "chowdhery2022", "solver_nvidia2023_matmul_guide"),
        _DEVICE_WALL,
    ),
    _w(
        2,
        "memory_bandwidth",
        "Memory bandwidth",
        "hardware",
        "Is the work limited by how fast bytes move between memory and compute?",
        ("roofline_time", "arithmetic_intensity", "ridge_point", "attainable_flops"),
        ("williams2009",),
        _DEVICE_WALL,
    ),
    _w(
        3,
        "memory_capacity",
        "Memory capacity",
        "hardware",
        "Do weights, KV cache, activations and optimizer state fit in device memory?",
        (
            "weights_bytes",
            "kv_cache_bytes",
            "training_memory",
            "activation_bytes",
            "activation_bytes_per_layer",
            "pipeline_inflight",
        ),
        ("korthikanti2022", "rajbhandari2020", "pope2022"),
        _DEVICE_WALL,
    ),
    _w(
        4,
        "software_overhead",
        "Software overhead",
        "execution",
        "Does host-side dispatch, launch and framework overhead dominate device time?",
        ("launch_overhead", "exposed_launch_overhead", "graph_launch_overhead", "amdahl"),
        ("paszke2019", "amdahl1967", "solver_ocannl_cuda_graphs"),
        _DEVICE_WALL,
    ),
    _w(
        5,
        "serving",
        "Serving",
        "systems",
        "At a given request rate, what latency do users see and how many servers are needed?",
        (
            "mm1_latency",
            "mm1_wait",
            "mmc_wait",
            "erlang_c",
            "md1_wait",
            "little",
            "speculative_tokens",
            "speculative_speedup",
        ),
        ("kleinrock1975", "erlang1917", "little1961", "yu2022orca", "leviathan2023"),
        _SERVING,
    ),
    _w(
        6,
        "batching",
        "Batching",
        "execution",
        "How much throughput does batching buy, and what does waiting for a batch cost?",
        (
            "batching_throughput",
            "batch_fill_time",
            "kv_cache_bytes",
            "paged_kv_sequences",
            "kv_fragmentation",
        ),
        ("crankshaw2017", "pope2022", "kwon2023vllm", "agrawal2024sarathi"),
        _GENERATE_AND_SERVE,
    ),
    _w(
        7,
        "weight_streaming",
        "Weight streaming",
        "execution",
        "When weights live off-device, is each step bound by streaming them in?",
        ("weight_streaming_time", "offloaded_step_time", "weights_bytes"),
        ("sheng2023",),
        _GENERATE_AND_SERVE,
    ),
    _w(
        8,
        "tail_latency",
        "Tail latency",
        "systems",
        "What latency do the slowest requests see, and how does fan-out amplify the tail?",
        ("mm1_latency_percentile", "mmc_wait_percentile", "md1_wait_percentile", "fanout_tail"),
        ("dean2013", "kleinrock1975", "crommelin1932", "tijms2003"),
        ("serving",),
    ),
    _w(
        9,
        "data_ingestion",
        "Data ingestion",
        "systems",
        "Can storage deliver samples as fast as the accelerators consume them?",
        ("ingestion_throughput",),
        ("mohan2021datastalls",),
    ),
    _w(
        10,
        "preprocessing",
        "Preprocessing",
        "systems",
        "Can CPU decoding and augmentation keep up with the accelerators?",
        ("preprocessing_throughput",),
        ("mohan2021datastalls",),
    ),
    _w(
        11,
        "locality",
        "Locality",
        "hardware",
        "Which level of the memory hierarchy serves each byte, and at what time and energy?",
        ("amat", "data_movement_energy"),
        ("hennessy2017", "horowitz2014"),
    ),
    _w(
        12,
        "scaling_laws",
        "Scaling-law complexity",
        "workload",
        "How much compute, data and model size does a target quality require?",
        ("training_flops", "chinchilla_optimal", "chinchilla_loss", "kaplan_loss", "training_time"),
        ("kaplan2020", "hoffmann2022", "brown2020"),
    ),
    _w(
        13,
        "reasoning",
        "Reasoning (inference-time compute)",
        "workload",
        "How much compute does thinking longer or sampling more cost, and what does it buy?",
        ("reasoning_flops", "best_of_n", "inference_flops"),
        ("snell2024", "brown2024", "kaplan2020"),
        ("generate",),
    ),
    _w(
        14,
        "fidelity",
        "Fidelity (compression)",
        "execution",
        "How much speed and memory does compression buy, and at what loss of fidelity?",
        (
            "quantization_speedup",
            "quantization_sqnr",
            "quantized_weights_bytes",
            "quantized_bits_per_weight",
            "sparse_speedup_bound",
            "sparse_math_speedup",
            "sparse_weight_bytes",
            "moe_flops",
            "expected_experts",
            "expected_expert_tiles",
            "expert_load",
        ),
        ("jacob2018", "frantar2023", "mishra2021", "bennett1948", "fedus2022"),
    ),
    _w(
        15,
        "communication",
        "Communication",
        "systems",
        "How long do collectives and pipeline bubbles take at this scale?",
        (
            "ring_allreduce",
            "tree_allreduce",
            "double_binary_tree_allreduce",
            "hierarchical_allreduce",
            "all_gather",
            "reduce_scatter",
            "all_to_all",
            "allreduce_bus_bandwidth",
            "bus_bandwidth",
            "send_recv",
            "broadcast",
            "in_network_allreduce",
            "hierarchical_all_to_all",
            "overlap_compute_loss",
            "pipeline_bubble",
            "pipeline_time",
            "layer_chunks",
            "gustafson",
        ),
        (
            "thakur2005",
            "patarasuk2009",
            "sanders2009",
            "jia2018",
            "hockney1994",
            "klenk2020",
            "graham2016",
            "huang2019",
            "narayanan2021",
            "dubey2024llama3",
            "jeaugey2023_nccl_sms",
            "gustafson1988",
        ),
        _DISTRIBUTED,
    ),
    _w(
        16,
        "fragility",
        "Fragility (MTBF)",
        "systems",
        "How often does a job of N components fail, and how much progress does that cost?",
        (
            "series_mtbf",
            "job_mtbf",
            "failure_rate",
            "expected_failures",
            "checkpoint_goodput",
            "availability",
        ),
        ("oconnor2012", "young1974", "daly2006", "dubey2024llama3", "kokolis2024reliability"),
        _RUN,
    ),
    _w(
        17,
        "multi_tenancy",
        "Multi-tenancy",
        "systems",
        "When tenants share devices, how do utilization and queueing delay grow?",
        ("utilization", "erlang_c", "mmc_wait"),
        ("kleinrock1975", "erlang1917"),
        ("serving",),
    ),
    _w(
        18,
        "capital",
        "Capital",
        "infra",
        "What does the system cost to buy, run or rent, and when does owning pay off?",
        (
            "tco",
            "amortized_capex",
            "opex",
            "cloud_cost",
            "egress_cost",
            "rent_vs_own_crossover",
            "energy_cost",
            "convert_currency",
        ),
        ("barroso2018", "armbrust2010", "ecb_reference_rates"),
        _RUN_AND_FLEET,
    ),
    _w(
        19,
        "sustainability",
        "Sustainability",
        "infra",
        "How much energy, carbon and water does the workload consume?",
        (
            "operational_carbon",
            "facility_energy",
            "device_power",
            "device_utilization",
            "it_energy",
            "embodied_carbon",
            "water_usage",
            "duty_cycle_power",
        ),
        (
            "luccioni2023",
            "patterson2021",
            "thegreengrid2012",
            "gupta2021",
            "li2023water",
            "atmel_picopower",
        ),
        _RUN_AND_FLEET,
    ),
    _w(
        20,
        "checkpoint",
        "Checkpoint",
        "execution",
        "How often should the job checkpoint, and what does each checkpoint cost?",
        ("young_daly", "daly", "checkpoint_time", "checkpoint_goodput"),
        ("young1974", "daly2006", "mohan2021checkfreq"),
        _RUN,
    ),
    _w(
        21,
        "safety",
        "Safety (e.g. DP-SGD)",
        "execution",
        "What do privacy and safety mechanisms cost in memory, compute and accuracy?",
        ("per_example_gradient_bytes", "dpsgd_noise_std"),
        ("abadi2016", "yousefpour2021"),
    ),
    _w(
        22,
        "sensitivity",
        "Sensitivity / synthesis",
        "workload",
        "Which input, if improved, would move the result most?",
        ("elasticity",),
        ("saltelli2008",),
    ),
)

_BY_ID = {w.id: w for w in WALLS}


def wall_ids() -> list[str]:
    """Wall ids in taxonomy order."""
    return [w.id for w in WALLS]


def wall(id: str) -> Wall:
    """The wall with this id (``"memory_bandwidth"``); unknown ids suggest close matches."""
    key = str(id).strip().lower().replace("-", "_").replace(" ", "_")
    found = _BY_ID.get(key)
    if found is None:
        raise UnknownNameError(
            "wall", str(id), _BY_ID, fix="use one of the wall ids listed by `mlsysim walls`"
        )
    return found
