// sgemm's kernels for every ISA this CPU supports (AVX-512, AVX2+FMA, portable) against the
// double-precision triple loop: odd shapes around each register tile and cache block, transposes,
// strides, alpha/beta, prepacked B, one and two threads, and the fused epilogue (bias of every
// broadcast, residual, each activation). Also the thread pool (every index exactly once, many
// calls, more threads than cores) and that a warmed-up product allocates nothing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/kernels/cpu_features.h"
#include "cpu/kernels/sgemm.h"
#include "support/check.h"
#include "support/random.h"

// Counts heap allocations, so that the test can check a warmed-up sgemm makes none.
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace inferd;
using inferd::test::random_floats;
using inferd::test::random_int;

namespace {

std::mt19937 rng(20240607);


double activate(SgemmActivation act, double x, float alpha, float beta) {
  switch (act) {
    case SgemmActivation::none: return x;
    case SgemmActivation::relu: return x < 0 ? 0 : x;
    case SgemmActivation::leaky_relu: return x < 0 ? alpha * x : x;
    case SgemmActivation::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case SgemmActivation::tanh: return std::tanh(x);
    case SgemmActivation::gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case SgemmActivation::gelu_tanh:
      return 0.5 * x * (1.0 + std::tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case SgemmActivation::clip: return std::min<double>(std::max<double>(x, alpha), beta);
    case SgemmActivation::hard_sigmoid: return std::min(1.0, std::max(0.0, alpha * x + beta));
    case SgemmActivation::hard_swish: return x * std::min(1.0, std::max(0.0, x / 6 + 0.5));
  }
  return x;
}

// The bias term's broadcast, as the epilogue's steps for an M×N product.
enum class BiasKind { none, per_column, per_row, full, scalar };

struct Case {
  CpuIsa isa = CpuIsa::portable;
  bool ta = false, tb = false;
  int64_t M = 1, N = 1, K = 1;
  float alpha = 1, beta = 0;
  int64_t pad = 0;
  int threads = 1;  // 0: no pool
  bool prepack = false;
  bool nan_c = false;  // C starts as NaN (beta must be 0)
  BiasKind bias = BiasKind::none;
  bool residual = false;
  SgemmActivation act = SgemmActivation::none;
};

const char* act_name(SgemmActivation a) {
  static const char* names[] = {"none", "relu",      "leaky_relu", "sigmoid",     "tanh",
                                "gelu", "gelu_tanh", "clip",       "hard_sigmoid", "hard_swish"};
  return names[static_cast<int>(a)];
}

// Runs one case and compares every element of C (and that the padding past each row is untouched).
bool check(const Case& c) {
  const int64_t M = c.M, N = c.N, K = c.K;
  const int64_t lda = (c.ta ? M : K) + c.pad, ldb = (c.tb ? K : N) + c.pad, ldc = N + c.pad;
  const std::vector<float> A = random_floats(rng, static_cast<size_t>((c.ta ? K : M) * lda));
  const std::vector<float> B = random_floats(rng, static_cast<size_t>((c.tb ? N : K) * ldb));
  std::vector<float> C = random_floats(rng, static_cast<size_t>(M * ldc));
  if (c.nan_c) std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
  const std::vector<float> bias_data = random_floats(rng, static_cast<size_t>(M * N + 1));
  const std::vector<float> residual = random_floats(rng, static_cast<size_t>(M * ldc));

  SgemmEpilogue e;
  e.bias_scale = 0.75f;
  switch (c.bias) {
    case BiasKind::none: break;
    case BiasKind::per_column: e.bias = bias_data.data(); e.bias_row_step = 0; e.bias_col_step = 1; break;
    case BiasKind::per_row: e.bias = bias_data.data(); e.bias_row_step = 1; e.bias_col_step = 0; break;
    case BiasKind::full: e.bias = bias_data.data(); e.bias_row_step = N; e.bias_col_step = 1; break;
    case BiasKind::scalar: e.bias = bias_data.data(); e.bias_row_step = 0; e.bias_col_step = 0; break;
  }
  if (c.residual) {
    e.residual = residual.data();
    e.residual_ld = ldc;
  }
  e.activation = c.act;
  e.activation_alpha = c.act == SgemmActivation::clip ? -0.5f : 0.1f;
  e.activation_beta = 0.5f;

  std::vector<double> expected(static_cast<size_t>(M * ldc)), bound(static_cast<size_t>(M * ldc));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = c.ta ? A[k * lda + i] : A[i * lda + k];
        const double b = c.tb ? B[j * ldb + k] : B[k * ldb + j];
        sum += a * b;
        mag += std::fabs(a * b);
      }
      const size_t at = static_cast<size_t>(i * ldc + j);
      double x = c.alpha * sum + (c.beta == 0 ? 0.0 : c.beta * static_cast<double>(C[at]));
      mag = std::fabs(c.alpha) * mag + (c.beta == 0 ? 0.0 : std::fabs(c.beta * C[at]));
      if (e.bias) x += e.bias_scale * bias_data[static_cast<size_t>(i * e.bias_row_step + j * e.bias_col_step)];
      if (e.residual) x += residual[at];
      expected[at] = activate(c.act, x, e.activation_alpha, e.activation_beta);
      bound[at] = mag + std::fabs(x);
    }
  const std::vector<float> before = C;
  ThreadPool pool(std::max(c.threads, 1));
  ThreadPool* p = c.threads > 0 ? &pool : nullptr;
  const SgemmEpilogue* ep = e.empty() ? nullptr : &e;
  if (c.prepack) {
    const PackedB packed(c.tb, K, N, B.data(), ldb, c.isa);
    sgemm_packed(c.ta, M, c.alpha, A.data(), lda, packed, c.beta, C.data(), ldc, p, ep);
  } else {
    sgemm_isa(c.isa, c.ta, c.tb, M, N, K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc, p, ep);
  }
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      bool ok;
      if (j >= N) ok = std::isnan(before[at]) ? std::isnan(C[at]) : C[at] == before[at];
      else ok = std::fabs(C[at] - expected[at]) <= 2e-5 * bound[at] + 1e-5;
      if (!ok) {
        std::fprintf(stderr,
                     "sgemm mismatch: isa=%s transA=%d transB=%d M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%lld "
                     "threads=%d prepack=%d bias=%d residual=%d act=%s at (%lld, %lld): got %.9g want %.9g\n",
                     cpu_isa_name(c.isa), c.ta, c.tb, static_cast<long long>(M), static_cast<long long>(N),
                     static_cast<long long>(K), c.alpha, c.beta, static_cast<long long>(c.pad), c.threads, c.prepack,
                     static_cast<int>(c.bias), c.residual, act_name(c.act), static_cast<long long>(i),
                     static_cast<long long>(j), C[at], expected[at]);
        ++test::failure_count();
        return false;
      }
    }
  return true;
}

