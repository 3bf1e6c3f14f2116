// CPU kernels of Slice and Split: strided and blocked copies of bytes, whatever the element type.
//
// Slice reads its starts/ends/axes/steps (inputs from opset 10, attributes before) again when it runs
// and normalises them as the shape function did; the plan has already fixed the output's shape, which
// the kernel checks against its own count. The copy merges the trailing axes that are taken whole
// into one contiguous block, so a slice along an outer axis is a few large memcpy calls.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

// Enough bytes per parallel chunk to outweigh waking a thread.
constexpr int64_t kBytesPerTask = 64 * 1024;

// Copies one block of B bytes, or of `bytes` when B is 0 (sizes known only at run time). A fixed-size
// memcpy compiles to plain moves and, unlike a typed load, needs no alignment.
template <size_t B> inline void copy_block(char* dst, const char* src, size_t bytes) {
  if constexpr (B != 0) std::memcpy(dst, src, B);
  else std::memcpy(dst, src, bytes);
}

template <typename Fn> void with_block_size(size_t bytes, Fn&& fn) {
  switch (bytes) {
    case 1: fn(std::integral_constant<size_t, 1>{}); break;
    case 2: fn(std::integral_constant<size_t, 2>{}); break;
    case 4: fn(std::integral_constant<size_t, 4>{}); break;
    case 8: fn(std::integral_constant<size_t, 8>{}); break;
    case 16: fn(std::integral_constant<size_t, 16>{}); break;
    default: fn(std::integral_constant<size_t, 0>{}); break;
  }
}

// ---- Slice ---------------------------------------------------------------------------------------

// Element i of a 1-D int32/int64 tensor.
int64_t int_at(const Tensor& t, int64_t i) {
  return t.dtype == DType::i32 ? t.data_as<int32_t>()[i] : t.data_as<int64_t>()[i];
}

// Where the slice starts and how it steps, per input axis (0 and 1 on the axes it leaves whole).
struct SliceWalk {
  int rank = 0;
  int64_t start[kMaxRank] = {};
  int64_t step[kMaxRank] = {};
  bool sliced[kMaxRank] = {};
};

// out[i] = in[start + i·step] along every axis; `out` dims are the counts.
void strided_copy(const char* src, char* dst, const Shape& in, const SliceWalk& w, const Shape& out, size_t elem,
                  ThreadPool& threads) {
  const int rank = w.rank;
  int64_t stride[kMaxRank];
  row_major_strides(in, stride);
  // Trailing axes taken whole merge into one block of contiguous bytes.
  size_t block = elem;
  int last = rank - 1;
  while (last >= 0 && w.start[last] == 0 && (w.step[last] == 1 || in[static_cast<size_t>(last)] == 1) &&
         out[static_cast<size_t>(last)] == in[static_cast<size_t>(last)]) {
    block *= static_cast<size_t>(in[static_cast<size_t>(last)]);
    --last;
  }
  if (shape_size(out) == 0) return;
  if (last < 0) {
    std::memcpy(dst, src, block);
    return;
  }
  const int64_t n = out[static_cast<size_t>(last)];
  const bool contiguous = w.step[last] == 1;
  const size_t row_bytes = static_cast<size_t>(n) * block;
  const int64_t inner_step = w.step[last] * stride[last] * static_cast<int64_t>(elem);  // bytes
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= out[static_cast<size_t>(d)];
  const int64_t grain = std::max<int64_t>(1, kBytesPerTask / static_cast<int64_t>(std::max<size_t>(row_bytes, 1)));
  with_block_size(block, [&](auto size) {
    constexpr size_t B = decltype(size)::value;
    threads.parallel_for(rows, grain, [&](int64_t first, int64_t end) {
      int64_t index[kMaxRank] = {};
      int64_t offset = w.start[last] * stride[last];  // elements
      for (int64_t r = first, d = last - 1; d >= 0; --d) {
        index[d] = r % out[static_cast<size_t>(d)];
        r /= out[static_cast<size_t>(d)];
        offset += (w.start[d] + index[d] * w.step[d]) * stride[d];
      }
      char* to = dst + static_cast<size_t>(first) * row_bytes;
      for (int64_t row = first; row < end; ++row, to += row_bytes) {
        const char* from = src + offset * static_cast<int64_t>(elem);
        if (contiguous) {
          std::memcpy(to, from, row_bytes);
        } else {
          for (int64_t i = 0; i < n; ++i) copy_block<B>(to + static_cast<size_t>(i) * block, from + i * inner_step, block);
        }
        for (int d = last - 1; d >= 0; --d) {
          offset += w.step[d] * stride[d];
          if (++index[d] < out[static_cast<size_t>(d)]) break;
          offset -= out[static_cast<size_t>(d)] * w.step[d] * stride[d];
          index[d] = 0;
        }
      }
    });
  });
}

