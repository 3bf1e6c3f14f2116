// The blocked sgemm against its triple-loop reference (many shapes, transposes, strides, alpha/beta,
// one and two threads), its speed (printed, not asserted), and Gemm, MatMul, Softmax, LogSoftmax,
// ReduceMean and ArgMax through their shape functions and CPU kernels on small hand-made tensors,
// compared with plain double-precision loops written here.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/sgemm.h"
#include "cpu/kernels/softmax_rows.h"
#include "support/check.h"
#include "support/op_harness.h"
#include "support/random.h"

using namespace inferd;
using namespace inferd::test;

namespace {

std::mt19937 rng(20240601);


// ---- sgemm ---------------------------------------------------------------------------------------

using SgemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                         int64_t, float, float*, int64_t, ThreadPool*);

// One problem with random operands stored with padded row strides; compares every element of C
// (and checks the padding past each row of C is untouched) against sgemm_reference.
bool check_sgemm_case(SgemmFn fn, ThreadPool* pool, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                      float beta, int64_t pad, bool nan_c = false, bool prepack = false) {
  const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  const std::vector<float> A = random_floats(rng, static_cast<size_t>((ta ? K : M) * lda));
  const std::vector<float> B = random_floats(rng, static_cast<size_t>((tb ? N : K) * ldb));
  std::vector<float> C = random_floats(rng, static_cast<size_t>(M * ldc));
  if (nan_c) std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> expected = C;
  if (nan_c) std::fill(expected.begin(), expected.end(), 0.0f);
  sgemm_reference(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, expected.data(), ldc);
  // Error bound from the magnitudes: alpha·Σ|a||b| + |beta·c|.
  std::vector<float> absA(A.size()), absB(B.size()), bound(static_cast<size_t>(M * ldc), 0.0f);
  for (size_t i = 0; i < A.size(); ++i) absA[i] = std::fabs(A[i]);
  for (size_t i = 0; i < B.size(); ++i) absB[i] = std::fabs(B[i]);
  sgemm_reference(ta, tb, M, N, K, std::fabs(alpha), absA.data(), lda, absB.data(), ldb, 0.0f, bound.data(), ldc);
  const std::vector<float> before = C;
  if (prepack) {
    const PackedB packed(tb, K, N, B.data(), ldb);
    sgemm_packed(ta, M, alpha, A.data(), lda, packed, beta, C.data(), ldc, pool);
  } else {
    fn(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc, pool);
  }
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      bool ok;
      if (j >= N) {
        ok = std::isnan(before[at]) ? std::isnan(C[at]) : C[at] == before[at];
      } else {
        const float c0 = nan_c ? 0.0f : before[at];
        const float tol = 1e-5f * (bound[at] + std::fabs(beta * c0)) + 1e-6f;
        ok = std::fabs(C[at] - expected[at]) <= tol;
      }
      if (!ok) {
        std::fprintf(stderr,
                     "sgemm%s mismatch: transA=%d transB=%d M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%lld "
                     "threads=%d at (%lld, %lld): got %.9g want %.9g\n",
                     prepack ? "_packed" : "", ta, tb, static_cast<long long>(M), static_cast<long long>(N),
                     static_cast<long long>(K), alpha,
                     beta, static_cast<long long>(pad), pool ? pool->size() : 0, static_cast<long long>(i),
                     static_cast<long long>(j), C[at], expected[at]);
        ++test::failure_count();
        return false;
      }
    }
  }
  return true;
}

void sgemm_matches_reference() {
  ThreadPool pool1(1), pool2(2);
  int cases = 0;
  // Sizes around the register tile and the cache blocks, every transpose pair, both pools.
  const int64_t tile_m = sgemm_tile_rows(), tile_n = sgemm_tile_cols();
  const std::vector<int64_t> ms = {1, 2, tile_m - 1, tile_m, tile_m + 1, 2 * tile_m + 3, 193};
  const std::vector<int64_t> ns = {1, 3, tile_n - 1, tile_n, tile_n + 1, 2 * tile_n + 5, 300};
  const std::vector<int64_t> ks = {1, 7, 255, 256, 257, 300};
  for (int64_t M : ms)
    for (int64_t N : ns)
      for (int64_t K : ks)
        for (int t = 0; t < 4; ++t) {
          ThreadPool* pool = (cases % 2) ? &pool2 : &pool1;
          if (!check_sgemm_case(sgemm, pool, t & 1, t & 2, M, N, K, 1.0f, 0.0f, cases % 3)) return;
          ++cases;
        }
  // Random odd shapes up to 300 with random alpha, beta and strides.
  for (int i = 0; i < 300; ++i) {
    const int64_t M = random_int(rng, 1, 300), N = random_int(rng, 1, 300), K = random_int(rng, 1, 300);
    const float alpha = std::uniform_real_distribution<float>(-2, 2)(rng);
    const float beta = i % 4 == 0 ? 0.0f : std::uniform_real_distribution<float>(-2, 2)(rng);
    const bool ta = random_int(rng, 0, 1) != 0, tb = random_int(rng, 0, 1) != 0;
    for (ThreadPool* pool : {&pool1, &pool2, static_cast<ThreadPool*>(nullptr)})
      if (!check_sgemm_case(sgemm, pool, ta, tb, M, N, K, alpha, beta, random_int(rng, 0, 5))) return;
    if (!check_sgemm_case(sgemm_portable, &pool2, ta, tb, M, N, K, alpha, beta, random_int(rng, 0, 5))) return;
    cases += 4;
  }
  // Larger than one cache block in every dimension (several KC slices, MC blocks and NC panels),
  // with B packed per call and prepacked (two threads then split C mid-panel).
  for (bool prepack : {false, true}) {
    CHECK(check_sgemm_case(sgemm, &pool2, false, true, 421, 2100, 530, 0.5f, 1.5f, 1, false, prepack));
    CHECK(check_sgemm_case(sgemm, &pool1, true, false, 400, 70, 1030, 1.0f, 1.0f, 0, false, prepack));
    CHECK(check_sgemm_case(sgemm, &pool2, true, false, 3, 4200, 300, 1.0f, 0.0f, 0, true, prepack));
  }
  // Prepacked B on random shapes, one row included.
  for (int i = 0; i < 100; ++i) {
    const int64_t M = i < 10 ? 1 + i % 3 : random_int(rng, 1, 300), N = random_int(rng, 1, 300), K = random_int(rng, 1, 300);
    const float beta = i % 3 == 0 ? 0.0f : 0.5f;
    const bool ta = random_int(rng, 0, 1) != 0, tb = random_int(rng, 0, 1) != 0;
    if (!check_sgemm_case(sgemm, i % 2 ? &pool2 : &pool1, ta, tb, M, N, K, 1.5f, beta, random_int(rng, 0, 3), false, true))
      return;
    ++cases;
  }
  CHECK(check_sgemm_case(sgemm, &pool1, false, false, 5, 6, 0, 1.0f, 0.5f, 1, false, true));
  // beta == 0 never reads C: NaN there must not reach the result.
  for (int t = 0; t < 4; ++t) {
    CHECK(check_sgemm_case(sgemm, &pool2, t & 1, t & 2, 37, 45, 19, 1.0f, 0.0f, 2, true));
    CHECK(check_sgemm_case(sgemm, &pool2, t & 1, t & 2, 1, 45, 19, 1.0f, 0.0f, 2, true));
    CHECK(check_sgemm_case(sgemm, &pool2, t & 1, t & 2, 45, 1, 19, 1.0f, 0.0f, 2, true));
    CHECK(check_sgemm_case(sgemm_portable, &pool1, t & 1, t & 2, 37, 45, 19, 1.0f, 0.0f, 2, true));
  }
  // Degenerate products: K == 0 gives beta·C, alpha == 0 skips A·B.
  CHECK(check_sgemm_case(sgemm, &pool1, false, false, 5, 6, 0, 1.0f, 0.5f, 1));
  CHECK(check_sgemm_case(sgemm, &pool1, false, false, 5, 6, 0, 1.0f, 0.0f, 1, true));
  CHECK(check_sgemm_case(sgemm, &pool1, false, false, 5, 6, 9, 0.0f, 2.0f, 0));
  std::printf("sgemm (%s micro-kernel, %dx%d tile): %d cases against the reference\n", sgemm_kernel_name(),
              sgemm_tile_rows(), sgemm_tile_cols(), cases);
}

