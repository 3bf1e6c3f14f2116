// CPU kernels of the ops that give a tensor's bytes a new shape (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity: a copy, since the plan already set the output's shape) and of Shape.
#include <algorithm>
#include <cstring>

#include "core/kernel_registry.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

// Reshape and friends: the output holds the input's bytes under another shape.
class CopyKernel final : public Kernel {
 public:
  explicit CopyKernel(const Node& node) : label_(node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    const size_t bytes = in.nbytes();
    if (out.nbytes() != bytes)
      fail(ErrorKind::runtime, label_, ": output of ", out.nbytes(), " bytes cannot hold the input's ", bytes);
    if (out.data == in.data || bytes == 0) return;  // a planner may let the output alias the input

    const char* src = static_cast<const char*>(in.data);
    char* dst = static_cast<char*>(out.data);
    // One thread copies a few GB/s; large copies are split so that several can share the bandwidth.
    constexpr size_t kChunk = size_t{1} << 20;
    const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
    ctx.threads->parallel_for(chunks, 4, [&](int64_t begin, int64_t end) {
      const size_t from = static_cast<size_t>(begin) * kChunk;
      const size_t to = std::min(bytes, static_cast<size_t>(end) * kChunk);
      std::memcpy(dst + from, src + from, to - from);
    });
  }

 private:
  std::string label_;
};

std::unique_ptr<Kernel> make_copy(const KernelInit& init) { return std::make_unique<CopyKernel>(init.node); }

// Shape: the input's dims [start, end), negative and clamped as in Slice.
class ShapeKernel final : public Kernel {
 public:
  ShapeKernel(const Node& node, int64_t start, int64_t end, bool has_end)
      : label_(node.label()), start_(start), end_(end), has_end_(has_end) {}

  void run(const KernelContext& ctx) const override {
    const Shape& in = ctx.input(0).shape;
    const int64_t rank = static_cast<int64_t>(in.size());
    auto clamp = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
    const int64_t start = clamp(start_);
    const int64_t end = has_end_ ? clamp(end_) : rank;
    Tensor& out_tensor = ctx.output(0);
    if (out_tensor.dtype != DType::i64 || out_tensor.size() != std::max<int64_t>(end - start, 0))
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(out_tensor.shape), " of type ",
           dtype_name(out_tensor.dtype), " cannot hold dims ", start, "..", end, " of ", shape_to_string(in));
    int64_t* out = out_tensor.data_as<int64_t>();
    for (int64_t i = start; i < end; ++i) out[i - start] = in[static_cast<size_t>(i)];
  }

 private:
  std::string label_;
  int64_t start_, end_;
  bool has_end_;
};

std::unique_ptr<Kernel> make_shape_v1(const KernelInit& init) { return std::make_unique<ShapeKernel>(init.node, 0, 0, false); }

std::unique_ptr<Kernel> make_shape_v15(const KernelInit& init) {
  const Attributes& a = init.attributes();
  return std::make_unique<ShapeKernel>(init.node, a.get_int("start", 0), a.get_int("end", 0), a.has("end"));
}

}  // namespace

// The copy is the same whatever the opset; the opsets differ only in how the shape is given.
INFERD_CPU_KERNEL("Reshape", 1, kMaxOpset, make_copy);
INFERD_CPU_KERNEL("Flatten", 1, kMaxOpset, make_copy);
INFERD_CPU_KERNEL("Squeeze", 1, kMaxOpset, make_copy);
INFERD_CPU_KERNEL("Unsqueeze", 1, kMaxOpset, make_copy);
INFERD_CPU_KERNEL("Identity", 1, kMaxOpset, make_copy);
INFERD_CPU_KERNEL("Shape", 1, 14, make_shape_v1);
INFERD_CPU_KERNEL("Shape", 15, kMaxOpset, make_shape_v15);

}  // namespace inferd