class SliceKernel final : public Kernel {
 public:
  SliceKernel(const KernelInit& init, bool from_inputs) : label_(init.node.label()), from_inputs_(from_inputs) {
    if (!from_inputs) {
      const Attributes& a = init.attributes();
      starts_ = a.require_ints("starts");
      ends_ = a.require_ints("ends");
      axes_ = a.get_ints("axes", {});
    }
  }

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (rank > kMaxRank)
      fail(ErrorKind::unsupported, label_, ": input of rank ", rank, " exceeds the supported rank ", kMaxRank);
    SliceWalk w;
    w.rank = rank;
    for (int d = 0; d < rank; ++d) w.step[d] = 1;
    if (y.dtype != x.dtype || y.rank() != rank)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not match input ",
           shape_to_string(x.shape));
    if (from_inputs_) {
      const Tensor& starts = ctx.input(1);
      const Tensor& ends = ctx.input(2);
      const Tensor* axes = ctx.has_input(3) ? &ctx.input(3) : nullptr;
      const Tensor* steps = ctx.has_input(4) ? &ctx.input(4) : nullptr;
      for (const Tensor* t : {&starts, &ends, axes, steps})
        if (t && t->dtype != DType::i32 && t->dtype != DType::i64)
          fail(ErrorKind::invalid_argument, label_, ": starts, ends, axes and steps must be int32 or int64, got ",
               dtype_name(t->dtype));
      const int64_t count = starts.size();
      if (ends.size() != count || (axes && axes->size() != count) || (steps && steps->size() != count))
        fail(ErrorKind::invalid_argument, label_, ": starts, ends, axes and steps differ in length");
      for (int64_t i = 0; i < count; ++i)
        set_axis(w, x.shape, y.shape, axes ? int_at(*axes, i) : i, int_at(starts, i), int_at(ends, i),
                 steps ? int_at(*steps, i) : 1);
    } else {
      if (ends_.size() != starts_.size() || (!axes_.empty() && axes_.size() != starts_.size()))
        fail(ErrorKind::invalid_model, label_, ": starts, ends and axes differ in length");
      for (size_t i = 0; i < starts_.size(); ++i)
        set_axis(w, x.shape, y.shape, axes_.empty() ? static_cast<int64_t>(i) : axes_[i], starts_[i], ends_[i], 1);
    }
    for (int d = 0; d < rank; ++d)  // axes not sliced are kept whole
      if (!w.sliced[d] && y.shape[static_cast<size_t>(d)] != x.shape[static_cast<size_t>(d)])
        fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not match input ",
             shape_to_string(x.shape));
    strided_copy(static_cast<const char*>(x.data), static_cast<char*>(y.data), x.shape, w, y.shape,
                 dtype_size(x.dtype), *ctx.threads);
  }

 private:
  // Normalises one (axis, start, end, step) as the shape function does and checks the count it gives
  // against the planned output.
  void set_axis(SliceWalk& w, const Shape& in, const Shape& out, int64_t axis, int64_t start, int64_t end,
                int64_t step) const {
    const int rank = w.rank;
    if (axis < -rank || axis >= rank)
      fail(ErrorKind::out_of_range, label_, ": axes entry ", axis, " is out of range for rank ", rank);
    const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    if (step == 0) fail(ErrorKind::out_of_range, label_, ": steps entry for axis ", a, " is 0");
    if (w.sliced[a]) fail(ErrorKind::out_of_range, label_, ": axes name axis ", a, " twice");
    w.sliced[a] = true;
    const int64_t dim = in[a];
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    int64_t n = 0;
    if (dim == 0) {
      start = 0;
    } else if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      n = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      n = start > end ? (start - end - 1) / -step + 1 : 0;
    }
    if (n != out[a])
      fail(ErrorKind::runtime, label_, ": slicing axis ", a, " of ", shape_to_string(in), " gives ", n,
           " elements, but the planned output is ", shape_to_string(out));
    w.start[a] = start;
    w.step[a] = step;
  }

  std::string label_;
  bool from_inputs_;
  std::vector<int64_t> starts_, ends_, axes_;  // opsets 1–9
};

