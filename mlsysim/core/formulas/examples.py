"""One runnable napkin example per public formula: what ``mlsysim formulas NAME`` shows.

Each example is a napkin expression (the language of ``{napkin}`…``` roles) that calls the
formula with representative arguments, registry entries where the formula reads one. The
reference (``mlsysim formulas``, the generated pages, formula cards) evaluates it, and
``tests/test_formula_reference.py`` runs every one: a formula added to
:data:`~mlsysim.core.formulas.FORMULAS` needs its line here.
"""

from __future__ import annotations

__all__ = ["EXAMPLES"]

#: formula name -> a napkin expression calling it
EXAMPLES: dict[str, str] = {
    # collectives
    "send_recv": "send_recv(size=1 GB, bandwidth=NVLink4.bandwidth_per_direction, latency=2 us)",
    "broadcast": "broadcast(size=1 GB, n=8, bandwidth=450 GB/s, latency=2 us)",
    "in_network_allreduce": "in_network_allreduce(size=1 GB, n=8, bandwidth=450 GB/s)",
    "hierarchical_all_to_all": (
        "hierarchical_all_to_all(size=1 GB, n=64, per_node=8, intra_bandwidth=450 GB/s, "
        "inter_bandwidth=50 GB/s)"
    ),
    "bus_bandwidth": 'bus_bandwidth(size=1 GB, time=3.9 ms, n=8, op="all_reduce")',
    "ring_allreduce": "ring_allreduce(size=1 GB, n=8, bandwidth=450 GB/s, latency=2 us)",
    "tree_allreduce": "tree_allreduce(size=1 GB, n=8, bandwidth=450 GB/s, latency=2 us)",
    "double_binary_tree_allreduce": (
        "double_binary_tree_allreduce(size=1 GB, n=64, bandwidth=50 GB/s, latency=5 us)"
    ),
    "hierarchical_allreduce": (
        "hierarchical_allreduce(size=1 GB, nodes=8, gpus_per_node=8, intra_bandwidth=450 GB/s, "
        "inter_bandwidth=50 GB/s)"
    ),
    "all_gather": "all_gather(size=1 GB, n=8, bandwidth=450 GB/s)",
    "reduce_scatter": "reduce_scatter(size=1 GB, n=8, bandwidth=450 GB/s)",
    "all_to_all": "all_to_all(size=1 GB, n=8, bandwidth=450 GB/s)",
    "allreduce_bus_bandwidth": "allreduce_bus_bandwidth(size=1 GB, time=3.9 ms, n=8)",
    "pipeline_bubble": "pipeline_bubble(stages=8, microbatches=64, interleave=3)",
    "overlap_compute_loss": "overlap_compute_loss(overlap=10 ms, comm_units=16, units=108)",
    # compression
    "quantized_weights_bytes": 'quantized_weights_bytes(params=Llama2_7B.params, precision="int4")',
    "quantization_speedup": 'quantization_speedup(from_precision="fp16", to_precision="int4")',
    "sparse_weight_bytes": (
        'sparse_weight_bytes(params=Llama2_7B.params, precision="fp16", density=0.5, pattern="2:4")'
    ),
    "sparse_speedup_bound": 'sparse_speedup_bound(precision="fp16", density=0.5, pattern="2:4")',
    "sparse_math_speedup": 'sparse_math_speedup(density=0.5, pattern="2:4")',
    "moe_flops": "moe_flops(active_params=12.9e9, tokens=1000, training=False)",
    "weight_streaming_time": "weight_streaming_time(size=140 GB, bandwidth=64 GB/s, latency=10 us)",
    "quantization_sqnr": "quantization_sqnr(bits=8)",
    "quantized_bits_per_weight": 'quantized_bits_per_weight(precision="int4", group_size=128)',
    "expected_experts": "expected_experts(experts=8, active=2, tokens=4)",
    "expert_load": "expert_load(tokens=4096, experts=8, active=2, imbalance=1.25)",
    "expected_expert_tiles": "expected_expert_tiles(experts=8, active=2, tokens=4096, tile=128)",
    # data
    "ingestion_throughput": "ingestion_throughput(bandwidth=2 GB/s, sample_size=110 kB/sample)",
    "preprocessing_throughput": "preprocessing_throughput(workers=16, sample_time=4 ms/sample)",
    "amat": "amat(hit_time=1 ns, miss_rate=0.05, miss_penalty=100 ns)",
    "data_movement_energy": "data_movement_energy(size=13.5 GB, energy_per_byte=160 pJ/B)",
    # economics
    "amortized_capex": "amortized_capex(price=30000 USD, lifetime=4 yr, duration=30 day)",
    "energy_cost": "energy_cost(energy=433 MWh, price=0.08 USD/kWh)",
    "opex": (
        "opex(energy=6 MWh, energy_price=0.08 USD/kWh, price=30000 USD, "
        "maintenance_rate=0.05 / yr, duration=1 yr)"
    ),
    "cloud_cost": "cloud_cost(rate=2.5 USD/h, duration=30 day, n=8)",
    "egress_cost": "egress_cost(size=10 TB, price=0.09 USD/GB)",
    "convert_currency": "convert_currency(amount=0.089 EUR/kWh, rate=1.0813 USD/EUR)",
    "tco": (
        "tco(price=30000 USD, power=H100.tdp, energy_price=0.08 USD/kWh, lifetime=4 yr, "
        "pue=1.2, maintenance_rate=0.05 / yr)"
    ),
    "rent_vs_own_crossover": (
        "rent_vs_own_crossover(price=30000 USD, rental_rate=2.5 USD/h, own_rate=0.1 USD/h)"
    ),
    # memory
    "weights_bytes": 'weights_bytes(Llama2_7B, "bf16")',
    "kv_cache_bytes": "kv_cache_bytes(Llama2_7B, context=4096, batch=8)",
    "training_memory": 'training_memory(params=7e9, optimizer="adam", zero_stage=3, dp=64)',
    "activation_bytes_per_layer": (
        "activation_bytes_per_layer(seq_len=2048, batch=1, hidden=12288, heads=96, tp=8, sp=True)"
    ),
    "activation_bytes": "activation_bytes(GPT3_175B, seq_len=2048, tp=8, sp=True)",
    # parallelism
    "pipeline_time": (
        "pipeline_time(microbatch_time=200 ms, stages=8, microbatches=64, interleave=3)"
    ),
    "pipeline_inflight": 'pipeline_inflight(stages=8, microbatches=64, schedule="1f1b")',
    "layer_chunks": "layer_chunks(layers=Llama3_405B.layers, stages=16)",
    # performance
    "ridge_point": 'ridge_point(H100, "bf16")',
    "arithmetic_intensity": "arithmetic_intensity(flops=2 GFLOP, bytes=1 GB)",
    "attainable_flops": 'attainable_flops(intensity=100 FLOP/B, hw=H100, precision="bf16")',
    "roofline_time": 'roofline_time(flops=1 TFLOP, bytes=1 GB, hw=H100, precision="bf16")',
    "amdahl": "amdahl(p=0.95, speedup=247)",
    "gustafson": "gustafson(p=0.99, n=1024)",
    "little": "little(arrival_rate=100 req/s, latency=50 ms)",
    "flop_params": "flop_params(params=1.754e9, vocab=131072, hidden=2048, lookup_rows=4096)",
    "model_flops": "model_flops(forward_flops=ResNet50.flops_per_inference, training=True)",
    "model_flops_per_token": (
        "model_flops_per_token(params=540.35e9, layers=118, heads=48, head_dim=256, seq_len=2048)"
    ),
    "hardware_flops_per_token": (
        "hardware_flops_per_token(params=540.35e9, layers=118, heads=48, head_dim=256, "
        'seq_len=2048, recompute="full")'
    ),
    "transformer_flops_per_token": (
        "transformer_flops_per_token(params=540e9, layers=118, heads=48, head_dim=256, "
        'seq_len=2048, recompute="none")'
    ),
    "mfu": (
        "mfu(throughput=238.3e3 token/s, flops_per_token=3.28 TFLOP/token, peak=1689.6 PFLOP/s)"
    ),
    "hfu": (
        "hfu(throughput=238.3e3 token/s, hardware_flops_per_token=4.37 TFLOP/token, "
        "peak=1689.6 PFLOP/s)"
    ),
    "device_utilization": (
        "device_utilization(flops=50 GFLOP, bytes=13.5 GB, time=10 ms, "
        'peak=A100.peak_flops("bf16"), bandwidth=A100.memory.bandwidth)'
    ),
    "launch_overhead": "launch_overhead(ops=300, per_op=5 us)",
    "exposed_launch_overhead": "exposed_launch_overhead(kernel=3 us, launch=5 us)",
    "graph_launch_overhead": "graph_launch_overhead(nodes=300, per_node=0.58 us, per_replay=15 us)",
    "wave_efficiency": "wave_efficiency(tiles=109, units=108)",
    "gemm_wave_efficiency": "gemm_wave_efficiency(m=49, n=512, k=4608, units=108)",
    "padded_wave_efficiency": "padded_wave_efficiency(work=1.008, tiles=2, units=108)",
    # queueing
    "mm1_wait": "mm1_wait(arrival_rate=80 req/s, service_rate=100 req/s)",
    "mm1_latency": "mm1_latency(arrival_rate=80 req/s, service_rate=100 req/s)",
    "mm1_latency_percentile": (
        "mm1_latency_percentile(arrival_rate=80 req/s, service_rate=100 req/s, q=0.99)"
    ),
    "erlang_c": "erlang_c(arrival_rate=350 req/s, service_rate=100 req/s, servers=4)",
    "mmc_wait": "mmc_wait(arrival_rate=350 req/s, service_rate=100 req/s, servers=4)",
    "mmc_wait_percentile": (
        "mmc_wait_percentile(arrival_rate=350 req/s, service_rate=100 req/s, servers=4, q=0.99)"
    ),
    "md1_wait": "md1_wait(arrival_rate=80 req/s, service_time=10 ms)",
    "md1_wait_percentile": "md1_wait_percentile(arrival_rate=80 req/s, service_time=10 ms, q=0.99)",
    # serving
    "paged_kv_sequences": (
        "paged_kv_sequences(memory=40 GB, bytes_per_token=524 kB, tokens=2048, block_size=16)"
    ),
    "kv_fragmentation": "kv_fragmentation(tokens=500, block_size=16)",
    "speculative_tokens": "speculative_tokens(acceptance=0.8, draft_tokens=5)",
    "speculative_speedup": "speculative_speedup(acceptance=0.8, draft_tokens=5, cost_ratio=0.05)",
    "offloaded_step_time": (
        "offloaded_step_time(device_time=30 ms, stream_time=2.2 s, overlap=True)"
    ),
    "batching_throughput": "batching_throughput(batch=32, step_time=40 ms)",
    "batch_fill_time": "batch_fill_time(batch=32, arrival_rate=200 req/s)",
    "utilization": "utilization(arrival_rate=350 req/s, service_rate=100 req/s, servers=4)",
    "fanout_tail": "fanout_tail(p=0.01, n=100)",
    # reliability
    "series_mtbf": "series_mtbf(component_mtbf=5 yr, n=10000)",
    "failure_rate": "failure_rate(failures=148, units=16384, duration=54 day)",
    "job_mtbf": "job_mtbf(failure_rate=0.0065 / day, n=2048)",
    "expected_failures": "expected_failures(duration=54 day, mtbf=3 h)",
    "young_daly": "young_daly(checkpoint_time=5 min, mtbf=24 h)",
    "daly": "daly(checkpoint_time=5 min, mtbf=24 h)",
    "checkpoint_goodput": (
        "checkpoint_goodput(interval=2 h, checkpoint_time=5 min, mtbf=24 h, restart_time=10 min)"
    ),
    "checkpoint_time": "checkpoint_time(size=2.1 TB, bandwidth=10 GB/s)",
    "availability": "availability(mtbf=1000 h, mttr=10 h)",
    # safety
    "dpsgd_noise_std": "dpsgd_noise_std(noise_multiplier=1.1, clip_norm=1.0, batch=4096)",
    "per_example_gradient_bytes": (
        'per_example_gradient_bytes(params=125e6, batch=64, precision="fp32")'
    ),
    # scaling
    "training_flops": "training_flops(params=GPT3_175B.params, tokens=300e9 token)",
    "inference_flops": "inference_flops(params=Llama2_7B.params, tokens=512 token)",
    "chinchilla_optimal": "chinchilla_optimal(compute=5.76e23 FLOP, tokens_per_param=20)",
    "chinchilla_loss": "chinchilla_loss(params=70e9, tokens=1.4e12)",
    "kaplan_loss": "kaplan_loss(params=1.5e9, tokens=300e9)",
    "reasoning_flops": (
        "reasoning_flops(params=70e9, prompt_tokens=1000, generated_tokens=8000, samples=4)"
    ),
    "best_of_n": "best_of_n(p=0.2, samples=10)",
    "training_time": (
        'training_time(flops=3.14e23 FLOP, devices=1024, peak=A100.peak_flops("bf16"), mfu=0.4)'
    ),
    # sensitivity
    "elasticity": "elasticity(y0=10 ms, y1=9.1 ms, x0=1 TB/s, x1=1.1 TB/s)",
    # sustainability
    "facility_energy": "facility_energy(it_energy=433 MWh, pue=1.2)",
    "device_power": "device_power(tdp=H100.tdp, utilization=0.6)",
    "operational_carbon": "operational_carbon(energy=433 MWh, intensity=Quebec.carbon_intensity)",
    "embodied_carbon": "embodied_carbon(embodied=150 kgCO2e, lifetime=6 yr, duration=118 day)",
    "it_energy": "it_energy(power=H100.tdp, duration=14.8 day, n=10000)",
    "water_usage": (
        "water_usage(it_energy=1 GWh, wue=0.55 L/kWh, pue=1.2, grid_water_intensity=3.1 L/kWh)"
    ),
    "duty_cycle_power": "duty_cycle_power(active_power=0.9 mW, idle_power=1.17 uW, duty=1e-5)",
}
