// This machine's single-precision FMA peak, measured rather than taken from a data sheet, so that
// GEMM figures can be reported as a fraction of what the cores can actually do here (turbo, the
// hypervisor and the AVX-512 frequency licence all move it).
//
// Each thread runs a loop of fused multiply-adds into independent accumulators kept in registers:
// enough of them to cover the FMA latency on every FMA port (4 cycles × 2 ports needs 8; 12 leaves
// margin), so that only the FMA throughput limits the loop. Header-only: the harness includes it
// without a build change. Functions carry their ISA as target attributes, so the widest kernel the
// CPU has runs even in a build without -march=native.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define INFERD_FMA_PEAK_X86 1
#endif

namespace inferd {
namespace fma_peak_detail {

// Every kernel returns a value derived from all accumulators so that none of the work is dead.
// acc = acc·m + a with m just below 1 converges to a/(1−m) and never overflows or goes subnormal.
#if INFERD_FMA_PEAK_X86
// Named variables rather than an array: an array indexed in a loop may be left in memory, and
// then the loop measures stores, not FMAs.
#define INFERD_FMA_PEAK_BODY(fma, v)                                                                    \
  a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);                   \
  a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);                   \
  a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c);               \
  __asm__ volatile("" : "+" v(a0), "+" v(a1), "+" v(a2), "+" v(a3), "+" v(a4), "+" v(a5));          \
  __asm__ volatile("" : "+" v(a6), "+" v(a7), "+" v(a8), "+" v(a9), "+" v(a10), "+" v(a11));

// 12 accumulators: 4-cycle FMA latency × 2 FMA ports needs 8 in flight; 12 leaves margin and
// still fits AVX2's 16 registers with the two constants.
constexpr int kAccumulators = 12;

__attribute__((target("avx512f"))) inline float loop_avx512(int64_t iterations) {
  __m512 a0 = _mm512_set1_ps(0.f), a1 = _mm512_set1_ps(1.f), a2 = _mm512_set1_ps(2.f), a3 = _mm512_set1_ps(3.f);
  __m512 a4 = _mm512_set1_ps(4.f), a5 = _mm512_set1_ps(5.f), a6 = _mm512_set1_ps(6.f), a7 = _mm512_set1_ps(7.f);
  __m512 a8 = _mm512_set1_ps(8.f), a9 = _mm512_set1_ps(9.f), a10 = _mm512_set1_ps(10.f), a11 = _mm512_set1_ps(11.f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  for (int64_t n = 0; n < iterations; ++n) {
    INFERD_FMA_PEAK_BODY(_mm512_fmadd_ps, "v")
  }
  const __m512 sum = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                    _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7))),
      _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}

__attribute__((target("avx2,fma"))) inline float loop_avx2(int64_t iterations) {
  __m256 a0 = _mm256_set1_ps(0.f), a1 = _mm256_set1_ps(1.f), a2 = _mm256_set1_ps(2.f), a3 = _mm256_set1_ps(3.f);
  __m256 a4 = _mm256_set1_ps(4.f), a5 = _mm256_set1_ps(5.f), a6 = _mm256_set1_ps(6.f), a7 = _mm256_set1_ps(7.f);
  __m256 a8 = _mm256_set1_ps(8.f), a9 = _mm256_set1_ps(9.f), a10 = _mm256_set1_ps(10.f), a11 = _mm256_set1_ps(11.f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  for (int64_t n = 0; n < iterations; ++n) {
    INFERD_FMA_PEAK_BODY(_mm256_fmadd_ps, "x")
  }
  const __m256 sum = _mm256_add_ps(
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                    _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7))),
      _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}
#undef INFERD_FMA_PEAK_BODY
#else
constexpr int kAccumulators = 12;
#endif

// Plain code: whatever the compiler makes of it for the build's baseline ISA.
inline float loop_portable(int64_t iterations) {
  float acc[kAccumulators][8];
  for (int i = 0; i < kAccumulators; ++i)
    for (int l = 0; l < 8; ++l) acc[i][l] = static_cast<float>(i);
  for (int64_t n = 0; n < iterations; ++n) {
    for (int i = 0; i < kAccumulators; ++i)
      for (int l = 0; l < 8; ++l) acc[i][l] = acc[i][l] * 0.999999f + 1e-6f;
    __asm__ volatile("" : : "r"(&acc[0][0]) : "memory");
  }
  float total = 0;
  for (int i = 0; i < kAccumulators; ++i)
    for (int l = 0; l < 8; ++l) total += acc[i][l];
  return total;
}

enum class Isa { avx512, avx2, portable };

inline Isa best_isa() {
#if INFERD_FMA_PEAK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::portable;
}

// Floating-point operations one iteration of the ISA's loop performs (an FMA is two).
inline double flops_per_iteration(Isa isa) {
  switch (isa) {
    case Isa::avx512: return 2.0 * kAccumulators * 16;
    case Isa::avx2: return 2.0 * kAccumulators * 8;
    default: return 2.0 * kAccumulators * 8;
  }
}

inline float run_loop(Isa isa, int64_t iterations) {
#if INFERD_FMA_PEAK_X86
  if (isa == Isa::avx512) return loop_avx512(iterations);
  if (isa == Isa::avx2) return loop_avx2(iterations);
#endif
  return loop_portable(iterations);
}

// Seconds for `threads` threads each to run `iterations` iterations, started together.
inline double timed_run(Isa isa, int threads, int64_t iterations) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<float> sinks(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      sinks[static_cast<size_t>(t)] = run_loop(isa, iterations);
    });
  while (ready.load() != threads - 1) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  sinks[0] = run_loop(isa, iterations);
  for (std::thread& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  volatile float sink = 0;
  for (float s : sinks) sink = sink + s;
  (void)sink;
  return seconds;
}

}  // namespace fma_peak_detail

// The ISA the peak loop uses on this CPU: "avx512", "avx2" or "portable".
inline const char* fma_peak_isa() {
  switch (fma_peak_detail::best_isa()) {
    case fma_peak_detail::Isa::avx512: return "avx512";
    case fma_peak_detail::Isa::avx2: return "avx2";
    default: return "portable";
  }
}

// Total GFLOP/s of `threads` threads (each its own FMA loop), the best of a few ~0.1 s runs: the
// peak is a maximum, so the best run is the least disturbed one.
inline double measure_fma_peak_gflops(int threads) {
  using namespace fma_peak_detail;
  threads = std::max(threads, 1);
  const Isa isa = best_isa();
  // Calibrate the iteration count to ~0.1 s on one thread.
  int64_t iterations = 1 << 16;
  for (;;) {
    const double s = timed_run(isa, 1, iterations);
    if (s > 0.02) {
      iterations = static_cast<int64_t>(static_cast<double>(iterations) * 0.1 / s) + 1;
      break;
    }
    iterations *= 4;
  }
  double best = 0;
  for (int run = 0; run < 3; ++run) {
    const double s = timed_run(isa, threads, iterations);
    best = std::max(best, flops_per_iteration(isa) * static_cast<double>(iterations) * threads / s / 1e9);
  }
  return best;
}

}  // namespace inferd