// Median seconds of `reps` calls.
template <typename Fn> double median_seconds(int reps, Fn&& fn) {
  std::vector<double> seconds;
  for (int rep = 0; rep < reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// A small batch through a weight matrix, as a Linear layer exported with transB = 1 computes it:
// what prepacking the weight saves.
void small_batch_speed() {
  const int64_t K = 768, N = 3072;
  const std::vector<float> A = random_floats(rng, static_cast<size_t>(16 * K));
  const std::vector<float> B = random_floats(rng, static_cast<size_t>(N * K));
  std::vector<float> C(static_cast<size_t>(16 * N));
  const PackedB packed(true, K, N, B.data(), K);
  for (int64_t M : {1, 4, 16}) {
    const double per_call = median_seconds(15, [&] {
      sgemm(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, C.data(), N, nullptr);
    });
    const double prepacked = median_seconds(15, [&] {
      sgemm_packed(false, M, 1.0f, A.data(), K, packed, 0.0f, C.data(), N, nullptr);
    });
    std::printf("sgemm %lldx%lld * (%lldx%lld)^T, 1 thread: %.3f ms from B as stored, %.3f ms prepacked\n",
                static_cast<long long>(M), static_cast<long long>(K), static_cast<long long>(N),
                static_cast<long long>(K), per_call * 1e3, prepacked * 1e3);
  }
}

void sgemm_speed() {
  for (int64_t n : {512, 1024}) {
    const std::vector<float> A = random_floats(rng, static_cast<size_t>(n * n));
    const std::vector<float> B = random_floats(rng, static_cast<size_t>(n * n));
    std::vector<float> C(static_cast<size_t>(n * n));
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      const double seconds = median_seconds(7, [&] {
        sgemm(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n, &pool);
      });
      const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
      std::printf("sgemm %lld^3, %d thread%s: %.1f GFLOP/s (median of 7)\n", static_cast<long long>(n), threads,
                  threads == 1 ? "" : "s", flops / seconds / 1e9);
    }
  }
}

// ---- Building nodes and tensors, running an op -----------------------------------------------------

Tensor random_tensor(Shape shape, float lo = -3.0f, float hi = 3.0f) {
  const size_t n = static_cast<size_t>(shape_size(shape));
  return tensor<float>(std::move(shape), random_floats(rng, n, lo, hi));
}


// |actual − expected| ≤ atol + rtol·|expected| everywhere, as onnx's conformance runner compares.
bool all_close(const std::vector<float>& actual, const std::vector<double>& expected, double rtol = 1e-5,
               double atol = 1e-6) {
  if (actual.size() != expected.size()) {
    std::fprintf(stderr, "size %zu, expected %zu\n", actual.size(), expected.size());
    return false;
  }
  for (size_t i = 0; i < actual.size(); ++i)
    if (!(std::fabs(actual[i] - expected[i]) <= atol + rtol * std::fabs(expected[i]))) {
      std::fprintf(stderr, "element %zu: got %.9g, expected %.9g\n", i, actual[i], expected[i]);
      return false;
    }
  return true;
}

// ---- Gemm ----------------------------------------------------------------------------------------

// alpha·op(A)·op(B) + beta·C with C (any broadcastable shape, or absent) in double.
std::vector<double> naive_gemm(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, double alpha,
                               double beta) {
  const int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const int64_t N = tb ? b.shape[0] : b.shape[1];
  std::vector<double> y(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += static_cast<double>(a.data_as<float>()[ta ? k * M + i : i * K + k]) *
             b.data_as<float>()[tb ? j * K + k : k * N + j];
      double cv = 0;
      if (c) {
        const int64_t rows = c->rank() == 2 ? c->shape[0] : 1, cols = c->rank() >= 1 ? c->shape.back() : 1;
        cv = c->data_as<float>()[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
      }
      y[static_cast<size_t>(i * N + j)] = alpha * s + beta * cv;
    }
  return y;
}

void gemm_op() {
  // Every transpose pair and every C shape the conformance cases use, at opsets 6, 9, 11 and 13.
  const std::vector<Shape> c_shapes = {{3, 5}, {1, 5}, {5}, {1}, {}, {3, 1}};
  for (int opset : {6, 9, 11, 13})
    for (int t = 0; t < 4; ++t)
      for (const Shape& cs : c_shapes) {
        const bool ta = t & 1, tb = t & 2;
        const Tensor a = random_tensor(ta ? Shape{4, 3} : Shape{3, 4});
        const Tensor b = random_tensor(tb ? Shape{5, 4} : Shape{4, 5});
        const Tensor c = random_tensor(cs);
        std::vector<Attribute> attrs = {attr_int("transA", ta), attr_int("transB", tb), attr_float("alpha", 0.25f),
                                        attr_float("beta", 0.35f)};
        if (opset < 7) attrs.push_back(attr_int("broadcast", 1));
        const Result r = run(make_node("Gemm", attrs), opset, {data(a), data(b), data(c)});
        CHECK(r.shape == (Shape{3, 5}));
        CHECK(all_close(values_of<float>(r.output), naive_gemm(a, b, &c, ta, tb, 0.25, 0.35)));
      }

  // C is optional from opset 11 only.
  const Tensor a = random_tensor({2, 10}), b = random_tensor({10, 3});
  Result r = run(make_node("Gemm"), 11, {data(a), data(b)});
  CHECK(all_close(values_of<float>(r.output), naive_gemm(a, b, nullptr, false, false, 1, 0)));
  r = run(make_node("Gemm"), 13, {data(a), data(b), omitted()});
  CHECK(all_close(values_of<float>(r.output), naive_gemm(a, b, nullptr, false, false, 1, 0)));
  CHECK_THROWS(run(make_node("Gemm"), 9, {data(a), data(b)}), ErrorKind::invalid_model, "input 2 is required");

  // beta == 0 ignores C, even NaN.
  Tensor nan_c = tensor<float>({3}, {NAN, NAN, NAN});
  r = run(make_node("Gemm", {attr_float("beta", 0.0f)}), 13, {data(a), data(b), data(nan_c)});
  CHECK(all_close(values_of<float>(r.output), naive_gemm(a, b, nullptr, false, false, 1, 0)));

  // A bigger product, threaded, through sgemm's blocked path.
  const Tensor big_a = random_tensor({70, 300}), big_b = random_tensor({130, 300}), big_c = random_tensor({130});
  r = run(make_node("Gemm", {attr_int("transB", 1)}), 13, {data(big_a), data(big_b), data(big_c)}, 2);
  CHECK(all_close(values_of<float>(r.output), naive_gemm(big_a, big_b, &big_c, false, true, 1, 1), 1e-4, 1e-4));

  // A constant B (a weight) is prepacked when the kernel is made; every row count, both layouts.
  for (int64_t M : {1, 2, 9, 70})
    for (int tb = 0; tb < 2; ++tb) {
      const Tensor wa = random_tensor({M, 300}), wb = random_tensor(tb ? Shape{40, 300} : Shape{300, 40});
      const Tensor wc = random_tensor({40});
      r = run(make_node("Gemm", {attr_int("transB", tb)}), 13, {data(wa), constant(wb), constant(wc)}, 2);
      CHECK(all_close(values_of<float>(r.output), naive_gemm(wa, wb, &wc, false, tb, 1, 1), 1e-4, 1e-4));
    }

  // double through the plain loop.
  const Tensor da = tensor<double>({2, 2}, {1, 2, 3, 4}), db = tensor<double>({2, 2}, {5, 6, 7, 8});
  const Tensor dc = tensor<double>({2}, {0.5, -0.5});
  r = run(make_node("Gemm", {attr_int("transA", 1), attr_float("alpha", 2.0f)}), 13, {data(da), data(db), data(dc)});
  // Aᵀ·B = [[1,3],[2,4]]·[[5,6],[7,8]] = [[26,30],[38,44]]
  CHECK(values_of<double>(r.output) == (std::vector<double>{52.5, 59.5, 76.5, 87.5}));

  // Errors name the node and the offending shapes and types.
  CHECK_THROWS(run(make_node("Gemm"), 13, {data(random_tensor({2, 3})), data(random_tensor({4, 5}))}),
               ErrorKind::invalid_model, "op(A) is 2x3 but op(B) is 4x5");
  CHECK_THROWS(run(make_node("Gemm"), 13, {data(random_tensor({2, 3, 1})), data(random_tensor({3, 5}))}),
               ErrorKind::invalid_model, "input A must be 2-D");
  CHECK_THROWS(run(make_node("Gemm"), 13, {data(random_tensor({2, 3})), data(random_tensor({3, 5})),
                                           data(random_tensor({2, 4}))}),
               ErrorKind::invalid_model, "does not broadcast to [M, N] = [2, 5]");
  CHECK_THROWS(run(make_node("Gemm"), 13, {data(tensor<int32_t>({1, 1}, {1})), data(tensor<int32_t>({1, 1}, {1}))}),
               ErrorKind::unsupported, "input 0 has type int32");
}

// ---- MatMul --------------------------------------------------------------------------------------

// numpy.matmul in double.
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b, const Shape& out_shape) {
  Shape as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  const size_t batch_rank = std::max(as.size(), bs.size()) - 2;
  while (as.size() < batch_rank + 2) as.insert(as.begin(), 1);
  while (bs.size() < batch_rank + 2) bs.insert(bs.begin(), 1);
  int64_t count = 1;
  Shape batch(batch_rank);
  for (size_t d = 0; d < batch_rank; ++d) count *= batch[d] = std::max(as[d], bs[d]);
  std::vector<double> y;
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, a_index = 0, b_index = 0, a_scale = 1, b_scale = 1;
    for (size_t d = batch_rank; d-- > 0;) {
      const int64_t idx = rest % batch[d];
      rest /= batch[d];
      a_index += (as[d] == 1 ? 0 : idx) * a_scale;
      b_index += (bs[d] == 1 ? 0 : idx) * b_scale;
      a_scale *= as[d];
      b_scale *= bs[d];
    }
    const float* A = a.data_as<float>() + a_index * M * K;
    const float* B = b.data_as<float>() + b_index * K * N;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += static_cast<double>(A[m * K + k]) * B[k * N + n];
        y.push_back(s);
      }
  }
  CHECK(static_cast<int64_t>(y.size()) == shape_size(out_shape));
  return y;
}