std::unique_ptr<Kernel> make_slice_1(const KernelInit& init) { return std::make_unique<SliceKernel>(init, false); }
std::unique_ptr<Kernel> make_slice_10(const KernelInit& init) { return std::make_unique<SliceKernel>(init, true); }

// ---- Split ---------------------------------------------------------------------------------------

// The input seen as [outer, dim, inner]: output i takes rows [offset_i, offset_i + size_i) of every
// outer slab. The sizes are the planned outputs' dims along the axis, however the model gave them.
class SplitKernel final : public Kernel {
 public:
  explicit SplitKernel(const KernelInit& init) : label_(init.node.label()), axis_(init.attributes().get_int("axis", 0)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int rank = x.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::runtime, label_, ": attribute 'axis' ", axis_, " is out of range for rank ", rank);
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    const int64_t outer = dims_product(x.shape, 0, axis);
    const int64_t dim = x.shape[static_cast<size_t>(axis)];
    const size_t inner = static_cast<size_t>(dims_product(x.shape, axis + 1, rank)) * dtype_size(x.dtype);
    int64_t total = 0;
    for (size_t i = 0; i < ctx.output_count; ++i) {
      const Tensor& y = ctx.output(i);
      if (y.dtype != x.dtype || y.rank() != rank)
        fail(ErrorKind::runtime, label_, ": output ", i, " ", shape_to_string(y.shape), " does not match input ",
             shape_to_string(x.shape));
      total += y.shape[static_cast<size_t>(axis)];
    }
    if (total != dim)
      fail(ErrorKind::runtime, label_, ": the outputs' sizes along axis ", axis, " sum to ", total, ", not ", dim);
    const char* src = static_cast<const char*>(x.data);
    int64_t offset = 0;
    for (size_t i = 0; i < ctx.output_count; ++i) {
      Tensor& y = ctx.output(i);
      const int64_t size = y.shape[static_cast<size_t>(axis)];
      const size_t bytes = static_cast<size_t>(size) * inner;
      char* dst = static_cast<char*>(y.data);
      if (bytes > 0) {
        const int64_t grain = std::max<int64_t>(1, kBytesPerTask / static_cast<int64_t>(bytes));
        ctx.threads->parallel_for(outer, grain, [&](int64_t begin, int64_t end) {
          for (int64_t o = begin; o < end; ++o)
            std::memcpy(dst + static_cast<size_t>(o) * bytes, src + (static_cast<size_t>(o * dim + offset)) * inner, bytes);
        });
      }
      offset += size;
    }
  }

 private:
  std::string label_;
  int64_t axis_;
};

std::unique_ptr<Kernel> make_split(const KernelInit& init) { return std::make_unique<SplitKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Slice", 1, 9, make_slice_1);
INFERD_CPU_KERNEL("Slice", 10, kMaxOpset, make_slice_10);
// The opsets differ only in where the sizes come from; the kernel reads them from the planned outputs.
INFERD_CPU_KERNEL("Split", 1, kMaxOpset, make_split);

}  // namespace inferd
