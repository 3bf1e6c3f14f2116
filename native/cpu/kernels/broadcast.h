// The machinery every elementwise CPU kernel runs on, written once: dtype dispatch, the unary map and
// the numpy-broadcasting maps over two inputs (binary_map), three (ternary_map, for Where) and an
// accumulator (accumulate_map, for the variadic Sum, Max …). An op is a functor plugged into it:
//   struct op_add { template <class T> T operator()(T a, T b) const { return a + b; } };
//   binary_map(a, b, c, walk, op_add{}, pool);
//
// The maps never index element by element through N-d strides. Their plan merges adjacent dimensions
// that every input steps through the same way, so that what is left is an outer walk over rows and
// one contiguous inner loop per row, in which each input either advances (stride 1) or stays put
// (stride 0, a broadcast value). Equal shapes and scalar operands become a single flat loop; those are
// split across threads, and so are the rows of a large N-d walk.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "core/kernel.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "inferd/dtype.h"
#include "inferd/error.h"
#include "inferd/tensor.h"

namespace inferd::cpu {

// A float16 element. Ops compute on it in float (it converts both ways implicitly) and store the
// result rounded to the nearest half, which is what numpy's float16 arithmetic gives.
struct half {
  uint16_t bits;
  half() = default;
#if defined(__F16C__)
  half(float f) : bits(static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT))) {}
  operator float() const { return _cvtsh_ss(bits); }
#else
  half(float f) : bits(float_to_half(f)) {}
  operator float() const { return half_to_float(bits); }
#endif
};

}  // namespace inferd::cpu

namespace inferd {
template <> struct dtype_of_t<cpu::half> { static constexpr DType value = DType::f16; };
}  // namespace inferd

namespace inferd::cpu {

// Below this many elements a loop runs on the calling thread: waking workers costs more than it saves.
inline constexpr int64_t kParallelGrain = int64_t{1} << 16;

// ---- dtype dispatch ------------------------------------------------------------------------------

template <class... Ts> struct type_list {};

using float_types = type_list<float, double>;
using numeric_types =
    type_list<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;
using float_half_types = type_list<float, double, half>;
using numeric_half_types =
    type_list<float, double, half, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;

// True for the types computed as floating point (half included).
template <class T> inline constexpr bool is_float_v = std::is_floating_point_v<T> || std::is_same_v<T, half>;

// Calls f(T{}) where T is the C++ type of `dtype`, for the types listed; any other dtype throws
// Error(unsupported) naming `who` (the node). Shape functions reject those earlier; this is the guard
// for a kernel reached some other way.
template <class F, class... Ts>
void visit_dtype(DType dtype, type_list<Ts...>, const std::string& who, F&& f) {
  const bool handled = ((dtype == dtype_of<Ts> ? (f(Ts{}), true) : false) || ...);
  if (!handled)
    fail(ErrorKind::unsupported, who, ": the CPU kernel does not support type ", dtype_name(dtype));
}

// ---- defined integer arithmetic ------------------------------------------------------------------

// The type + - * are computed in: integers go through an unsigned type of at least 32 bits, so that
// overflow wraps around (as two's complement) instead of being undefined. (uint16 * uint16 would
// otherwise promote to int and overflow it.) Floating types compute in themselves, half in float.
template <class T, bool = std::is_integral_v<T>> struct arith_type { using type = T; };
template <class T> struct arith_type<T, true> {
  using type = std::conditional_t<(sizeof(T) > 4), uint64_t, uint32_t>;
};
template <> struct arith_type<half, false> { using type = float; };
template <class T> using arith_t = typename arith_type<T>::type;

// ---- unary map -----------------------------------------------------------------------------------

// y[i] = op(x[i]) for i in [0, n).
template <class X, class Y, class Op>
void unary_map(const X* x, Y* y, int64_t n, const Op& op, ThreadPool& pool, int64_t grain = kParallelGrain) {
  pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    const X* __restrict__ in = x;
    Y* __restrict__ out = y;
    for (int64_t i = begin; i < end; ++i) out[i] = op(in[i]);
  });
}

// A kernel that is nothing but y = op(x) over the dtypes in `Types`: Sqrt, Relu, Tanh … `op` may
// carry parameters read from attributes when the kernel is made (LeakyRelu's alpha).
template <class Op, class Types> class unary_kernel final : public Kernel {
 public:
  explicit unary_kernel(const KernelInit& init, Op op = {}) : label_(init.node.label()), op_(op) {}
  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    visit_dtype(x.dtype, Types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      unary_map(x.data_as<T>(), y.data_as<T>(), x.size(), op_, *ctx.threads);
    });
  }

 private:
  std::string label_;
  Op op_;
};