void matmul_op() {
  struct Case {
    Shape a, b, y;
  };
  const std::vector<Case> cases = {
      {{3}, {3}, {}},                      // test_matmul_1d_1d
      {{4}, {2, 4, 1}, {2, 1}},            // test_matmul_1d_3d
      {{1, 2, 4, 3}, {3}, {1, 2, 4}},      // test_matmul_4d_1d
      {{3, 4}, {4, 3}, {3, 3}},
      {{2, 3, 4}, {2, 4, 3}, {2, 3, 3}},
      {{3, 1, 3, 4}, {1, 2, 4, 2}, {3, 2, 3, 2}},  // test_matmul_bcast
      {{2, 1, 5, 6}, {3, 6, 7}, {2, 3, 5, 7}},
      {{5, 7, 33}, {33, 40}, {5, 7, 40}},          // B without batch: one tall product
      {{9, 40}, {4, 40, 17}, {4, 9, 17}},          // A without batch
      {{2, 3, 0, 4}, {4, 5}, {2, 3, 0, 5}},        // empty
      {{2, 3, 4, 0}, {1, 0, 5}, {2, 3, 4, 5}},     // K == 0: zeros
      {{16, 24, 48}, {16, 48, 20}, {16, 24, 20}},  // many small products, threaded over the batch
      {{2, 150, 90}, {2, 90, 110}, {2, 150, 110}}, // few larger products, threaded inside sgemm
      // Attention: scores [B, H, S, d] × [B, H, d, S], then context [B, H, S, S] × [B, H, S, d].
      {{2, 4, 128, 64}, {2, 4, 64, 128}, {2, 4, 128, 128}},
      {{1, 4, 128, 128}, {1, 4, 128, 64}, {1, 4, 128, 64}},
      {{3, 150, 90}, {3, 90, 110}, {3, 150, 110}},    // not a multiple of the threads: whole + split
      {{5, 40, 30}, {1, 30, 20}, {5, 40, 20}},         // B's batch dim of 1: one tall product
      {{2, 3, 40, 30}, {1, 1, 30, 20}, {2, 3, 40, 20}},
      {{1, 40, 30}, {5, 30, 20}, {5, 40, 20}},         // A repeated over B's batch
      {{2, 1, 64, 48}, {1, 3, 48, 64}, {2, 3, 64, 64}},
      {{4, 2, 30, 20}, {2, 20, 25}, {4, 2, 30, 25}},   // B repeated over A's outer dim
  };
  for (const Case& c : cases)
    for (int threads : {1, 2, 3}) {
      const Tensor a = random_tensor(c.a), b = random_tensor(c.b);
      const Result r = run(make_node("MatMul"), 13, {data(a), data(b)}, threads);
      CHECK(r.shape == c.y);
      if (!all_close(values_of<float>(r.output), naive_matmul(a, b, c.y), 1e-5, 1e-4)) {
        std::fprintf(stderr, "  MatMul %s x %s, %d threads\n", shape_to_string(c.a).c_str(),
                     shape_to_string(c.b).c_str(), threads);
        ++test::failure_count();
      }
    }
  // A constant 2-D B (a weight) is prepacked; a constant batched or 1-D B is used as it is.
  for (const Case& c : std::vector<Case>{{{1, 64}, {64, 50}, {1, 50}},
                                         {{3, 5, 64}, {64, 50}, {3, 5, 50}},
                                         {{2, 64}, {3, 64, 5}, {3, 2, 5}},
                                         {{4, 64}, {64}, {4}}}) {
    const Tensor a = random_tensor(c.a), b = random_tensor(c.b);
    const Result r = run(make_node("MatMul"), 13, {data(a), constant(b)}, 2);
    CHECK(r.shape == c.y);
    CHECK(all_close(values_of<float>(r.output), naive_matmul(a, b, c.y), 1e-5, 1e-4));
  }

  // The same at the oldest opset.
  CHECK(run(make_node("MatMul"), 1, {data(random_tensor({2, 3})), data(random_tensor({3, 4}))}).shape ==
        (Shape{2, 4}));

  // Integer and double MatMul through the plain loop.
  Result r = run(make_node("MatMul"), 13, {data(tensor<int64_t>({2, 2}, {1, 2, 3, 4})),
                                           data(tensor<int64_t>({2, 2, 1}, {1, 1, 2, -1}))});
  CHECK(r.shape == (Shape{2, 2, 1}));
  CHECK(values_of<int64_t>(r.output) == (std::vector<int64_t>{3, 7, 0, 2}));
  r = run(make_node("MatMul"), 13, {data(tensor<int32_t>({3}, {1, 2, 3})), data(tensor<int32_t>({3}, {4, 5, 6}))});
  CHECK(r.shape == Shape{});
  CHECK(values_of<int32_t>(r.output) == std::vector<int32_t>{32});
  r = run(make_node("MatMul"), 13, {data(tensor<double>({1, 2}, {0.5, 2})), data(tensor<double>({2, 1}, {4, 8}))});
  CHECK(values_of<double>(r.output) == std::vector<double>{18});

  CHECK_THROWS(run(make_node("MatMul"), 13, {data(random_tensor({2, 3})), data(random_tensor({4, 5}))}),
               ErrorKind::invalid_model, "has 3 columns but B [4, 5] has 4 rows");
  CHECK_THROWS(run(make_node("MatMul"), 13, {data(random_tensor({2, 2, 3})), data(random_tensor({3, 3, 4}))}),
               ErrorKind::invalid_model, "do not broadcast");
  CHECK_THROWS(run(make_node("MatMul"), 13, {data(tensor<float>({}, {1})), data(random_tensor({1, 1}))}),
               ErrorKind::invalid_model, "rank >= 1");
  CHECK_THROWS(run(make_node("MatMul"), 13, {data(random_tensor({2, 2})), data(tensor<int64_t>({2, 2}, {1, 2, 3, 4}))}),
               ErrorKind::invalid_model, "must have the same type");
}

