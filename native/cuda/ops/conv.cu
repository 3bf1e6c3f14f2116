#include "cuda/ops/conv.cuh"

namespace inferd::gpu {
namespace {

struct ConvGeometry {
  int C, H, W;             // input channels and size
  int OC, OH, OW;          // output
  int KH, KW;              // kernel
  int sh, sw, dh, dw, ph, pw;
  int Cg, OCg;             // per group
};

struct ConvInputLoader {
  const float* x;
  ConvGeometry g;
  __device__ __forceinline__ float operator()(int group, int m, int k) const {
    const int pixels = g.OH * g.OW;
    const int n = m / pixels, p = m - n * pixels;
    const int oh = p / g.OW, ow = p - oh * g.OW;
    const int taps = g.KH * g.KW;
    const int c = k / taps, r = k - c * taps;
    const int kh = r / g.KW, kw = r - kh * g.KW;
    const int ih = oh * g.sh - g.ph + kh * g.dh, iw = ow * g.sw - g.pw + kw * g.dw;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return 0.0f;
    return x[((int64_t{n} * g.C + group * g.Cg + c) * g.H + ih) * g.W + iw];
  }
};

struct ConvWeightLoader {
  const float* w;
  int K, OCg;
  __device__ __forceinline__ float operator()(int group, int k, int oc) const {
    return w[(int64_t{group} * OCg + oc) * K + k];
  }
};

// Bias, then FusedConv's residual Z (laid out as Y) and activation, as each output is stored.
struct ConvEpilogue {
  float* y;
  const float* bias;
  const float* z;
  DeviceActivation act;
  ConvGeometry g;
  __device__ __forceinline__ void operator()(int group, int m, int oc, float acc) const {
    const int pixels = g.OH * g.OW;
    const int n = m / pixels, p = m - n * pixels;
    const int channel = group * g.OCg + oc;
    const int64_t at = (int64_t{n} * g.OC + channel) * pixels + p;
    const float v = acc + (bias ? bias[channel] : 0.0f);
    y[at] = act(z ? v + z[at] : v);
  }
};

class ConvKernel final : public CudaKernel {
 public:
  explicit ConvKernel(const KernelInit& init)
      : CudaKernel(init),
        label_(init.node.label()),
        fused_(init.node.domain == kInternalDomain),
        act_(fused_ ? device_activation(read_activation(init.node)) : DeviceActivation{}) {
    const Attributes& a = init.attributes();
    auto_pad_ = a.get_string("auto_pad", "NOTSET");
    group_ = a.get_int("group", 1);
    strides_ = a.get_ints("strides", {});
    dilations_ = a.get_ints("dilations", {});
    pads_ = a.get_ints("pads", {});
    if (const Tensor* w = init.constant_input(1); w && w->rank() != 3 && w->rank() != 4)
      fail(ErrorKind::unsupported, label_, ": the CUDA Conv computes 1-D and 2-D convolutions");
  }

