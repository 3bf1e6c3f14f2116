// Reductions on the CPU: ReduceSum, ReduceMean, ReduceProd, ReduceL2, ReduceMax and ReduceMin, each a
// functor over one strided reduction written once; and ArgMax.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using cpu::arith_t;
using cpu::type_list;
using cpu::visit_dtype;

// Elements per parallel task, below which splitting costs more than it saves.
constexpr double kMinTaskElements = 1 << 15;

// The input of a reduction seen through as few dimensions as possible: dimensions of size 1 are
// dropped and neighbours that are both reduced or both kept are merged, so that the innermost
// dimension is one contiguous run, either summed into one output (reduced) or added element-wise into
// a contiguous run of outputs (kept). "Rows" are the positions of all the dimensions but the innermost.
struct ReduceGeometry {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  bool reduced[kMaxRank] = {};
  int64_t in_stride[kMaxRank] = {}, out_stride[kMaxRank] = {};  // out_stride is 0 along reduced dims
  int64_t reduced_count = 1;  // input elements per output
  int64_t out_count = 1;

  ReduceGeometry(const Shape& shape, const bool* reduce) {
    for (size_t d = 0; d < shape.size(); ++d) {
      const int64_t n = shape[d];
      (reduce[d] ? reduced_count : out_count) *= n;
      if (n == 1) continue;
      if (rank > 0 && reduced[rank - 1] == reduce[d]) {
        dims[rank - 1] *= n;
      } else {
        dims[rank] = n;
        reduced[rank] = reduce[d];
        ++rank;
      }
    }
    if (rank == 0) {  // a single element
      dims[0] = 1;
      rank = 1;
    }
    int64_t in_size = 1, out_size = 1;
    for (int d = rank - 1; d >= 0; --d) {
      in_stride[d] = in_size;
      in_size *= dims[d];
      out_stride[d] = reduced[d] ? 0 : out_size;
      if (!reduced[d]) out_size *= dims[d];
    }
  }

  int64_t rows() const { return dims_before(rank - 1); }
  int64_t dims_before(int end) const {
    int64_t n = 1;
    for (int d = 0; d < end; ++d) n *= dims[d];
    return n;
  }
};

// The reductions as functors over the machinery below: an identity, a map applied to each input
// element (ReduceL2 squares), an associative combine, and a finish given the reduced count (the mean
// divides, L2 takes the root). finish(identity, 0) is the result over an empty set: 0 for sums, 1 for
// products, the lowest value (−inf) for max, NaN (0 for integers) for the mean.
struct op_sum {
  template <class T> static T identity() { return T(0); }
  template <class T> static T map(T x) { return x; }
  template <class T> static T combine(T a, T b) { return T(arith_t<T>(a) + arith_t<T>(b)); }
  template <class T> static T finish(T acc, int64_t) { return acc; }
};
struct op_mean : op_sum {
  template <class T> static T finish(T acc, int64_t count) {
    if (count == 0) return std::numeric_limits<T>::has_quiet_NaN ? std::numeric_limits<T>::quiet_NaN() : T(0);
    return acc / static_cast<T>(count);
  }
};
struct op_prod {
  template <class T> static T identity() { return T(1); }
  template <class T> static T map(T x) { return x; }
  template <class T> static T combine(T a, T b) { return T(arith_t<T>(a) * arith_t<T>(b)); }
  template <class T> static T finish(T acc, int64_t) { return acc; }
};
struct op_l2 : op_sum {
  template <class T> static T map(T x) { return T(arith_t<T>(x) * arith_t<T>(x)); }
  template <class T> static T finish(T acc, int64_t) {
    return static_cast<T>(std::sqrt(static_cast<std::conditional_t<std::is_same_v<T, float>, float, double>>(acc)));
  }
};
// NaN wins max and min, as in numpy: once the accumulator is NaN no comparison replaces it.
struct op_max {
  template <class T> static T identity() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  template <class T> static T map(T x) { return x; }
  template <class T> static T combine(T a, T b) { return (b > a || b != b) ? b : a; }
  template <class T> static T finish(T acc, int64_t) { return acc; }
};
struct op_min {
  template <class T> static T identity() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  template <class T> static T map(T x) { return x; }
  template <class T> static T combine(T a, T b) { return (b < a || b != b) ? b : a; }
  template <class T> static T finish(T acc, int64_t) { return acc; }
};