// ---- FusedMatMul / FusedGemm with a residual ------------------------------------------------------

// `p` (of shape p_shape) ⊕ `r` with numpy broadcasting, then the activation ("", "Relu" or "Gelu").
std::vector<double> add_residual(const std::vector<double>& p, const Shape& p_shape, const Tensor& r,
                                 const Shape& out_shape, const std::string& act) {
  int64_t p_step[kMaxRank] = {}, r_step[kMaxRank] = {}, out_step[kMaxRank] = {};
  CHECK(broadcast_strides(p_shape, out_shape, p_step));
  CHECK(broadcast_strides(r.shape, out_shape, r_step));
  row_major_strides(out_shape, out_step);
  std::vector<double> y(static_cast<size_t>(shape_size(out_shape)));
  for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
    int64_t p_at = 0, r_at = 0;
    for (size_t d = 0; d < out_shape.size(); ++d) {
      const int64_t index = i / out_step[d] % out_shape[d];
      p_at += index * p_step[d];
      r_at += index * r_step[d];
    }
    double v = p[static_cast<size_t>(p_at)] + r.data_as<float>()[r_at];
    if (act == "Relu") v = v < 0 ? 0 : v;
    if (act == "Gelu") v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    y[static_cast<size_t>(i)] = v;
  }
  return y;
}

