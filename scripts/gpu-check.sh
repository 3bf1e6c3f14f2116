#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine that has CUDA, CMake and Ninja but no Node.js:
#   1. builds the core, the native tests and the harness with CMake (CUDA required);
#   2. runs provider_test and cuda_ops_test: every CUDA kernel against the CPU kernel on random
#      shapes within a per-op error budget, then whole models through the CUDA executor;
#   3. times an MLP and a BERT-style encoder (written by make-bench-models) with inferd-bench
#      --provider cuda at batch 1, 32 and 256: latency, items/s, GFLOP/s and its share of the
#      GPU's nominal FP32 peak; the CPU at batch 32 as the reference.
# Usage: scripts/gpu-check.sh [build dir]   (default build-gpu)
#   CUDA_ARCH=90   architectures to compile (CMAKE_CUDA_ARCHITECTURES syntax; default 90-real;90-virtual)
#   ITERS=50       timed runs per configuration;  FULL=1 also runs every other native test (ctest)
# Exits nonzero at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
ITERS=${ITERS:-50}
JOBS=$(nproc 2>/dev/null || echo 4)

step() { printf '\n== %s\n' "$*"; }

step "machine"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not found"
nvcc --version | tail -1

step "configure + build ($BUILD)"
ARCH_FLAG=()
[[ -n "${CUDA_ARCH:-}" ]] && ARCH_FLAG=(-DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH")
start=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DINFERD_CUDA=ON -DINFERD_BUILD_BENCH=ON "${ARCH_FLAG[@]}" >/dev/null
cmake --build "$BUILD" -j"$JOBS"
echo "build took $(( $(date +%s) - start )) s"

step "provider selection"
"$BUILD"/bin/provider_test

step "CUDA kernels vs CPU kernels (cuda_ops_test)"
set +e
"$BUILD"/bin/cuda_ops_test | tee "$BUILD"/cuda_ops_test.log
status=${PIPESTATUS[0]}
set -e
if [[ $status -eq 77 ]]; then echo "cuda_ops_test skipped: no GPU visible — this script needs one"; exit 1; fi
[[ $status -eq 0 ]] || { echo "cuda_ops_test FAILED"; exit 1; }
PEAK=$(sed -n 's/.*peak_fp32_gflops=\([0-9.]*\).*/\1/p' "$BUILD"/cuda_ops_test.log | head -1)

if [[ "${FULL:-0}" == 1 ]]; then
  step "every native test (ctest)"
  ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS"
fi

step "models"
mkdir -p "$BUILD"/models
"$BUILD"/bin/make-bench-models "$BUILD"/models

bench() {  # model provider batch
  local json="$BUILD/models/$1-$2-$3.json"
  "$BUILD"/bin/inferd-bench "$BUILD/models/$1.onnx" --provider "$2" --batch "$3" --iters "$ITERS" --warmup 5 --json "$json" >/dev/null
  python_free_summary "$1" "$2" "$3" "$json"
}
# One line per run, read from the harness's JSON with sed (the machine may have no Python either).
python_free_summary() {
  local j; j=$(cat "$4")
  field() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p" <<<"$j"; }
  local p50 p99 ips gf share="n/a"
  p50=$(field p50_us); p99=$(field p99_us); ips=$(field items_per_s); gf=$(field gflops)
  if [[ -n "$PEAK" && "$2" == cuda ]]; then share=$(awk -v g="$gf" -v p="$PEAK" 'BEGIN { printf "%.1f%%", 100 * g / p }'); fi
  printf '%-5s %-4s batch %-4s p50 %10.1f us  p99 %10.1f us  %12.1f items/s  %9.1f GFLOP/s  (%s of FP32 peak %s)\n' \
    "$1" "$2" "$3" "$p50" "$p99" "$ips" "$gf" "$share" "${PEAK:-?} GFLOP/s"
}

step "inferd-bench --provider cuda"
for model in mlp bert; do
  for batch in 1 32 256; do bench "$model" cuda "$batch"; done
done
step "CPU reference (batch 32)"
for model in mlp bert; do bench "$model" cpu 32; done
echo
echo "gpu-check: all steps passed"
