#!/usr/bin/env bash
# A short tour of the mlsysim command line (run by scripts/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
M=".venv/bin/mlsysim"
run() { echo "\$ mlsysim $*"; "$M" "$@"; echo; }
run eval 'H100.memory.bandwidth'
run eval 'ridge_point(H100, "bf16")'
run eval 'Llama2_7B.params * 2 B/param / A100.memory.bandwidth -> ms'
run eval --json 'amdahl(p=0.95, speedup=247)'
run solve Llama2_7B A100 --phase decode --seq-len 512
run solve GPT3_175B SuperPOD_A100 --phase training --devices 64 --tp 8 --pp 8 --chunks 3 \
  --sp --batch 64 --seq-len 2048
run collective all_reduce 1GB DGX_H100
run run Llama3_405B Meta_H100_24K_RoCE --devices 16384 --duration "54 day" --region USAverage
run generate Llama2_7B A100 --prompt 512 --output 256 --batch 32
run serve Llama2_70B DGX_H100 --tp 2 --precision fp8 --prompt 512 --output 256 --rate "40 req/s" \
  --slo-ttft "2 s" --slo-tpot "200 ms"
run fleet Llama2_7B H100 --qps 20 --slo "50 ms" --duration "30 day" --region Finland
run sim Doorbell TinyPioneer --region Quebec --days 365
run optimize parallelism GPT_530B DGX_A100 --devices 2520 --batch 2520 --seq-len 2048 --top 3
run optimize placement Llama3_8B DGX_H100 DGX_A100 --regions Quebec Poland Virginia \
  --tokens 1e11 --devices 64 --batch 256 --seq-len 4096 --objective operational_carbon
run walls
run check book_fixtures/sphinx
echo "\$ mlsysim check book_fixtures/sphinx-broken   # expected to fail"
if "$M" check book_fixtures/sphinx-broken; then
  echo "error: the broken book passed" >&2; exit 1
fi