void fused_products_add_residuals() {
  struct Case {
    Shape a, residual;
    bool bias;
  };
  const int64_t K = 40, N = 33;
  const std::vector<Case> cases = {
      {{2, 70, K}, {2, 70, N}, true},        // the product's own shape: sgemm's epilogue
      {{70, K}, {1, 1, 70, N}, true},        // the same elements under leading 1s
      {{K}, {N}, true},                      // one row (sgemm's GEMV path)
      {{2, 70, K}, {2, 70, N}, false},       // no bias
      {{2, 70, K}, {N}, true},               // broadcast into the product: along rows
      {{2, 70, K}, {70, 1}, false},          // along columns
      {{2, 70, K}, {1, 70, N}, true},        // along the batch
      {{70, K}, {3, 70, N}, true},           // enlarging the result: Y is [3, 70, N]
      {{2, 1, 5, K}, {3, 1, 1}, true},       // both broadcast: Y is [2, 3, 5, N]
  };
  for (const Case& c : cases)
    for (const char* act : {"", "Relu", "Gelu"})
      for (int threads : {1, 2})
        for (bool packed : {true, false}) {
          const Tensor a = random_tensor(c.a), b = random_tensor({K, N}), bias = random_tensor({N}),
                       residual = random_tensor(c.residual);
          Shape p_shape(c.a.begin(), c.a.end() - 1);
          p_shape.push_back(N);
          const int64_t rows = shape_size(p_shape) / N;
          std::vector<double> p(static_cast<size_t>(rows * N));
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < N; ++j) {
              double sum = c.bias ? bias.data_as<float>()[j] : 0.0;
              for (int64_t k = 0; k < K; ++k)
                sum += static_cast<double>(a.data_as<float>()[i * K + k]) * b.data_as<float>()[k * N + j];
              p[static_cast<size_t>(i * N + j)] = sum;
            }
          Shape y_shape;
          CHECK(broadcast_shapes(p_shape, c.residual, &y_shape));
          const Result r = run(make_node("FusedMatMul", {attr_string("activation", act)}), 13,
                               {data(a), packed ? constant(b) : data(b), c.bias ? constant(bias) : omitted(), data(residual)},
                               threads, 1, "com.inferd");
          CHECK(r.shape == y_shape);
          if (!all_close(values_of<float>(r.output), add_residual(p, p_shape, residual, y_shape, act), 1e-5, 1e-4)) {
            std::fprintf(stderr, "  FusedMatMul %s + residual %s, activation '%s', %d threads%s\n",
                         shape_to_string(c.a).c_str(), shape_to_string(c.residual).c_str(), act, threads,
                         packed ? ", B packed" : "");
            ++test::failure_count();
          }
        }

  // An empty product (K == 0) is the bias plus the residual.
  {
    const Tensor a = random_tensor({5, 0}), b = random_tensor({0, 7}), bias = random_tensor({7}),
                 residual = random_tensor({5, 7});
    const Result r = run(make_node("FusedMatMul"), 13, {data(a), constant(b), constant(bias), data(residual)}, 1, 1,
                         "com.inferd");
    std::vector<double> want;
    for (int64_t i = 0; i < 35; ++i) want.push_back(double(bias.data_as<float>()[i % 7]) + residual.data_as<float>()[i]);
    CHECK(all_close(values_of<float>(r.output), want));
  }

  // FusedGemm: transposes, alpha and beta, C of several shapes (beta 0 ignoring a NaN C), residuals
  // of the product's shape, broadcast into it and enlarging it.
  const int64_t M = 37, GN = 23, GK = 19;
  const std::vector<Shape> residual_shapes = {{M, GN}, {GN}, {M, 1}, {2, M, GN}};
  int variant = 0;
  for (const Shape& rs : residual_shapes)
    for (const Shape& cs : std::vector<Shape>{{GN}, {M, GN}, {}})
      for (int threads : {1, 2}) {
        ++variant;
        const bool ta = variant % 2, tb = variant % 3 == 0;
        const float alpha = 0.75f, beta = variant % 5 == 0 ? 0.0f : 1.25f;
        const Tensor a = random_tensor(ta ? Shape{GK, M} : Shape{M, GK}), b = random_tensor(tb ? Shape{GN, GK} : Shape{GK, GN});
        Tensor c = random_tensor(cs);
        if (beta == 0) std::fill_n(c.data_as<float>(), c.size(), NAN);
        const Tensor residual = random_tensor(rs);
        const std::vector<double> p = naive_gemm(a, b, beta == 0 ? nullptr : &c, ta, tb, alpha, beta);
        Shape y_shape;
        CHECK(broadcast_shapes(Shape{M, GN}, rs, &y_shape));
        const Result r = run(make_node("FusedGemm", {attr_string("activation", "Relu"), attr_int("transA", ta),
                                                     attr_int("transB", tb), attr_float("alpha", alpha),
                                                     attr_float("beta", beta)}),
                             13, {data(a), constant(b), data(c), data(residual)}, threads, 1, "com.inferd");
        CHECK(r.shape == y_shape);
        if (!all_close(values_of<float>(r.output), add_residual(p, {M, GN}, residual, y_shape, "Relu"), 1e-5, 1e-4)) {
          std::fprintf(stderr, "  FusedGemm C %s + residual %s, %d threads\n", shape_to_string(cs).c_str(),
                       shape_to_string(rs).c_str(), threads);
          ++test::failure_count();
        }
      }

  // A residual that does not broadcast with the product is the model's error, named.
  CHECK_THROWS(run(make_node("FusedMatMul"), 13,
                   {data(random_tensor({2, 7, 4})), constant(random_tensor({4, 5})), omitted(), data(random_tensor({6}))},
                   1, 1, "com.inferd"),
               ErrorKind::invalid_model,
               "FusedMatMul node 'n': input residual of shape [6] does not broadcast with the product's [2, 7, 5]");
  CHECK_THROWS(run(make_node("FusedGemm"), 13,
                   {data(random_tensor({3, 4})), data(random_tensor({4, 5})), omitted(), data(random_tensor({2, 3, 4}))},
                   1, 1, "com.inferd"),
               ErrorKind::invalid_model, "input residual of shape [2, 3, 4] does not broadcast with the product's [3, 5]");
}