std::vector<CpuIsa> supported_isas() {
  std::vector<CpuIsa> isas;
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512})
    if (cpu_isa_supported(isa)) isas.push_back(isa);
  return isas;
}

void kernels_match_reference() {
  int cases = 0;
  for (CpuIsa isa : supported_isas()) {
    // Every row count of a small batch (each has its own micro-kernel), columns around the tile
    // widths (16, 32) and the K slice (256), every transpose pair, with and without prepacking.
    for (int64_t M : {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 25})
      for (int64_t N : {1, 5, 15, 16, 17, 31, 32, 33, 70})
        for (int64_t K : {1, 3, 17, 256, 257}) {
          Case c;
          c.isa = isa;
          c.M = M, c.N = N, c.K = K;
          c.ta = cases & 1, c.tb = cases & 2;
          c.pad = cases % 3;
          c.threads = cases % 5 == 0 ? 2 : 1;
          c.prepack = cases % 4 == 1;
          c.beta = cases % 3 == 0 ? 0.0f : 0.5f;
          c.alpha = cases % 7 == 0 ? -1.5f : 1.0f;
          if (!check(c)) return;
          ++cases;
        }
    // Random shapes with random everything, two threads included.
    for (int i = 0; i < 150; ++i) {
      Case c;
      c.isa = isa;
      c.M = random_int(rng, 1, 300), c.N = random_int(rng, 1, 300), c.K = random_int(rng, 1, 300);
      c.ta = random_int(rng, 0, 1), c.tb = random_int(rng, 0, 1);
      c.alpha = std::uniform_real_distribution<float>(-2, 2)(rng);
      c.beta = i % 4 == 0 ? 0.0f : std::uniform_real_distribution<float>(-2, 2)(rng);
      c.pad = random_int(rng, 0, 5);
      c.threads = static_cast<int>(random_int(rng, 0, 2));
      c.prepack = random_int(rng, 0, 1);
      if (!check(c)) return;
      ++cases;
    }
    // Several cache blocks in every dimension (KC slices, MC blocks, NC panels), split over threads.
    for (bool prepack : {false, true}) {
      Case c;
      c.isa = isa;
      c.prepack = prepack;
      c.threads = 2;
      c.M = 421, c.N = 4200, c.K = 530, c.tb = true, c.alpha = 0.5f, c.beta = 1.5f, c.pad = 1;
      CHECK(check(c));
      c.M = 400, c.N = 70, c.K = 1030, c.ta = true, c.tb = false, c.beta = 1.0f, c.pad = 0;
      CHECK(check(c));
      c.M = 3, c.N = 4200, c.K = 300, c.beta = 0.0f, c.nan_c = true;
      CHECK(check(c));
      c.threads = 3;  // a grid of three threads, more than this machine may have cores
      c.M = 130, c.N = 200, c.K = 100, c.nan_c = false;
      CHECK(check(c));
      cases += 4;
    }
    // beta == 0 never reads C (NaN there must not reach the result), on the blocked and GEMV paths.
    for (int t = 0; t < 4; ++t)
      for (auto [M, N] : {std::pair<int64_t, int64_t>{37, 45}, {1, 45}, {45, 1}}) {
        Case c;
        c.isa = isa, c.ta = t & 1, c.tb = t & 2, c.M = M, c.N = N, c.K = 19, c.nan_c = true, c.threads = 2;
        CHECK(check(c));
        ++cases;
      }
    // Degenerate products: K == 0 gives beta·C, alpha == 0 skips A·B (with an epilogue too).
    for (float alpha : {1.0f, 0.0f}) {
      Case c;
      c.isa = isa, c.M = 5, c.N = 6, c.K = alpha == 0 ? 9 : 0, c.alpha = alpha, c.beta = 0.5f, c.pad = 1;
      CHECK(check(c));
      c.bias = BiasKind::per_column, c.act = SgemmActivation::relu;
      CHECK(check(c));
      cases += 2;
    }
  }
  std::printf("sgemm kernels: %d cases against the reference (chosen: %s, %dx%d tile)\n", cases, sgemm_kernel_name(),
              sgemm_tile_rows(), sgemm_tile_cols());
}

