// The SGEMM sweep of the harness: GFLOP/s of sgemm over a list of shapes at a thread count, and
// each as a fraction of the measured FMA peak (fma_peak.h) at that thread count. Header-only, so the
// harness includes it without a build change.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/fma_peak.h"
#include "core/thread_pool.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {

struct SgemmShape {
  int64_t M, N, K;  // C[M×N] = A[M×K] · B[K×N]
};

struct SgemmSweepResult {
  SgemmShape shape;
  int threads;
  bool prepacked;           // B packed once beforehand (PackedB), as a model's constant weights are
  double median_ms;         // median time of one sgemm call
  double gflops;            // 2·M·N·K / median time
  double peak_gflops;       // measure_fma_peak_gflops(threads) used for the fraction
  double fraction_of_peak;  // gflops / peak_gflops
};

// "MxNxK[,MxNxK...]"; a bare "N" means N×N×N. Throws std::invalid_argument naming the bad item.
inline std::vector<SgemmShape> parse_sgemm_shapes(const std::string& text) {
  std::vector<SgemmShape> shapes;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    std::vector<int64_t> dims;
    size_t pos = 0;
    while (pos < item.size()) {
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(item.substr(pos), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || v <= 0) throw std::invalid_argument("bad SGEMM shape '" + item + "' (want MxNxK or N)");
      dims.push_back(v);
      pos += used;
      if (pos < item.size()) {
        if (item[pos] != 'x' && item[pos] != 'X') throw std::invalid_argument("bad SGEMM shape '" + item + "' (want MxNxK or N)");
        ++pos;
        if (pos == item.size()) throw std::invalid_argument("bad SGEMM shape '" + item + "' (want MxNxK or N)");
      }
    }
    if (dims.size() == 1) shapes.push_back({dims[0], dims[0], dims[0]});
    else if (dims.size() == 3) shapes.push_back({dims[0], dims[1], dims[2]});
    else throw std::invalid_argument("bad SGEMM shape '" + item + "' (want MxNxK or N)");
    start = end + 1;
  }
  return shapes;
}

// The sweep: the cubes, then the inference shapes (a batch of rows through a weight).
inline std::vector<SgemmShape> default_sgemm_shapes() {
  return {{256, 256, 256},  {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048},
          {1, 768, 768},    {8, 768, 768},   {32, 3072, 768},    {128, 768, 768}};
}

// One shape at `threads` threads, repeated for at least min_seconds after a warm-up.
inline SgemmSweepResult measure_sgemm(const SgemmShape& s, int threads, bool prepacked, double peak_gflops,
                                      double min_seconds = 0.3) {
  threads = std::max(threads, 1);
  if (peak_gflops <= 0) peak_gflops = measure_fma_peak_gflops(threads);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> A(static_cast<size_t>(s.M * s.K)), B(static_cast<size_t>(s.K * s.N)),
      C(static_cast<size_t>(s.M * s.N));
  for (float& x : A) x = dist(rng);
  for (float& x : B) x = dist(rng);
  ThreadPool pool(threads);
  std::unique_ptr<PackedB> packed;
  if (prepacked) packed = std::make_unique<PackedB>(false, s.K, s.N, B.data(), s.N);
  auto once = [&] {
    if (packed) sgemm_packed(false, s.M, 1.0f, A.data(), s.K, *packed, 0.0f, C.data(), s.N, &pool);
    else sgemm(false, false, s.M, s.N, s.K, 1.0f, A.data(), s.K, B.data(), s.N, 0.0f, C.data(), s.N, &pool);
  };
  using clock = std::chrono::steady_clock;
  // Warm-up: caches, pack buffers, the pool's threads.
  const auto warm_start = clock::now();
  do once();
  while (std::chrono::duration<double>(clock::now() - warm_start).count() < std::min(0.05, min_seconds));
  std::vector<double> times;
  const auto start = clock::now();
  do {
    const auto t0 = clock::now();
    once();
    times.push_back(std::chrono::duration<double>(clock::now() - t0).count());
  } while (times.size() < 5 || std::chrono::duration<double>(clock::now() - start).count() < min_seconds);
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const double gflops = 2.0 * static_cast<double>(s.M) * static_cast<double>(s.N) * static_cast<double>(s.K) / median / 1e9;
  return {s, threads, prepacked, median * 1e3, gflops, peak_gflops, gflops / peak_gflops};
}

// Every shape at `threads`; the peak is measured once for the sweep.
inline std::vector<SgemmSweepResult> run_sgemm_sweep(const std::vector<SgemmShape>& shapes, int threads,
                                                     bool prepacked = false, double min_seconds = 0.3) {
  const double peak = measure_fma_peak_gflops(threads);
  std::vector<SgemmSweepResult> results;
  for (const SgemmShape& s : shapes) results.push_back(measure_sgemm(s, threads, prepacked, peak, min_seconds));
  return results;
}

inline void print_sgemm_sweep(const std::vector<SgemmSweepResult>& results, std::FILE* out) {
  std::fprintf(out, "sgemm micro-kernel %s (%dx%d tile); FMA peak loop %s\n", sgemm_kernel_name(), sgemm_tile_rows(),
               sgemm_tile_cols(), fma_peak_isa());
  std::fprintf(out, "%-18s %7s %6s %10s %10s %10s %8s\n", "MxNxK", "threads", "packed", "ms", "GFLOP/s", "peak",
               "of peak");
  for (const SgemmSweepResult& r : results) {
    char shape[64];
    std::snprintf(shape, sizeof shape, "%lldx%lldx%lld", static_cast<long long>(r.shape.M),
                  static_cast<long long>(r.shape.N), static_cast<long long>(r.shape.K));
    std::fprintf(out, "%-18s %7d %6s %10.3f %10.1f %10.1f %7.1f%%\n", shape, r.threads, r.prepacked ? "yes" : "no",
                 r.median_ms, r.gflops, r.peak_gflops, 100.0 * r.fraction_of_peak);
  }
}

}  // namespace inferd