// ---- Softmax and LogSoftmax ------------------------------------------------------------------------

// Normalises each set of D elements `inner` apart in double, in the [outer, D, inner] view.
std::vector<double> naive_softmax(const std::vector<float>& x, int64_t outer, int64_t D, int64_t inner, bool log) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < inner; ++t) {
      auto at = [&](int64_t a) { return static_cast<size_t>((o * D + a) * inner + t); };
      double m = -INFINITY, s = 0;
      for (int64_t a = 0; a < D; ++a) m = std::max(m, static_cast<double>(x[at(a)]));
      for (int64_t a = 0; a < D; ++a) s += std::exp(x[at(a)] - m);
      for (int64_t a = 0; a < D; ++a) y[at(a)] = log ? x[at(a)] - m - std::log(s) : std::exp(x[at(a)] - m) / s;
    }
  return y;
}

void softmax_ops() {
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const bool log = std::string(op) == "LogSoftmax";
    const Tensor x = random_tensor({2, 3, 4});
    const std::vector<float> xs = values_of<float>(x);
    // Defaults: opset 13 normalises along the last axis; opset 11 coerces to 2-D at axis 1, so each
    // of the 2 rows of 12 is normalised as a whole.
    const Result r13 = run(make_node(op), 13, {data(x)});
    const Result r11 = run(make_node(op), 11, {data(x)});
    CHECK(r13.shape == x.shape && r11.shape == x.shape);
    CHECK(all_close(values_of<float>(r13.output), naive_softmax(xs, 6, 4, 1, log)));
    CHECK(all_close(values_of<float>(r11.output), naive_softmax(xs, 2, 12, 1, log)));
    CHECK(values_of<float>(r13.output) != values_of<float>(r11.output));
    // Opset 1 behaves as 11.
    CHECK(all_close(values_of<float>(run(make_node(op), 1, {data(x)}).output), naive_softmax(xs, 2, 12, 1, log)));

    // axis = 1 at opset 13 normalises across the middle dimension (strided sets) …
    Result r = run(make_node(op, {attr_int("axis", 1)}), 13, {data(x)});
    CHECK(all_close(values_of<float>(r.output), naive_softmax(xs, 2, 3, 4, log)));
    // … and at opset 12 the same attribute means the trailing [3, 4] block.
    r = run(make_node(op, {attr_int("axis", 1)}), 12, {data(x)});
    CHECK(all_close(values_of<float>(r.output), naive_softmax(xs, 2, 12, 1, log)));
    // axis 0 and negative axes.
    r = run(make_node(op, {attr_int("axis", 0)}), 13, {data(x)});
    CHECK(all_close(values_of<float>(r.output), naive_softmax(xs, 1, 2, 12, log)));
    r = run(make_node(op, {attr_int("axis", -2)}), 13, {data(x)});
    CHECK(all_close(values_of<float>(r.output), naive_softmax(xs, 2, 3, 4, log)));
    r = run(make_node(op, {attr_int("axis", -1)}), 11, {data(x)});
    CHECK(all_close(values_of<float>(r.output), naive_softmax(xs, 6, 4, 1, log)));

    // Large values do not overflow (test_softmax_large_number), and -inf entries give 0 / -inf.
    const Tensor large = tensor<float>({2, 4}, {1, 2, 3, 4, 10000, 10001, 10002, 10003});
    r = run(make_node(op), 13, {data(large)});
    CHECK(all_close(values_of<float>(r.output), naive_softmax(values_of<float>(large), 2, 4, 1, log)));
    const Tensor with_inf = tensor<float>({3}, {-INFINITY, 0.0f, 1.0f});
    r = run(make_node(op), 13, {data(with_inf)});
    const std::vector<float> inf_out = values_of<float>(r.output);
    CHECK(log ? std::isinf(inf_out[0]) && inf_out[0] < 0 : inf_out[0] == 0.0f);

    // Sets wider than one column block, many rows, two threads; a wide range of exponents.
    for (const Shape& s : {Shape{3, 70, 130}, Shape{300, 1000}})
      for (int axis : {-1, 1}) {
        const Tensor big = random_tensor(s, -40.0f, 40.0f);
        const std::vector<float> bs = values_of<float>(big);
        r = run(make_node(op, {attr_int("axis", axis)}), 13, {data(big)}, 2);
        const int a = axis < 0 ? static_cast<int>(s.size()) - 1 : axis, rank = static_cast<int>(s.size());
        const std::vector<double> want =
            naive_softmax(bs, dims_product(s, 0, a), s[static_cast<size_t>(a)], dims_product(s, a + 1, rank), log);
        CHECK(all_close(values_of<float>(r.output), want, 1e-5, log ? 1e-5 : 1e-30));
      }

    CHECK_THROWS(run(make_node(op, {attr_int("axis", 3)}), 13, {data(x)}), ErrorKind::invalid_model,
                 "attribute 'axis' 3 is out of range for rank 3");
    CHECK_THROWS(run(make_node(op), 13, {data(tensor<double>({2}, {1, 2}))}), ErrorKind::unsupported,
                 "input 0 has type double");
  }
}

