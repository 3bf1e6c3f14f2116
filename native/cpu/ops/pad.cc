// Pad on the CPU, for every stored type (it moves elements without computing on them).
//
// Negative pads crop first; the remaining (non-negative) pads then extend the cropped input, so that
// output index o along a dim reads position j = o − pad_begin of the cropped run of length n:
//   inside [0, n): that element;  outside, by mode:
//   constant: the constant;  edge: the nearest end;  reflect: mirrored about the ends without
//   repeating them (numpy's "reflect", any distance);  wrap: j mod n.
// The output is written row by row (a row: the innermost dim): a row whose outer position falls in
// constant padding is all constant, any other copies its middle in one piece between its two padded
// ends.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

enum class PadMode { constant, reflect, edge, wrap };

PadMode parse_mode(const std::string& mode) {
  if (mode == "reflect") return PadMode::reflect;
  if (mode == "edge") return PadMode::edge;
  if (mode == "wrap") return PadMode::wrap;
  return PadMode::constant;
}

// Position j (any integer) of a run of n > 0 elements, mapped into [0, n) by the mode; −1 for constant.
int64_t source_of(PadMode mode, int64_t j, int64_t n) {
  if (j >= 0 && j < n) return j;
  switch (mode) {
    case PadMode::constant: return -1;
    case PadMode::edge: return j < 0 ? 0 : n - 1;
    case PadMode::wrap: return ((j % n) + n) % n;
    case PadMode::reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t r = ((j % period) + period) % period;
      return r < n ? r : period - r;
    }
  }
  return -1;
}

struct PadPlan {
  int rank = 0;
  int64_t out[kMaxRank] = {}, begin[kMaxRank] = {};  // begin: the non-negative part of the begin pad
  int64_t first[kMaxRank] = {}, length[kMaxRank] = {};  // the cropped run: input [first, first + length)
  int64_t in_stride[kMaxRank] = {};
};

constexpr int64_t kMinTaskElements = 1 << 14;

template <typename E> void pad_rows(const PadPlan& p, PadMode mode, E value, const E* in, E* out, int64_t r0, int64_t r1) {
  const int last = p.rank - 1;
  const int64_t width = p.out[last], begin = p.begin[last], first = p.first[last], length = p.length[last];
  // The outputs [lo, hi) of a row that read the cropped run directly.
  const int64_t lo = std::min(begin, width), hi = std::clamp(begin + length, lo, width);
  for (int64_t r = r0; r < r1; ++r) {
    E* dst = out + r * width;
    int64_t rest = r, offset = 0;
    bool constant_row = false;
    for (int d = last - 1; d >= 0; --d) {
      const int64_t o = rest % p.out[d];
      rest /= p.out[d];
      const int64_t j = source_of(mode, o - p.begin[d], p.length[d]);
      if (j < 0) {
        constant_row = true;
        break;
      }
      offset += (p.first[d] + j) * p.in_stride[d];
    }
    if (constant_row) {
      std::fill(dst, dst + width, value);
      continue;
    }
    const E* src = in + offset + first;  // the cropped run of this row
    if (hi > lo) std::memcpy(dst + lo, src + (lo - begin), static_cast<size_t>(hi - lo) * sizeof(E));
    if (mode == PadMode::constant) {
      std::fill(dst, dst + lo, value);
      std::fill(dst + hi, dst + width, value);
    } else {
      for (int64_t o = 0; o < lo; ++o) dst[o] = src[source_of(mode, o - begin, length)];
      for (int64_t o = hi; o < width; ++o) dst[o] = src[source_of(mode, o - begin, length)];
    }
  }
}