  void run_on(const CudaContext& ctx) const override {
    const Tensor &X = ctx.input(0), &Wt = ctx.input(1);
    Tensor& Y = ctx.output(0);
    require_f32(X, label_, "X");
    require_f32(Wt, label_, "W");
    const Tensor* B = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (B) require_f32(*B, label_, "B");
    const Tensor* Z = fused_ && ctx.has_input(3) ? &ctx.input(3) : nullptr;
    if (Z) {
      require_f32(*Z, label_, "Z");
      if (Z->shape != Y.shape)
        fail(ErrorKind::invalid_argument, label_, ": input Z of shape ", shape_to_string(Z->shape),
             " must have the output's shape ", shape_to_string(Y.shape));
    }
    const int spatial = X.rank() - 2;
    if (spatial != 1 && spatial != 2)
      fail(ErrorKind::unsupported, label_, ": the CUDA Conv computes 1-D and 2-D convolutions, X is ",
           shape_to_string(X.shape));
    // A 1-D convolution is a 2-D one of height 1.
    auto dim = [](const Shape& s, int i, int spatial_rank) -> int {
      return static_cast<int>(spatial_rank == 1 ? (i == 0 ? 1 : s[2]) : s[2 + i]);
    };
    auto attr = [&](const std::vector<int64_t>& v, int i, int fallback) -> int {
      if (spatial == 1) return i == 0 ? fallback : (v.empty() ? fallback : static_cast<int>(v[0]));
      return v.empty() ? fallback : static_cast<int>(v[static_cast<size_t>(i)]);
    };
    ConvGeometry g{};
    g.C = static_cast<int>(X.shape[1]);
    g.H = dim(X.shape, 0, spatial);
    g.W = dim(X.shape, 1, spatial);
    g.OC = static_cast<int>(Y.shape[1]);
    g.OH = dim(Y.shape, 0, spatial);
    g.OW = dim(Y.shape, 1, spatial);
    g.KH = dim(Wt.shape, 0, spatial);
    g.KW = dim(Wt.shape, 1, spatial);
    g.sh = attr(strides_, 0, 1);
    g.sw = attr(strides_, 1, 1);
    g.dh = attr(dilations_, 0, 1);
    g.dw = attr(dilations_, 1, 1);
    if (auto_pad_ == "NOTSET") {
      g.ph = spatial == 1 ? 0 : (pads_.empty() ? 0 : static_cast<int>(pads_[0]));
      g.pw = pads_.empty() ? 0 : static_cast<int>(pads_[spatial == 1 ? 0 : 1]);
    } else if (auto_pad_ == "VALID") {
      g.ph = g.pw = 0;
    } else {
      // SAME_UPPER puts the odd padding at the end, SAME_LOWER at the beginning.
      auto begin = [&](int in, int out, int k, int s, int d) {
        const int total = std::max(0, (out - 1) * s + (k - 1) * d + 1 - in);
        return auto_pad_ == "SAME_LOWER" ? total - total / 2 : total / 2;
      };
      g.ph = begin(g.H, g.OH, g.KH, g.sh, g.dh);
      g.pw = begin(g.W, g.OW, g.KW, g.sw, g.dw);
    }
    const int groups = static_cast<int>(group_);
    if (groups <= 0 || g.C % groups != 0 || g.OC % groups != 0)
      fail(ErrorKind::invalid_model, label_, ": group ", group_, " does not divide channels ", g.C, " and ", g.OC);
    g.Cg = g.C / groups;
    g.OCg = g.OC / groups;
    const int64_t rows = X.shape[0] * int64_t{g.OH} * g.OW, depth = int64_t{g.Cg} * g.KH * g.KW;
    if (rows > INT32_MAX || X.size() > INT32_MAX || Y.size() > INT32_MAX || groups > 65535)
      fail(ErrorKind::unsupported, label_, ": on CUDA, tensors of at most 2^31 - 1 elements");
    launch_tiled_sgemm(static_cast<int>(rows), g.OCg, static_cast<int>(depth), groups, ConvInputLoader{X.data_as<float>(), g},
                       ConvWeightLoader{Wt.data_as<float>(), static_cast<int>(depth), g.OCg},
                       ConvEpilogue{Y.data_as<float>(), B ? B->data_as<float>() : nullptr,
                                    Z ? Z->data_as<float>() : nullptr, act_, g},
                       ctx.stream);
  }

 private:
  std::string label_;
  bool fused_;            // FusedConv: input 3 is the residual Z, and act_ follows
  DeviceActivation act_;  // none for Conv
  std::string auto_pad_;
  int64_t group_ = 1;
  std::vector<int64_t> strides_, dilations_, pads_;
};

std::unique_ptr<Kernel> make_conv(const KernelInit& init) { return std::make_unique<ConvKernel>(init); }

}  // namespace

INFERD_CUDA_KERNEL("Conv", 1, kMaxOpset, make_conv);
INFERD_CUDA_INTERNAL_KERNEL("FusedConv", make_conv);

}  // namespace inferd::gpu