void epilogues_match_reference() {
  int cases = 0;
  const SgemmActivation acts[] = {SgemmActivation::none,    SgemmActivation::relu,      SgemmActivation::leaky_relu,
                                  SgemmActivation::sigmoid, SgemmActivation::tanh,      SgemmActivation::gelu,
                                  SgemmActivation::gelu_tanh, SgemmActivation::clip, SgemmActivation::hard_sigmoid,
                                  SgemmActivation::hard_swish};
  const BiasKind biases[] = {BiasKind::none, BiasKind::per_column, BiasKind::per_row, BiasKind::full, BiasKind::scalar};
  for (CpuIsa isa : supported_isas())
    for (SgemmActivation act : acts)
      for (BiasKind bias : biases)
        for (int variant = 0; variant < 4; ++variant) {
          Case c;
          c.isa = isa, c.act = act, c.bias = bias;
          c.residual = variant & 1;
          // The blocked path (several K slices, edges), the GEMV paths (one row, one column), prepacked.
          const int64_t shapes[4][3] = {{29, 71, 300}, {1, 77, 40}, {33, 1, 50}, {8, 768 / 8, 96}};
          c.M = shapes[variant][0], c.N = shapes[variant][1], c.K = shapes[variant][2];
          c.prepack = variant == 3;
          c.threads = variant == 0 ? 2 : 1;
          c.beta = variant == 2 ? 0.5f : 0.0f;
          c.pad = variant;
          c.tb = variant == 1;
          if (!check(c)) return;
          ++cases;
        }
  std::printf("sgemm epilogues: %d cases against the reference\n", cases);
}