class PadKernel final : public Kernel {
 public:
  explicit PadKernel(const KernelInit& init)
      : label_(init.node.label()),
        opset_(init.opset),
        mode_(parse_mode(init.attributes().get_string("mode", "constant"))),
        attribute_pads_(init.attributes().get_ints(init.opset == 1 ? "paddings" : "pads", {})),
        attribute_value_(init.attributes().get_float("value", 0.0f)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    int64_t begins[kMaxRank] = {}, ends[kMaxRank] = {};
    read_pads(ctx, rank, begins, ends);
    PadPlan p;
    p.rank = rank;
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t n = x.shape[static_cast<size_t>(d)];
      p.out[d] = y.shape[static_cast<size_t>(d)];
      p.begin[d] = std::max<int64_t>(begins[d], 0);
      p.first[d] = std::max<int64_t>(-begins[d], 0);
      p.length[d] = n - p.first[d] - std::max<int64_t>(-ends[d], 0);
      if (p.out[d] != p.length[d] + p.begin[d] + std::max<int64_t>(ends[d], 0))
        fail(ErrorKind::runtime, label_, ": pads give dim ", d, " the size ", p.length[d] + p.begin[d] + std::max<int64_t>(ends[d], 0),
             " but the planned output is ", shape_to_string(y.shape));
      if (p.out[d] > 0 && p.length[d] <= 0 && mode_ != PadMode::constant)
        fail(ErrorKind::runtime, label_, ": cannot pad the empty dim ", d, " of ", shape_to_string(x.shape), " in this mode");
      p.in_stride[d] = stride;
      stride *= n;
    }
    if (y.size() == 0) return;
    if (rank == 0) {
      std::memcpy(y.data, x.data, x.nbytes());
      return;
    }
    double value = opset_ < 11 ? attribute_value_ : 0.0;
    uint64_t bits = element_bits(x.dtype, value);
    if (opset_ >= 11 && ctx.has_input(2) && ctx.input(2).size() == 1)
      std::memcpy(&bits, ctx.input(2).data, dtype_size(x.dtype));
    const int64_t rows = y.size() / p.out[rank - 1];
    const int64_t grain = std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(p.out[rank - 1], 1));
    auto dispatch = [&](auto zero) {
      using E = decltype(zero);
      E v;
      std::memcpy(&v, &bits, sizeof v);
      const E* in = static_cast<const E*>(x.data);
      E* out = static_cast<E*>(y.data);
      ctx.threads->parallel_for(rows, grain, [&](int64_t r0, int64_t r1) { pad_rows<E>(p, mode_, v, in, out, r0, r1); });
    };
    switch (dtype_size(x.dtype)) {
      case 1: dispatch(uint8_t{}); break;
      case 2: dispatch(uint16_t{}); break;
      case 4: dispatch(uint32_t{}); break;
      case 8: dispatch(uint64_t{}); break;
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    }
  }

 private:
  // Begin and end pads per dim, from the attribute (opsets < 11) or the pads and axes inputs.
  void read_pads(const KernelContext& ctx, int rank, int64_t* begins, int64_t* ends) const {
    const int64_t* pads = attribute_pads_.data();
    int64_t count = static_cast<int64_t>(attribute_pads_.size());
    if (opset_ >= 11) {
      pads = ctx.input(1).data_as<int64_t>();
      count = ctx.input(1).size();
    }
    int64_t axes[kMaxRank];
    int64_t n = rank;
    for (int64_t i = 0; i < rank; ++i) axes[i] = i;
    if (opset_ >= 18 && ctx.has_input(3)) {
      const Tensor& a = ctx.input(3);
      n = a.size();
      if (n > rank) fail(ErrorKind::runtime, label_, ": input 'axes' has ", n, " values for rank ", rank);
      for (int64_t i = 0; i < n; ++i) {
        int64_t axis = a.dtype == DType::i32 ? a.data_as<int32_t>()[i] : a.data_as<int64_t>()[i];
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) fail(ErrorKind::runtime, label_, ": axes entry ", axis, " is out of range for rank ", rank);
        axes[i] = axis;
      }
    }
    if (count != 2 * n) fail(ErrorKind::runtime, label_, ": pads has ", count, " values; expected ", 2 * n);
    for (int64_t i = 0; i < n; ++i) {
      begins[axes[i]] = pads[i];
      ends[axes[i]] = pads[i + n];
    }
  }

  std::string label_;
  int opset_;
  PadMode mode_;
  std::vector<int64_t> attribute_pads_;
  float attribute_value_;
};

std::unique_ptr<Kernel> make_pad(const KernelInit& init) { return std::make_unique<PadKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Pad", 1, 1, make_pad);
INFERD_CPU_KERNEL("Pad", 2, 10, make_pad);
INFERD_CPU_KERNEL("Pad", 11, 17, make_pad);
INFERD_CPU_KERNEL("Pad", 18, 18, make_pad);
INFERD_CPU_KERNEL("Pad", 19, kMaxOpset, make_pad);

}  // namespace inferd