// Op over x[0..n), through independent lanes (strict IEEE order forbids the compiler from
// vectorising a single running sum).
template <class Op, typename T> T reduce_contiguous(const T* x, int64_t n) {
  constexpr int kLanes = 16;
  T lanes[kLanes];
  for (int l = 0; l < kLanes; ++l) lanes[l] = Op::template identity<T>();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = Op::combine(lanes[l], Op::map(x[i + l]));
  T acc = Op::template identity<T>();
  for (; i < n; ++i) acc = Op::combine(acc, Op::map(x[i]));
  for (int l = 0; l < kLanes; ++l) acc = Op::combine(acc, lanes[l]);
  return acc;
}

// Combines every input row in [row_begin, row_end) into the outputs it reduces to; out starts at the
// identity.
template <class Op, typename T>
void reduce_rows(const ReduceGeometry& g, const T* in, T* out, int64_t row_begin, int64_t row_end) {
  const int last = g.rank - 1;
  const int64_t length = g.dims[last];
  int64_t index[kMaxRank] = {};
  int64_t in_offset = 0, out_offset = 0;
  for (int64_t r = row_begin, d = last - 1; d >= 0; --d) {
    index[d] = r % g.dims[d];
    r /= g.dims[d];
    in_offset += index[d] * g.in_stride[d];
    out_offset += index[d] * g.out_stride[d];
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    const T* src = in + in_offset;
    if (g.reduced[last]) {
      out[out_offset] = Op::combine(out[out_offset], reduce_contiguous<Op>(src, length));
    } else {
      T* dst = out + out_offset;
      for (int64_t t = 0; t < length; ++t) dst[t] = Op::combine(dst[t], Op::map(src[t]));
    }
    for (int d = last - 1; d >= 0; --d) {  // step to the next row, odometer-style
      in_offset += g.in_stride[d];
      out_offset += g.out_stride[d];
      if (++index[d] < g.dims[d]) break;
      index[d] = 0;
      in_offset -= g.dims[d] * g.in_stride[d];
      out_offset -= g.dims[d] * g.out_stride[d];
    }
  }
}

template <class Op, typename T> void reduce(const ReduceGeometry& g, const T* in, T* out, ThreadPool* pool) {
  if (g.out_count == 0) return;
  std::fill(out, out + g.out_count, Op::template identity<T>());
  if (g.reduced_count != 0) {
    const int64_t rows = g.rows();
    if (!g.reduced[0] && g.rank > 1) {
      // The outermost dimension is kept, so its slabs write disjoint outputs: split over it.
      const int64_t rows_per_slab = rows / g.dims[0];
      const double slab_elements = static_cast<double>(rows_per_slab) * static_cast<double>(g.dims[g.rank - 1]);
      const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / slab_elements));
      pool->parallel_for(g.dims[0], grain, [&](int64_t begin, int64_t end) {
        reduce_rows<Op>(g, in, out, begin * rows_per_slab, end * rows_per_slab);
      });
    } else {
      reduce_rows<Op>(g, in, out, 0, rows);
    }
  }
  for (int64_t i = 0; i < g.out_count; ++i) out[i] = Op::finish(out[i], g.reduced_count);
}