// ---- broadcast walks -----------------------------------------------------------------------------

// How an output is walked while N inputs are read broadcast to it: `rank` merged dimensions of the
// output, and for each the element stride of every input along it (0 where that input is broadcast).
// The innermost stride of each input is always 0 or 1.
template <int N> struct nary_walk {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[N][kMaxRank] = {};
};
using broadcast_walk = nary_walk<2>;
using ternary_walk = nary_walk<3>;

namespace detail {

// Element strides of an input of rank `in_rank` read as if broadcast to `out` dims (numpy rules:
// aligned at the right, missing or size-1 dims repeat). False when the input does not broadcast.
inline bool broadcast_input_strides(const int64_t* in, int in_rank, const int64_t* out, int out_rank,
                                    int64_t* strides) {
  if (in_rank > out_rank) return false;
  int64_t step = 1;
  for (int d = out_rank - 1; d >= 0; --d) {
    const int k = d - (out_rank - in_rank);
    const int64_t dim = k >= 0 ? in[k] : 1;
    if (dim == out[d]) strides[d] = dim == 1 ? 0 : step;
    else if (dim == 1) strides[d] = 0;
    else return false;
    step *= dim;
  }
  return true;
}

}  // namespace detail

// Plans the walk of an output of dims `c_dims` over inputs k < N of dims in_dims[k] (rank in_ranks[k]).
// False when an input does not broadcast to the output or the output has more than kMaxRank dims.
template <int N>
bool plan_walk(const int64_t* const* in_dims, const int* in_ranks, const int64_t* c_dims, int c_rank,
               nary_walk<N>* walk) {
  if (c_rank > kMaxRank) return false;
  int64_t s[N][kMaxRank];
  for (int k = 0; k < N; ++k)
    if (!detail::broadcast_input_strides(in_dims[k], in_ranks[k], c_dims, c_rank, s[k])) return false;
  // Merge each dim into the one outside it when, for every input, stepping the outer dim once is the
  // same as stepping the inner one all the way (contiguous, or broadcast). Size-1 dims are skipped:
  // they do not move anything. [2,3,4] + [4] is walked as [6,4].
  nary_walk<N>& w = *walk;
  w.rank = 0;
  for (int d = 0; d < c_rank; ++d) {
    if (c_dims[d] == 1) continue;
    const int last = w.rank - 1;
    bool merges = last >= 0;
    for (int k = 0; k < N && merges; ++k) merges = w.strides[k][last] == s[k][d] * c_dims[d];
    if (merges) {
      w.dims[last] *= c_dims[d];
      for (int k = 0; k < N; ++k) w.strides[k][last] = s[k][d];
      continue;
    }
    w.dims[w.rank] = c_dims[d];
    for (int k = 0; k < N; ++k) w.strides[k][w.rank] = s[k][d];
    ++w.rank;
  }
  if (w.rank == 0) {  // a single element
    w.rank = 1;
    w.dims[0] = 1;
    for (int k = 0; k < N; ++k) w.strides[k][0] = 0;
  }
  return true;
}

// c = op(a, b) for c of dims `c_dims`.
inline bool plan_broadcast(const int64_t* a_dims, int a_rank, const int64_t* b_dims, int b_rank,
                           const int64_t* c_dims, int c_rank, broadcast_walk* walk) {
  const int64_t* dims[2] = {a_dims, b_dims};
  const int ranks[2] = {a_rank, b_rank};
  return plan_walk<2>(dims, ranks, c_dims, c_rank, walk);
}

inline bool plan_broadcast(const Shape& a, const Shape& b, const Shape& c, broadcast_walk* walk) {
  return plan_broadcast(a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()), c.data(),
                        static_cast<int>(c.size()), walk);
}

// out = op(a, b, c), e.g. Where's condition, X and Y.
inline bool plan_broadcast(const Shape& a, const Shape& b, const Shape& c, const Shape& out, ternary_walk* walk) {
  const int64_t* dims[3] = {a.data(), b.data(), c.data()};
  const int ranks[3] = {static_cast<int>(a.size()), static_cast<int>(b.size()), static_cast<int>(c.size())};
  return plan_walk<3>(dims, ranks, out.data(), static_cast<int>(out.size()), walk);
}

// out = op(out, b), for accumulate_map.
inline bool plan_broadcast(const Shape& b, const Shape& out, nary_walk<1>* walk) {
  const int64_t* dims[1] = {b.data()};
  const int ranks[1] = {static_cast<int>(b.size())};
  return plan_walk<1>(dims, ranks, out.data(), static_cast<int>(out.size()), walk);
}

