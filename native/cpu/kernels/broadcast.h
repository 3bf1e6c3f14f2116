// The machinery every elementwise CPU kernel runs on, written once: dtype dispatch, the unary map and
// the numpy-broadcasting binary map. An op is a functor plugged into it:
//   struct op_add { template <class T> T operator()(T a, T b) const { return a + b; } };
//   binary_map(a, b, c, walk, op_add{}, pool);
//
// The binary map never indexes element by element through N-d strides. Its plan merges adjacent
// dimensions that both inputs step through the same way, so that what is left is an outer walk over
// rows and one contiguous inner loop per row, in which each input either advances (stride 1) or
// stays put (stride 0, a broadcast value). Equal shapes and scalar operands become a single flat
// loop; those are split across threads, and so are the rows of a large N-d walk.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/kernel.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "inferd/dtype.h"
#include "inferd/error.h"
#include "inferd/tensor.h"

namespace inferd::cpu {

// Below this many elements a loop runs on the calling thread: waking workers costs more than it saves.
inline constexpr int64_t kParallelGrain = int64_t{1} << 16;

// ---- dtype dispatch ------------------------------------------------------------------------------

template <class... Ts> struct type_list {};

using float_types = type_list<float, double>;
using numeric_types =
    type_list<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;

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
// otherwise promote to int and overflow it.) Floating types compute in themselves.
template <class T, bool = std::is_integral_v<T>> struct arith_type { using type = T; };
template <class T> struct arith_type<T, true> {
  using type = std::conditional_t<(sizeof(T) > 4), uint64_t, uint32_t>;
};
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

// ---- binary broadcast ----------------------------------------------------------------------------

// How c = op(a, b) walks its operands: `rank` merged dimensions of the output, and for each the
// element stride of a and of b along it (0 where that input is broadcast). The innermost stride of
// each input is always 0 or 1.
struct broadcast_walk {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t a_stride[kMaxRank] = {};
  int64_t b_stride[kMaxRank] = {};
};

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

// Plans c = op(a, b) for c of dims `c_dims`. False when a or b does not broadcast to c or c has more
// than kMaxRank dims.
inline bool plan_broadcast(const int64_t* a_dims, int a_rank, const int64_t* b_dims, int b_rank,
                           const int64_t* c_dims, int c_rank, broadcast_walk* walk) {
  if (c_rank > kMaxRank) return false;
  int64_t as[kMaxRank], bs[kMaxRank];
  if (!detail::broadcast_input_strides(a_dims, a_rank, c_dims, c_rank, as) ||
      !detail::broadcast_input_strides(b_dims, b_rank, c_dims, c_rank, bs))
    return false;
  // Merge each dim into the one outside it when, for both inputs, stepping the outer dim once is
  // the same as stepping the inner one all the way (both contiguous, or both broadcast). Size-1
  // dims are skipped: they do not move anything. [2,3,4] + [4] is walked as [6,4].
  broadcast_walk& w = *walk;
  w.rank = 0;
  for (int d = 0; d < c_rank; ++d) {
    if (c_dims[d] == 1) continue;
    const int last = w.rank - 1;
    if (last >= 0 && w.a_stride[last] == as[d] * c_dims[d] && w.b_stride[last] == bs[d] * c_dims[d]) {
      w.dims[last] *= c_dims[d];
      w.a_stride[last] = as[d];
      w.b_stride[last] = bs[d];
      continue;
    }
    w.dims[w.rank] = c_dims[d];
    w.a_stride[w.rank] = as[d];
    w.b_stride[w.rank] = bs[d];
    ++w.rank;
  }
  if (w.rank == 0) {  // a single element
    w.rank = 1;
    w.dims[0] = 1;
    w.a_stride[0] = w.b_stride[0] = 0;
  }
  return true;
}

inline bool plan_broadcast(const Shape& a, const Shape& b, const Shape& c, broadcast_walk* walk) {
  return plan_broadcast(a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()), c.data(),
                        static_cast<int>(c.size()), walk);
}

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
  const int64_t n = w.dims[inner];
  const int64_t sa = w.a_stride[inner], sb = w.b_stride[inner];
  int64_t rows = 1;
  for (int d = 0; d < inner; ++d) rows *= w.dims[d];
  if (rows == 0 || n == 0) return;

  if (rows == 1) {  // equal shapes, or a scalar operand: one flat loop
    pool.parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) {
      binary_row(a + begin * sa, sa, b + begin * sb, sb, c + begin, end - begin, op);
    });
    return;
  }

  const int64_t row_grain = std::max<int64_t>(1, kParallelGrain / n);
  pool.parallel_for(rows, row_grain, [&](int64_t first, int64_t last) {
    // Position of row `first` in the outer dims, decoded once; later rows count up like an odometer.
    int64_t index[kMaxRank];
    int64_t a_offset = 0, b_offset = 0, rest = first;
    for (int d = inner - 1; d >= 0; --d) {
      index[d] = rest % w.dims[d];
      rest /= w.dims[d];
      a_offset += index[d] * w.a_stride[d];
      b_offset += index[d] * w.b_stride[d];
    }
    for (int64_t row = first; row < last; ++row) {
      binary_row(a + a_offset, sa, b + b_offset, sb, c + row * n, n, op);
      for (int d = inner - 1; d >= 0; --d) {
        a_offset += w.a_stride[d];
        b_offset += w.b_stride[d];
        if (++index[d] < w.dims[d]) break;
        a_offset -= w.a_stride[d] * w.dims[d];
        b_offset -= w.b_stride[d] * w.dims[d];
        index[d] = 0;
      }
    }
  });
}

}  // namespace inferd::cpu
