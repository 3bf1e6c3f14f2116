#include "cuda/ops/pool.cuh"

#include <algorithm>
#include <cfloat>

namespace inferd::gpu {
namespace {

struct PoolGeometry {
  int H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw;
  int peh, pew;  // end padding: AveragePool's count_include_pad counts taps up to there
};

template <bool Max>
__global__ void pool_window(const float* x, float* y, int64_t n, PoolGeometry g, bool count_include_pad) {
  INFERD_GRID_STRIDE(i, n) {
    const int64_t plane = i / (int64_t{g.OH} * g.OW);
    const int p = static_cast<int>(i - plane * g.OH * g.OW);
    const int oh = p / g.OW, ow = p - oh * g.OW;
    const float* in = x + plane * g.H * g.W;
    float acc = Max ? -FLT_MAX : 0.0f;
    int count = 0;
    for (int kh = 0; kh < g.KH; ++kh) {
      const int ih = oh * g.sh - g.ph + kh * g.dh;
      for (int kw = 0; kw < g.KW; ++kw) {
        const int iw = ow * g.sw - g.pw + kw * g.dw;
        const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
        if (inside) {
          const float v = in[ih * g.W + iw];
          acc = Max ? fmaxf(acc, v) : acc + v;
          ++count;
        } else if (!Max && count_include_pad && ih < g.H + g.peh && iw < g.W + g.pew) {
          ++count;  // padding counts, but not the part of a ceil_mode window past the end padding
        }
      }
    }
    y[i] = Max ? acc : (count > 0 ? acc / static_cast<float>(count) : 0.0f);
  }
}

template <bool Max> class PoolKernel final : public CudaKernel {
 public:
  explicit PoolKernel(const KernelInit& init) : CudaKernel(init), label_(init.node.label()) {
    const Attributes& a = init.attributes();
    if (Max && init.node.outputs.size() > 1 && init.node.outputs[1] != kNoValue)
      fail(ErrorKind::unsupported, label_, ": MaxPool's Indices output has no CUDA kernel");
    auto_pad_ = a.get_string("auto_pad", "NOTSET");
    kernel_ = a.require_ints("kernel_shape");
    strides_ = a.get_ints("strides", {});
    pads_ = a.get_ints("pads", {});
    dilations_ = a.get_ints("dilations", {});
    count_include_pad_ = a.get_int("count_include_pad", 0) != 0;
    if (kernel_.size() != 1 && kernel_.size() != 2)
      fail(ErrorKind::unsupported, label_, ": the CUDA kernel pools 1-D and 2-D windows");
  }

  void run_on(const CudaContext& ctx) const override {
    const Tensor& X = ctx.input(0);
    Tensor& Y = ctx.output(0);
    require_f32(X, label_, "X");
    const int spatial = static_cast<int>(kernel_.size());
    if (X.rank() != spatial + 2) fail(ErrorKind::invalid_model, label_, ": X ", shape_to_string(X.shape), " for a ", spatial, "-D window");
    auto at = [&](const std::vector<int64_t>& v, int i, int fallback) -> int {
      if (spatial == 1) return i == 0 ? fallback : (v.empty() ? fallback : static_cast<int>(v[0]));
      return v.empty() ? fallback : static_cast<int>(v[static_cast<size_t>(i)]);
    };
    PoolGeometry g{};
    g.H = spatial == 1 ? 1 : static_cast<int>(X.shape[2]);
    g.W = static_cast<int>(X.shape.back());
    g.OH = spatial == 1 ? 1 : static_cast<int>(Y.shape[2]);
    g.OW = static_cast<int>(Y.shape.back());
    g.KH = at(kernel_, 0, 1);
    g.KW = at(kernel_, 1, 1);
    g.sh = at(strides_, 0, 1);
    g.sw = at(strides_, 1, 1);
    g.dh = at(dilations_, 0, 1);
    g.dw = at(dilations_, 1, 1);
    if (auto_pad_ == "NOTSET") {
      g.ph = spatial == 1 ? 0 : (pads_.empty() ? 0 : static_cast<int>(pads_[0]));
      g.pw = pads_.empty() ? 0 : static_cast<int>(pads_[spatial == 1 ? 0 : 1]);
      g.peh = spatial == 1 || pads_.size() < 4 ? 0 : static_cast<int>(pads_[2]);
      g.pew = pads_.size() < static_cast<size_t>(2 * spatial) ? 0 : static_cast<int>(pads_[spatial == 1 ? 1 : 3]);
    } else if (auto_pad_ != "VALID") {
      auto begin = [&](int in, int out, int k, int s, int d) {
        const int total = std::max(0, (out - 1) * s + (k - 1) * d + 1 - in);
        return auto_pad_ == "SAME_LOWER" ? total - total / 2 : total / 2;
      };
      g.ph = begin(g.H, g.OH, g.KH, g.sh, g.dh);
      g.pw = begin(g.W, g.OW, g.KW, g.sw, g.dw);
      g.peh = std::max(0, (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1 - g.H - g.ph);
      g.pew = std::max(0, (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1 - g.W - g.pw);
    }
    const int64_t n = Y.size();
    if (n == 0) return;
    pool_window<Max><<<grid_for(n), kBlock, 0, ctx.stream>>>(X.data_as<float>(), Y.data_as<float>(), n, g,
                                                             count_include_pad_);
  }

 private:
  std::string label_, auto_pad_;
  std::vector<int64_t> kernel_, strides_, pads_, dilations_;
  bool count_include_pad_ = false;
};

template <bool Max> __global__ void global_pool(const float* x, float* y, int64_t plane) {
  const float* in = x + blockIdx.x * plane;
  float acc = Max ? -FLT_MAX : 0.0f;
  for (int64_t i = threadIdx.x; i < plane; i += kBlock) acc = Max ? fmaxf(acc, in[i]) : acc + in[i];
  acc = Max ? block_reduce(acc, max_op{}) : block_reduce(acc, sum_op{});
  if (threadIdx.x == 0) y[blockIdx.x] = Max ? acc : acc / static_cast<float>(plane);
}

template <bool Max> class GlobalPoolKernel final : public CudaKernel {
 public:
  explicit GlobalPoolKernel(const KernelInit& init) : CudaKernel(init), label_(init.node.label()) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor& X = ctx.input(0);
    require_f32(X, label_, "X");
    if (X.rank() < 2) fail(ErrorKind::invalid_model, label_, ": X must have rank 2 or more, got ", shape_to_string(X.shape));
    const int64_t planes = X.shape[0] * X.shape[1], plane = dims_product(X.shape, 2, X.rank());
    if (planes == 0) return;
    if (planes > INT32_MAX) fail(ErrorKind::unsupported, label_, ": on CUDA, at most 2^31 - 1 channel planes");
    global_pool<Max><<<static_cast<unsigned>(planes), kBlock, 0, ctx.stream>>>(X.data_as<float>(),
                                                                              ctx.output(0).data_as<float>(), plane);
  }

 private:
  std::string label_;
};

template <bool Max> std::unique_ptr<Kernel> make_pool(const KernelInit& init) {
  return std::make_unique<PoolKernel<Max>>(init);
}
template <bool Max> std::unique_ptr<Kernel> make_global_pool(const KernelInit& init) {
  return std::make_unique<GlobalPoolKernel<Max>>(init);
}

}  // namespace

INFERD_CUDA_KERNEL("MaxPool", 1, 7, make_pool<true>);
INFERD_CUDA_KERNEL("MaxPool", 8, 11, make_pool<true>);
INFERD_CUDA_KERNEL("MaxPool", 12, kMaxOpset, make_pool<true>);
INFERD_CUDA_KERNEL("AveragePool", 1, kMaxOpset, make_pool<false>);
INFERD_CUDA_KERNEL("GlobalAveragePool", 1, kMaxOpset, make_global_pool<false>);
INFERD_CUDA_KERNEL("GlobalMaxPool", 1, kMaxOpset, make_global_pool<true>);

}  // namespace inferd::gpu