// Calls row(offsets, out_offset, n) for every contiguous run of a planned walk, where offsets[k] is
// where input k's run starts, out_offset where the (dense, row-major) output's does, and n its length.
// Runs are split across the pool: a flat walk by elements, an N-d walk by whole rows.
template <int N, class Row> void for_each_run(const nary_walk<N>& w, ThreadPool& pool, const Row& row) {
  const int inner = w.rank - 1;
  const int64_t n = w.dims[inner];
  int64_t rows = 1;
  for (int d = 0; d < inner; ++d) rows *= w.dims[d];
  if (rows == 0 || n == 0) return;

  if (rows == 1) {  // equal shapes, or scalar operands: one flat loop
    pool.parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) {
      int64_t offsets[N];
      for (int k = 0; k < N; ++k) offsets[k] = begin * w.strides[k][inner];
      row(offsets, begin, end - begin);
    });
    return;
  }

  const int64_t row_grain = std::max<int64_t>(1, kParallelGrain / n);
  pool.parallel_for(rows, row_grain, [&](int64_t first, int64_t last) {
    // Position of row `first` in the outer dims, decoded once; later rows count up like an odometer.
    int64_t index[kMaxRank];
    int64_t offsets[N] = {};
    int64_t rest = first;
    for (int d = inner - 1; d >= 0; --d) {
      index[d] = rest % w.dims[d];
      rest /= w.dims[d];
      for (int k = 0; k < N; ++k) offsets[k] += index[d] * w.strides[k][d];
    }
    for (int64_t r = first; r < last; ++r) {
      row(offsets, r * n, n);
      for (int d = inner - 1; d >= 0; --d) {
        for (int k = 0; k < N; ++k) offsets[k] += w.strides[k][d];
        if (++index[d] < w.dims[d]) break;
        for (int k = 0; k < N; ++k) offsets[k] -= w.strides[k][d] * w.dims[d];
        index[d] = 0;
      }
    }
  });
}

// ---- binary map ----------------------------------------------------------------------------------

// One contiguous row: c[i] = op(a[i·sa], b[i·sb]) with sa, sb ∈ {0, 1}. A broadcast operand is
// loaded once, so each variant is a plain loop the compiler vectorises.
template <class A, class B, class C, class Op>
inline void binary_row(const A* __restrict__ a, int64_t sa, const B* __restrict__ b, int64_t sb,
                       C* __restrict__ c, int64_t n, const Op& op) {
  if (sa != 0 && sb != 0) {
    for (int64_t i = 0; i < n; ++i) c[i] = op(a[i], b[i]);
  } else if (sa != 0) {
    const B bv = *b;
    for (int64_t i = 0; i < n; ++i) c[i] = op(a[i], bv);
  } else if (sb != 0) {
    const A av = *a;
    for (int64_t i = 0; i < n; ++i) c[i] = op(av, b[i]);
  } else {
    const C cv = op(*a, *b);
    for (int64_t i = 0; i < n; ++i) c[i] = cv;
  }
}

// c = op(a, b) over a planned walk; c is dense row-major.
template <class A, class B, class C, class Op>
void binary_map(const A* a, const B* b, C* c, const broadcast_walk& w, const Op& op, ThreadPool& pool) {
  const int inner = w.rank - 1;
  const int64_t sa = w.strides[0][inner], sb = w.strides[1][inner];
  for_each_run(w, pool, [&](const int64_t* at, int64_t out, int64_t n) {
    binary_row(a + at[0], sa, b + at[1], sb, c + out, n, op);
  });
}

// ---- accumulate map ------------------------------------------------------------------------------

// c = op(c, b) in place over a walk planned with plan_broadcast(b, c): the variadic ops (Sum, Max …)
// fold each further input into the output this way.
template <class B, class C, class Op>
void accumulate_map(const B* b, C* c, const nary_walk<1>& w, const Op& op, ThreadPool& pool) {
  const int64_t sb = w.strides[0][w.rank - 1];
  for_each_run(w, pool, [&](const int64_t* at, int64_t out, int64_t n) {
    const B* __restrict__ src = b + at[0];
    C* __restrict__ dst = c + out;
    if (sb != 0) {
      for (int64_t i = 0; i < n; ++i) dst[i] = op(dst[i], src[i]);
    } else {
      const B bv = *src;
      for (int64_t i = 0; i < n; ++i) dst[i] = op(dst[i], bv);
    }
  });
}