// Each ISA's activations at the values where their formulas switch branches or saturate, and at
// ±inf and NaN (which every activation keeps, as the scalar ones do): applied through sgemm's empty
// product (K == 0, beta 1), which leaves C to the epilogue alone, on a row whose length leaves a
// partial vector.
void activations_at_extremes() {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {nan,   inf,    -inf,  0.0f,  -0.0f, 1e-3f, -1e-3f, 0.5f,  -0.5f, 0.624f, 0.626f,
                                1.0f,  -1.0f,  1.01f, -1.5f, 2.5f,  -3.9f, 4.1f,   -10.f, 19.9f, -25.f,  87.f,
                                89.f,  -89.f,  -104.f, 100.f, -100.f, 1e30f, -1e30f};
  struct Act {
    SgemmActivation kind;
    const char* name;
    double (*ref)(double);
  };
  const Act acts[] = {
      {SgemmActivation::relu, "relu", [](double v) { return v < 0 ? 0.0 : v; }},
      {SgemmActivation::leaky_relu, "leaky_relu", [](double v) { return v < 0 ? 0.1 * v : v; }},
      {SgemmActivation::sigmoid, "sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }},
      {SgemmActivation::tanh, "tanh", [](double v) { return std::tanh(v); }},
      {SgemmActivation::gelu, "gelu", [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }},
      {SgemmActivation::gelu_tanh, "gelu_tanh",
       [](double v) {
         const float f = static_cast<float>(v);  // x³ overflows in float, as the kernel computes it
         const double inner = 0.7978845608028654 * (v + 0.044715 * static_cast<double>(f * f * f));
         return 0.5 * v * (1 + std::tanh(inner));
       }},
      {SgemmActivation::clip, "clip", [](double v) { return v != v ? v : std::min(0.5, std::max(-0.5, v)); }},
  };
  const int64_t N = static_cast<int64_t>(x.size());
  for (CpuIsa isa : supported_isas())
    for (const Act& act : acts) {
      SgemmEpilogue e;
      e.activation = act.kind;
      e.activation_alpha = act.kind == SgemmActivation::clip ? -0.5f : 0.1f;
      e.activation_beta = 0.5f;
      std::vector<float> C = x;
      const float dummy = 0;
      sgemm_isa(isa, false, false, 1, N, 0, 1.0f, &dummy, 1, &dummy, N, 1.0f, C.data(), N, nullptr, &e);
      for (int64_t j = 0; j < N; ++j) {
        const double want = act.ref(x[static_cast<size_t>(j)]);
        const float got = C[static_cast<size_t>(j)];
        const bool ok = std::isnan(want) ? std::isnan(got)
                        : std::isinf(want) ? got == want
                                           : std::fabs(got - want) <= 2e-6 * std::max(1.0, std::fabs(want));
        if (!ok) {
          std::fprintf(stderr, "%s on %s: %s(%g) is %.9g, expected %.9g\n", act.name, cpu_isa_name(isa), act.name,
                       x[static_cast<size_t>(j)], got, want);
          ++test::failure_count();
        }
      }
    }
}

void thread_pool_covers_every_index() {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(5000);
    for (int round = 0; round < 300; ++round) {
      const int64_t n = random_int(rng, 1, 5000), grain = random_int(rng, 1, 200);
      for (int64_t i = 0; i < n; ++i) hits[static_cast<size_t>(i)].store(0);
      pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
        CHECK(0 <= b && b < e && e <= n);
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i)
        if (hits[static_cast<size_t>(i)].load() != 1) {
          std::fprintf(stderr, "thread pool (%d threads): index %lld of %lld ran %d times\n", threads,
                       static_cast<long long>(i), static_cast<long long>(n), hits[static_cast<size_t>(i)].load());
          ++test::failure_count();
          return;
        }
    }
  }
  // Back-to-back tiny loops (the workers spinning between them), and loops after the workers slept.
  ThreadPool pool(2);
  std::atomic<long> total{0};
  for (int round = 0; round < 5000; ++round)
    pool.parallel_for(2, 1, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  CHECK(total.load() == 10000);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pool.parallel_for(4, 1, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  }
  CHECK(total.load() == 10012);
}

void warmed_up_products_allocate_nothing() {
  const int64_t M = 64, N = 300, K = 200;
  const std::vector<float> A = random_floats(rng, static_cast<size_t>(M * K)), B = random_floats(rng, static_cast<size_t>(K * N));
  std::vector<float> C(static_cast<size_t>(M * N));
  const std::vector<float> bias = random_floats(rng, static_cast<size_t>(N));
  SgemmEpilogue e;
  e.bias = bias.data();
  e.activation = SgemmActivation::gelu;
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    const PackedB packed(false, K, N, B.data(), N);
    auto run = [&] {
      sgemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N, &pool, &e);
      sgemm_packed(false, M, 1.0f, A.data(), K, packed, 0.0f, C.data(), N, &pool, &e);
      sgemm(false, false, 1, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N, &pool, &e);
    };
    for (int i = 0; i < 3; ++i) run();  // every thread's pack buffers grown
    const long before = g_allocations.load();
    for (int i = 0; i < 10; ++i) run();
    const long allocations = g_allocations.load() - before;
    if (allocations != 0) std::fprintf(stderr, "%d thread(s): %ld allocations in 10 warmed-up runs\n", threads, allocations);
    CHECK(allocations == 0);
  }
}

}  // namespace

int main() {
  std::printf("CPU: avx2+fma %s, avx512 %s; sgemm uses %s\n", cpu_features().avx2_fma ? "yes" : "no",
              cpu_features().avx512 ? "yes" : "no", sgemm_kernel_name());
  kernels_match_reference();
  epilogues_match_reference();
  activations_at_extremes();
  thread_pool_covers_every_index();
  warmed_up_products_allocate_nothing();
  if (test::failures() == 0) std::printf("sgemm_test: all passed\n");
  return test::failures();
}
