// DepthToSpace and SpaceToDepth on the CPU, for every stored type: each is a 6-D transpose (ONNX
// defines them so), done here as a gather that writes the output in order and reads the input
// through the permuted strides of its 6-D view.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

// The output as 6 dims, each with the input stride it steps by.
struct Gather6 {
  int64_t dims[6], strides[6];
};

template <typename E> void gather_rows(const Gather6& g, const E* in, E* out, int64_t r0, int64_t r1) {
  const int64_t width = g.dims[5], step = g.strides[5];
  for (int64_t r = r0; r < r1; ++r) {
    int64_t rest = r, offset = 0;
    for (int d = 4; d >= 0; --d) {
      offset += (rest % g.dims[d]) * g.strides[d];
      rest /= g.dims[d];
    }
    const E* src = in + offset;
    E* dst = out + r * width;
    for (int64_t i = 0; i < width; ++i) dst[i] = src[i * step];
  }
}

enum class Move { depth_to_space_dcr, depth_to_space_crd, space_to_depth };

class DepthSpaceKernel final : public Kernel {
 public:
  DepthSpaceKernel(const KernelInit& init, Move move)
      : label_(init.node.label()), move_(move), b_(init.attributes().get_int("blocksize", 1)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], b = b_;
    Gather6 g;
    switch (move_) {
      case Move::depth_to_space_dcr: {  // x as [N, b1, b2, C', H, W] → [N, C', H, b1, W, b2]
        const int64_t Co = C / (b * b);
        g = {{N, Co, H, b, W, b}, {C * H * W, H * W, W, b * Co * H * W, 1, Co * H * W}};
        break;
      }
      case Move::depth_to_space_crd: {  // x as [N, C', b1, b2, H, W] → [N, C', H, b1, W, b2]
        const int64_t Co = C / (b * b);
        g = {{N, Co, H, b, W, b}, {C * H * W, b * b * H * W, W, b * H * W, 1, H * W}};
        break;
      }
      case Move::space_to_depth: {  // x as [N, C, H', b1, W', b2] → [N, b1, b2, C, H', W']
        g = {{N, b, b, C, H / b, W / b}, {C * H * W, W, 1, H * W, b * W, b}};
        break;
      }
    }
    const int64_t rows = y.size() / std::max<int64_t>(g.dims[5], 1);
    if (y.size() == 0) return;
    const int64_t grain = std::max<int64_t>(1, (1 << 14) / g.dims[5]);
    auto dispatch = [&](auto zero) {
      using E = decltype(zero);
      const E* in = static_cast<const E*>(x.data);
      E* out = static_cast<E*>(y.data);
      ctx.threads->parallel_for(rows, grain, [&](int64_t r0, int64_t r1) { gather_rows<E>(g, in, out, r0, r1); });
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
  std::string label_;
  Move move_;
  int64_t b_;
};

std::unique_ptr<Kernel> make_depth_to_space(const KernelInit& init) {
  const bool crd = init.opset >= 11 && init.attributes().get_string("mode", "DCR") == "CRD";
  return std::make_unique<DepthSpaceKernel>(init, crd ? Move::depth_to_space_crd : Move::depth_to_space_dcr);
}
std::unique_ptr<Kernel> make_space_to_depth(const KernelInit& init) {
  return std::make_unique<DepthSpaceKernel>(init, Move::space_to_depth);
}

}  // namespace

// DepthToSpace 11 added `mode` (CRD); 13 only added types.
INFERD_CPU_KERNEL("DepthToSpace", 1, 10, make_depth_to_space);
INFERD_CPU_KERNEL("DepthToSpace", 11, kMaxOpset, make_depth_to_space);
INFERD_CPU_KERNEL("SpaceToDepth", 1, kMaxOpset, make_space_to_depth);

}  // namespace inferd