// Every reduction kernel: the axes (attribute, or input 1 from the opset that moved them), the
// noop_with_empty_axes rule, and the dtype dispatch over the types the op's schema admits.
template <class Op, class Types> class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(const KernelInit& init, bool axes_input)
      : label_(init.node.label()),
        axes_input_(axes_input),
        axes_(axes_input ? std::vector<int64_t>{} : init.attributes().get_ints("axes", {})),
        noop_with_empty_axes_(axes_input && init.attributes().get_int("noop_with_empty_axes", 0) != 0) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (rank > kMaxRank)
      fail(ErrorKind::unsupported, label_, ": input of rank ", rank, " exceeds the supported rank ", kMaxRank);
    const int64_t* axes = axes_.data();
    int64_t axis_count = static_cast<int64_t>(axes_.size());
    if (axes_input_ && ctx.has_input(1)) {
      const Tensor& t = ctx.input(1);
      if (t.dtype != DType::i64)
        fail(ErrorKind::invalid_argument, label_, ": input 'axes' must be int64, got ", dtype_name(t.dtype));
      axes = t.data_as<int64_t>();
      axis_count = t.size();
    }
    bool reduce_axis[kMaxRank] = {};
    if (axis_count == 0) {
      if (noop_with_empty_axes_) {
        copy(x, y);
        return;
      }
      std::fill(reduce_axis, reduce_axis + rank, true);
    }
    for (int64_t i = 0; i < axis_count; ++i) {
      if (axes[i] < -rank || axes[i] >= rank)
        fail(ErrorKind::out_of_range, label_, ": axes entry ", axes[i], " is out of range for rank ", rank);
      reduce_axis[axes[i] < 0 ? axes[i] + rank : axes[i]] = true;
    }
    const ReduceGeometry g(x.shape, reduce_axis);
    if (y.dtype != x.dtype || y.size() != g.out_count)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not match the reduction of ",
           shape_to_string(x.shape));
    visit_dtype(x.dtype, Types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      reduce<Op>(g, x.data_as<T>(), y.data_as<T>(), ctx.threads);
    });
  }

 private:
  static void copy(const Tensor& x, Tensor& y) {
    const auto* src = static_cast<const unsigned char*>(x.data);
    std::copy(src, src + x.nbytes(), static_cast<unsigned char*>(y.data));
  }

  std::string label_;
  bool axes_input_;             // from the opset that made axes an input
  std::vector<int64_t> axes_;   // before it: from the attribute
  bool noop_with_empty_axes_;
};

using mean_types = type_list<float, double, int32_t, int64_t>;
using arithmetic_types = type_list<float, double, int32_t, int64_t, uint32_t, uint64_t>;
using ordered_types = type_list<float, double, int32_t, int64_t, uint32_t, uint64_t, int8_t, uint8_t, bool>;

template <class Op, class Types> std::unique_ptr<Kernel> make_reduce_axes_attribute(const KernelInit& init) {
  return std::make_unique<ReduceKernel<Op, Types>>(init, false);
}
template <class Op, class Types> std::unique_ptr<Kernel> make_reduce_axes_input(const KernelInit& init) {
  return std::make_unique<ReduceKernel<Op, Types>>(init, true);
}

// ArgMax over D elements `inner` apart, for `width` neighbouring positions at once (the loops run
// along the contiguous inner dimension). A later element wins only if greater or, with
// select_last_index, also if equal.
constexpr int64_t kColumns = 64;

template <typename T>
void arg_max_columns(const T* x, int64_t D, int64_t inner, int64_t width, bool last, int64_t* out) {
  T best[kColumns];
  for (int64_t t = 0; t < width; ++t) {
    best[t] = x[t];
    out[t] = 0;
  }
  for (int64_t a = 1; a < D; ++a) {
    const T* row = x + a * inner;
    for (int64_t t = 0; t < width; ++t) {
      const bool better = last ? row[t] >= best[t] : row[t] > best[t];
      best[t] = better ? row[t] : best[t];
      out[t] = better ? a : out[t];
    }
  }
}

template <typename T> int64_t arg_max_row(const T* x, int64_t D, bool last) {
  T best = x[0];
  int64_t index = 0;
  for (int64_t a = 1; a < D; ++a) {
    if (last ? x[a] >= best : x[a] > best) {
      best = x[a];
      index = a;
    }
  }
  return index;
}