// ---- ternary map ---------------------------------------------------------------------------------

namespace detail {

// d[i] = op(a[i·sa], b[i·sb], c[i·sc]) with each stride fixed to 0 or 1 at compile time, so that each
// of the eight variants is a plain loop.
template <bool kA, bool kB, bool kC, class A, class B, class C, class D, class Op>
void ternary_row(const A* __restrict__ a, const B* __restrict__ b, const C* __restrict__ c, D* __restrict__ d,
                 int64_t n, const Op& op) {
  for (int64_t i = 0; i < n; ++i) d[i] = op(a[kA ? i : 0], b[kB ? i : 0], c[kC ? i : 0]);
}

}  // namespace detail

// out = op(a, b, c) over a planned walk; out is dense row-major.
template <class A, class B, class C, class D, class Op>
void ternary_map(const A* a, const B* b, const C* c, D* out, const ternary_walk& w, const Op& op, ThreadPool& pool) {
  using detail::ternary_row;
  const int inner = w.rank - 1;
  const int variant = (w.strides[0][inner] != 0 ? 4 : 0) | (w.strides[1][inner] != 0 ? 2 : 0) |
                      (w.strides[2][inner] != 0 ? 1 : 0);
  for_each_run(w, pool, [&](const int64_t* at, int64_t o, int64_t n) {
    const A* pa = a + at[0];
    const B* pb = b + at[1];
    const C* pc = c + at[2];
    D* pd = out + o;
    switch (variant) {
      case 7: ternary_row<true, true, true>(pa, pb, pc, pd, n, op); break;
      case 6: ternary_row<true, true, false>(pa, pb, pc, pd, n, op); break;
      case 5: ternary_row<true, false, true>(pa, pb, pc, pd, n, op); break;
      case 4: ternary_row<true, false, false>(pa, pb, pc, pd, n, op); break;
      case 3: ternary_row<false, true, true>(pa, pb, pc, pd, n, op); break;
      case 2: ternary_row<false, true, false>(pa, pb, pc, pd, n, op); break;
      case 1: ternary_row<false, false, true>(pa, pb, pc, pd, n, op); break;
      default: ternary_row<false, false, false>(pa, pb, pc, pd, n, op); break;
    }
  });
}

// ---- the broadcasting rule of binary ops ---------------------------------------------------------

// How an op's two inputs broadcast. From opset 7, numpy's rules. Before (Add-1/6, Equal-1, And-1 …),
// B is broadcast onto A only when `broadcast` is 1, laid along A's dims from `axis` (by default A's
// last dims) or a single element; that is numpy broadcasting once B's dims are padded with 1s on both
// sides.
class broadcast_rule {
 public:
  broadcast_rule(const KernelInit& init, bool legacy)
      : legacy_(legacy && init.attributes().get_int("broadcast", 0) == 1),
        has_axis_(init.attributes().has("axis")),
        axis_(init.attributes().get_int("axis", 0)) {}

  void plan(const std::string& who, const Tensor& a, const Tensor& b, const Tensor& c,
            broadcast_walk* walk) const {
    const bool ok = legacy_ ? plan_legacy(a.shape, b.shape, c.shape, walk)
                            : plan_broadcast(a.shape, b.shape, c.shape, walk);
    if (!ok)
      fail(ErrorKind::out_of_range, who, ": input shapes ", shape_to_string(a.shape), " and ",
           shape_to_string(b.shape), " do not broadcast to the output shape ", shape_to_string(c.shape));
  }

 private:
  bool plan_legacy(const Shape& a, const Shape& b, const Shape& c, broadcast_walk* walk) const {
    const int a_rank = static_cast<int>(a.size()), b_rank = static_cast<int>(b.size());
    if (a_rank > kMaxRank) return false;
    const int c_rank = static_cast<int>(c.size());
    int64_t b_dims[kMaxRank] = {};
    if (shape_size(b) == 1) return plan_broadcast(a.data(), a_rank, b_dims, 0, c.data(), c_rank, walk);
    int64_t axis = has_axis_ ? axis_ : a_rank - b_rank;
    if (axis < 0) axis += a_rank;
    if (b_rank > a_rank || axis < 0 || axis + b_rank > a_rank) return false;
    for (int d = 0; d < a_rank; ++d) b_dims[d] = d >= axis && d < axis + b_rank ? b[d - axis] : 1;
    return plan_broadcast(a.data(), a_rank, b_dims, a_rank, c.data(), c_rank, walk);
  }

  bool legacy_;
  bool has_axis_;
  int64_t axis_;
};

}  // namespace inferd::cpu