// The vector row kernel Softmax picks where the CPU has it, checked directly (the op tests above
// run whichever kernel this CPU gets): every tail length, in place, and the special values.
void softmax_rows_kernel() {
  const SoftmaxRowsFn rows = softmax_rows_avx512();
  if (!rows) {
    std::printf("softmax_rows_kernel: no AVX-512 on this CPU, skipped\n");
    return;
  }
  for (int64_t D = 1; D <= 70; ++D) {
    const Tensor x = random_tensor({3, D}, -60.0f, 60.0f);
    const std::vector<float> xs = values_of<float>(x);
    std::vector<float> y(xs.size()), in_place = xs;
    rows(xs.data(), y.data(), 3, D);
    rows(in_place.data(), in_place.data(), 3, D);
    CHECK(all_close(y, naive_softmax(xs, 3, D, 1, false), 1e-5, 1e-30));
    CHECK(y == in_place);
  }
  const float inf = INFINITY, nan = NAN;
  // −inf entries give 0; a row of NaN or of +inf entries (inf − inf) is NaN; far below the maximum
  // (e^−100) underflows to 0, not to a subnormal.
  const std::vector<float> x = {-inf, 0, 1, -inf, 2, 3, nan, 1, 1, inf, inf, 0, 0, -100, -100, 0, 0, 0};
  std::vector<float> y(x.size());
  rows(x.data(), y.data(), 6, 3);
  CHECK(y[0] == 0.0f && y[3] == 0.0f);
  CHECK(all_close({y[1], y[2]}, {1 / (1 + std::exp(1.0)), std::exp(1.0) / (1 + std::exp(1.0))}));
  CHECK(std::isnan(y[6]) && std::isnan(y[7]) && std::isnan(y[8]));
  CHECK(std::isnan(y[9]) && std::isnan(y[10]));
  CHECK(y[12] == 1.0f && y[13] == 0.0f && y[14] == 0.0f);
  CHECK(all_close({y[15], y[16], y[17]}, {1.0 / 3, 1.0 / 3, 1.0 / 3}));
}

// ---- ReduceMean ----------------------------------------------------------------------------------

// The mean over the axes in `reduce`, in double, in the keepdims layout.
std::vector<double> naive_mean(const Tensor& x, const std::vector<bool>& reduce) {
  const Shape& s = x.shape;
  Shape out_shape;
  for (size_t d = 0; d < s.size(); ++d) out_shape.push_back(reduce[d] ? 1 : s[d]);
  std::vector<double> sum(static_cast<size_t>(shape_size(out_shape)), 0.0);
  int64_t count = 1;
  for (size_t d = 0; d < s.size(); ++d)
    if (reduce[d]) count *= s[d];
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t rest = i, out_index = 0, scale = 1;
    for (size_t d = s.size(); d-- > 0;) {
      const int64_t idx = rest % s[d];
      rest /= s[d];
      out_index += (reduce[d] ? 0 : idx) * scale;
      scale *= out_shape[d];
    }
    sum[static_cast<size_t>(out_index)] += x.data_as<float>()[i];
  }
  for (double& v : sum) v /= static_cast<double>(count);
  return sum;
}

Tensor axes_tensor(const std::vector<int64_t>& axes) {
  return tensor<int64_t>({static_cast<int64_t>(axes.size())}, axes);
}

void reduce_mean_op() {
  const Tensor x = tensor<float>({3, 2, 2}, {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2});
  // test_reduce_mean_keepdims_example at opset 13 (axes attribute) and 18 (axes input).
  Result r = run(make_node("ReduceMean", {attr_ints("axes", {1}), attr_int("keepdims", 1)}), 13, {data(x)});
  CHECK(r.shape == (Shape{3, 1, 2}));
  CHECK(values_of<float>(r.output) == (std::vector<float>{12.5, 1.5, 35, 1.5, 57.5, 1.5}));
  r = run(make_node("ReduceMean", {attr_int("keepdims", 1)}), 18, {data(x), constant(axes_tensor({1}))});
  CHECK(r.shape == (Shape{3, 1, 2}));
  CHECK(values_of<float>(r.output) == (std::vector<float>{12.5, 1.5, 35, 1.5, 57.5, 1.5}));
  // keepdims = 0, negative axes.
  r = run(make_node("ReduceMean", {attr_int("keepdims", 0)}), 18, {data(x), constant(axes_tensor({-2}))});
  CHECK(r.shape == (Shape{3, 2}));
  CHECK(values_of<float>(r.output) == (std::vector<float>{12.5, 1.5, 35, 1.5, 57.5, 1.5}));
  // No axes: everything, at both opsets; an empty axes input too.
  r = run(make_node("ReduceMean"), 11, {data(x)});
  CHECK(r.shape == (Shape{1, 1, 1}));
  CHECK(values_of<float>(r.output) == std::vector<float>{18.25});
  r = run(make_node("ReduceMean", {attr_int("keepdims", 0)}), 18, {data(x), constant(axes_tensor({}))});
  CHECK(r.shape == Shape{});
  CHECK(values_of<float>(r.output) == std::vector<float>{18.25});
  r = run(make_node("ReduceMean"), 18, {data(x)});
  CHECK(r.shape == (Shape{1, 1, 1}));
  // … unless noop_with_empty_axes (18+), which passes the input through.
  r = run(make_node("ReduceMean", {attr_int("noop_with_empty_axes", 1)}), 18, {data(x), constant(axes_tensor({}))});
  CHECK(r.shape == x.shape);
  CHECK(values_of<float>(r.output) == values_of<float>(x));

  // Every subset of axes of a 4-D tensor, merged dimensions, size-1 dimensions, two threads.
  for (const Shape& s : {Shape{2, 3, 4, 5}, Shape{1, 7, 1, 33}, Shape{64, 3, 1, 130}})
    for (int mask = 1; mask < 16; ++mask)
      for (int keep = 0; keep < 2; ++keep) {
        std::vector<int64_t> axes;
        std::vector<bool> reduce(4);
        for (int d = 0; d < 4; ++d)
          if (mask & (1 << d)) {
            axes.push_back(d % 2 ? d - 4 : d);
            reduce[static_cast<size_t>(d)] = true;
          }
        const Tensor in = random_tensor(s);
        r = run(make_node("ReduceMean", {attr_ints("axes", axes), attr_int("keepdims", keep)}), 13, {data(in)}, 2);
        Shape want_shape;
        for (size_t d = 0; d < 4; ++d)
          if (!reduce[d] || keep) want_shape.push_back(reduce[d] ? 1 : s[d]);
        CHECK(r.shape == want_shape);
        if (!all_close(values_of<float>(r.output), naive_mean(in, reduce), 1e-5, 1e-5)) {
          std::fprintf(stderr, "  ReduceMean of %s, axes mask %d\n", shape_to_string(s).c_str(), mask);
          ++test::failure_count();
        }
      }

  // Integers divide as integers; an empty reduction is NaN.
  r = run(make_node("ReduceMean", {attr_ints("axes", {0})}), 13, {data(tensor<int64_t>({2, 2}, {1, 2, 4, 7}))});
  CHECK(values_of<int64_t>(r.output) == (std::vector<int64_t>{2, 4}));
  r = run(make_node("ReduceMean", {attr_ints("axes", {1})}), 13, {data(Tensor::allocate(DType::f32, {2, 0}))});
  CHECK(r.shape == (Shape{2, 1}));
  CHECK(std::isnan(values_of<float>(r.output)[0]) && std::isnan(values_of<float>(r.output)[1]));

  CHECK_THROWS(run(make_node("ReduceMean", {attr_ints("axes", {3})}), 13, {data(x)}), ErrorKind::invalid_model,
               "axes entry 3 is out of range for rank 3");
  CHECK_THROWS(run(make_node("ReduceMean", {attr_ints("axes", {1, -2})}), 13, {data(x)}), ErrorKind::invalid_model,
               "axes name axis 1 twice");
  CHECK_THROWS(run(make_node("ReduceMean"), 18, {data(x), data(axes_tensor({1}))}), ErrorKind::unsupported,
               "input 'axes' is computed from run-time data");
}