// The input viewed as [outer, D, inner] around the axis; the output as [outer, inner].
template <typename T>
void arg_max(const T* x, int64_t outer, int64_t D, int64_t inner, bool last, int64_t* out, ThreadPool* pool) {
  if (outer == 0 || inner == 0 || D == 0) return;
  if (inner == 1) {
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / static_cast<double>(D)));
    pool->parallel_for(outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) out[o] = arg_max_row(x + o * D, D, last);
    });
    return;
  }
  const int64_t blocks = (inner + kColumns - 1) / kColumns;
  const double task_elements = static_cast<double>(D) * static_cast<double>(std::min(inner, kColumns));
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / task_elements));
  pool->parallel_for(outer * blocks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / blocks, t0 = (task % blocks) * kColumns;
      arg_max_columns(x + o * D * inner + t0, D, inner, std::min(kColumns, inner - t0), last, out + o * inner + t0);
    }
  });
}

class ArgMaxKernel final : public Kernel {
 public:
  ArgMaxKernel(const KernelInit& init, bool has_select_last_index)
      : label_(init.node.label()),
        axis_(init.attributes().get_int("axis", 0)),
        select_last_index_(has_select_last_index && init.attributes().get_int("select_last_index", 0) != 0) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    int64_t* out = ctx.output(0).data_as<int64_t>();
    const int rank = x.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::invalid_model, label_, ": axis ", axis_, " is out of range for rank ", rank);
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    const int64_t outer = dims_product(x.shape, 0, axis), D = x.shape[static_cast<size_t>(axis)];
    const int64_t inner = dims_product(x.shape, axis + 1, rank);
    const bool last = select_last_index_;
    switch (x.dtype) {
      case DType::f32: arg_max(x.data_as<float>(), outer, D, inner, last, out, ctx.threads); break;
      case DType::f64: arg_max(x.data_as<double>(), outer, D, inner, last, out, ctx.threads); break;
      case DType::i32: arg_max(x.data_as<int32_t>(), outer, D, inner, last, out, ctx.threads); break;
      case DType::i64: arg_max(x.data_as<int64_t>(), outer, D, inner, last, out, ctx.threads); break;
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    }
  }

 private:
  std::string label_;
  int64_t axis_;
  bool select_last_index_;
};

std::unique_ptr<Kernel> make_arg_max_1(const KernelInit& init) { return std::make_unique<ArgMaxKernel>(init, false); }
std::unique_ptr<Kernel> make_arg_max_12(const KernelInit& init) { return std::make_unique<ArgMaxKernel>(init, true); }

}  // namespace

INFERD_CPU_KERNEL("ReduceMean", 1, 17, (make_reduce_axes_attribute<op_mean, mean_types>));
INFERD_CPU_KERNEL("ReduceMean", 18, kMaxOpset, (make_reduce_axes_input<op_mean, mean_types>));
INFERD_CPU_KERNEL("ReduceSum", 1, 12, (make_reduce_axes_attribute<op_sum, arithmetic_types>));
INFERD_CPU_KERNEL("ReduceSum", 13, kMaxOpset, (make_reduce_axes_input<op_sum, arithmetic_types>));
INFERD_CPU_KERNEL("ReduceProd", 1, 17, (make_reduce_axes_attribute<op_prod, arithmetic_types>));
INFERD_CPU_KERNEL("ReduceProd", 18, kMaxOpset, (make_reduce_axes_input<op_prod, arithmetic_types>));
INFERD_CPU_KERNEL("ReduceL2", 1, 17, (make_reduce_axes_attribute<op_l2, arithmetic_types>));
INFERD_CPU_KERNEL("ReduceL2", 18, kMaxOpset, (make_reduce_axes_input<op_l2, arithmetic_types>));
INFERD_CPU_KERNEL("ReduceMax", 1, 17, (make_reduce_axes_attribute<op_max, ordered_types>));
INFERD_CPU_KERNEL("ReduceMax", 18, kMaxOpset, (make_reduce_axes_input<op_max, ordered_types>));
INFERD_CPU_KERNEL("ReduceMin", 1, 17, (make_reduce_axes_attribute<op_min, ordered_types>));
INFERD_CPU_KERNEL("ReduceMin", 18, kMaxOpset, (make_reduce_axes_input<op_min, ordered_types>));
INFERD_CPU_KERNEL("ArgMax", 1, 11, make_arg_max_1);
INFERD_CPU_KERNEL("ArgMax", 12, kMaxOpset, make_arg_max_12);

}  // namespace inferd