// ---- ArgMax --------------------------------------------------------------------------------------

std::vector<int64_t> naive_arg_max(const std::vector<float>& x, int64_t outer, int64_t D, int64_t inner, bool last) {
  std::vector<int64_t> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < inner; ++t) {
      int64_t best = 0;
      for (int64_t a = 1; a < D; ++a) {
        const float v = x[static_cast<size_t>((o * D + a) * inner + t)];
        const float b = x[static_cast<size_t>((o * D + best) * inner + t)];
        if (v > b || (last && v == b)) best = a;
      }
      out.push_back(best);
    }
  return out;
}

void arg_max_op() {
  // test_argmax_*_example: data [[2, 1], [3, 10]] and its select_last_index twin [[2, 2], [3, 10]].
  const Tensor x = tensor<float>({2, 2}, {2, 1, 3, 10});
  Result r = run(make_node("ArgMax", {attr_int("keepdims", 1)}), 13, {data(x)});
  CHECK(r.shape == (Shape{1, 2}) && r.dtype == DType::i64);
  CHECK(values_of<int64_t>(r.output) == (std::vector<int64_t>{1, 1}));
  r = run(make_node("ArgMax", {attr_int("axis", 1), attr_int("keepdims", 0)}), 13, {data(x)});
  CHECK(r.shape == (Shape{2}));
  CHECK(values_of<int64_t>(r.output) == (std::vector<int64_t>{0, 1}));
  r = run(make_node("ArgMax", {attr_int("axis", -1)}), 13, {data(x)});
  CHECK(r.shape == (Shape{2, 1}));
  CHECK(values_of<int64_t>(r.output) == (std::vector<int64_t>{0, 1}));

  // Ties: the first index, or from opset 12 the last one when select_last_index is set; opset 11
  // has no such attribute.
  const Tensor ties = tensor<float>({2, 2}, {2, 2, 3, 10});
  const Node last = make_node("ArgMax", {attr_int("axis", 1), attr_int("select_last_index", 1)});
  CHECK(values_of<int64_t>(run(last, 12, {data(ties)}).output) == (std::vector<int64_t>{1, 1}));
  CHECK(values_of<int64_t>(run(last, 11, {data(ties)}).output) == (std::vector<int64_t>{0, 1}));
  CHECK(values_of<int64_t>(run(make_node("ArgMax", {attr_int("axis", 1)}), 13, {data(ties)}).output) ==
        (std::vector<int64_t>{0, 1}));

  // Random data with many ties, every axis, strided and contiguous, two threads.
  for (const Shape& s : {Shape{2, 3, 4}, Shape{5, 17, 150}, Shape{40000}})
    for (int64_t axis = 0; axis < static_cast<int64_t>(s.size()); ++axis)
      for (int select_last = 0; select_last < 2; ++select_last) {
        std::vector<float> values = random_floats(rng, static_cast<size_t>(shape_size(s)));
        for (float& v : values) v = std::round(v * 4);
        const Tensor in = tensor<float>(s, values);
        r = run(make_node("ArgMax", {attr_int("axis", axis), attr_int("select_last_index", select_last)}), 13,
                {data(in)}, 2);
        const int a = static_cast<int>(axis);
        CHECK(values_of<int64_t>(r.output) ==
              naive_arg_max(values, dims_product(s, 0, a), s[static_cast<size_t>(a)],
                            dims_product(s, a + 1, static_cast<int>(s.size())), select_last != 0));
      }

  // Integer input.
  r = run(make_node("ArgMax", {attr_int("axis", 0), attr_int("keepdims", 0)}), 13,
          {data(tensor<int32_t>({3, 2}, {1, 9, 7, 3, 7, 9}))});
  CHECK(values_of<int64_t>(r.output) == (std::vector<int64_t>{1, 0}));

  CHECK_THROWS(run(make_node("ArgMax", {attr_int("axis", 2)}), 13, {data(x)}), ErrorKind::invalid_model,
               "attribute 'axis' 2 is out of range for rank 2");
  CHECK_THROWS(run(make_node("ArgMax", {attr_int("axis", 1)}), 13, {data(Tensor::allocate(DType::f32, {2, 0}))}),
               ErrorKind::invalid_model, "axis 1 of size 0");
}

}  // namespace

int main() {
  sgemm_matches_reference();
  sgemm_speed();
  small_batch_speed();
  gemm_op();
  matmul_op();
  fused_products_add_residuals();
  softmax_ops();
  softmax_rows_kernel();
  reduce_mean_op();
  arg_max_op();
  if (test::failures() == 0) std::printf("gemm_ops_test: all passed\n");
  return test::failures();
}
