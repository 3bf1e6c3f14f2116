// Conv and ConvTranspose on the CPU, in float.
//
// Conv, per image n and group g, is one matrix product Y_ng[M/g × P] = W_g[M/g × K]·col[K × P], with
// K = C/g·k1⋯ks and P the output positions, where col is the input unrolled by im2col, a chunk of
// output positions at a time. The forms it takes:
//   - pointwise (1×1 filter, stride 1, no padding): col is X itself, no im2col at all, and the
//     product is W_g·X_g straight into Y;
//   - depthwise (one input channel per group): a direct loop, since the product would have only
//     K = k1⋯ks columns — 2-D on AVX-512, whole output planes from the direct convolution's padded
//     input (cpu/kernels/conv_direct.h); otherwise each filter tap an axpy along an output row;
//   - a constant filter of an ordinary 2-D conv (one group, larger than 1×1, or 1×1 and strided) on a
//     CPU with AVX-512: a direct convolution, no im2col (cpu/kernels/conv_direct.h);
//   - a constant filter (with 16 or more output channels per group): Yᵀ = colᵀ·W_gᵀ against W_gᵀ
//     packed once at load into sgemm's panels, in chunks of 256 output positions whose columns stay
//     in cache, each chunk's Yᵀ transposed into Y;
//   - otherwise W_g·col straight into Y, in chunks as large as the scratch bound allows (each chunk
//     packs W_g again).
// Chunks of all images and groups are independent products: when there are enough of them they are
// spread over the threads one per task, else each is split over the pool by sgemm.
//
// FusedConv (com.inferd; core/optimizer/fused_ops.h) is this Conv plus a residual Z and an activation:
// every form above applies them, with sgemm's epilogue, to each block of Y as it is finished (a
// tile of the product, a register block's output row, a depthwise row) while it is still in cache,
// instead of a pass of its own over Y for each.
//
// ConvTranspose, per image and group, is col[M/g·k1⋯ks × P_in] = W_gᵀ·X_ng followed by col2im,
// which adds each column into the output positions it covers.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/optimizer/fused_ops.h"
#include "core/thread_pool.h"
#include "cpu/kernels/conv_direct.h"
#include "cpu/kernels/im2col.h"
#include "cpu/kernels/sgemm.h"
#include "cpu/ops/fused_epilogue.h"

namespace inferd {
namespace {

// im2col's scratch is cut into chunks of output positions of at most this many floats (16 MiB).
constexpr int64_t kMaxColFloats = int64_t{1} << 22;
// Work (multiply-adds) below which a parallel task is not worth a thread's wake-up.
constexpr double kMinTaskWork = 1 << 16;

// Per-thread scratch that grows to the largest size a thread has needed and is then reused: after a
// thread's first run at a given size, the kernels allocate nothing.
float* scratch(std::vector<float>& buffer, int64_t floats) {
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}
thread_local std::vector<float> col_scratch;
thread_local std::vector<float> product_scratch;

// Rows [0, rows) of y, each `count` long and `ld` apart, set to bias[row] (0 without a bias).
void fill_rows(float* y, int64_t rows, int64_t count, int64_t ld, const float* bias) {
  for (int64_t r = 0; r < rows; ++r) std::fill(y + r * ld, y + r * ld + count, bias ? bias[r] : 0.0f);
}

// What FusedConv applies to a finished block of Y after the bias: the residual Z (laid out as Y) and
// the activation. Empty for a plain Conv.
struct ConvEpilogue {
  SgemmEpilogue activation;    // the activation alone
  const float* z = nullptr;    // Z's data, or null

  bool empty() const { return !z && activation.activation == SgemmActivation::none; }
  // sgemm's epilogue for a block of Y whose first element is `offset` floats into Y, its rows `ld`
  // apart, plus `bias` per row when given (null: none, or already added).
  SgemmEpilogue at(int64_t offset, int64_t ld, const float* bias = nullptr) const {
    SgemmEpilogue e = activation;
    if (bias) {
      e.bias = bias;
      e.bias_row_step = 1;
      e.bias_col_step = 0;
    }
    if (z) {
      e.residual = z + offset;
      e.residual_ld = ld;
    }
    return e;
  }
};

// y[m·ldy + p] = t[p·cols + m] + bias[m] for p < count, m < cols: the product's Yᵀ back into NCHW,
// in tiles that keep both sides in L1; `post` (indexed from y, may be empty) is applied to each tile
// as soon as it is written.
void transpose_add_bias(const float* t, int64_t count, int64_t cols, const float* bias, float* y, int64_t ldy,
                        const SgemmEpilogue& post) {
  constexpr int64_t kTile = 32;
  for (int64_t m0 = 0; m0 < cols; m0 += kTile) {
    const int64_t m1 = std::min(cols, m0 + kTile);
    for (int64_t p0 = 0; p0 < count; p0 += kTile) {
      const int64_t p1 = std::min(count, p0 + kTile);
      for (int64_t m = m0; m < m1; ++m) {
        const float b = bias ? bias[m] : 0.0f;
        float* out = y + m * ldy;
        for (int64_t p = p0; p < p1; ++p) out[p] = t[p * cols + m] + b;
      }
      sgemm_epilogue(post, y + m0 * ldy + p0, ldy, m0, p0, m1 - m0, p1 - p0);
    }
  }
}

bool is_pointwise(const ConvGeometry& g) {
  for (int d = 0; d < g.spatial; ++d)
    if (g.kernel[d] != 1 || g.stride[d] != 1 || g.pad[d] != 0 || g.in[d] != g.out[d]) return false;
  return true;
}


class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(const KernelInit& init)
      : label_(init.node.label()),
        window_(init.attributes()),
        group_(init.attributes().get_int("group", 1)),
        fused_(init.node.domain == kInternalDomain),
        activation_(fused_ ? activation_epilogue(read_activation(init.node)) : SgemmEpilogue{}) {
    // A constant filter of an ordinary (not depthwise) conv: W_gᵀ packed per group, once.
    const Tensor* w = init.constant_input(1);
    if (!w || w->dtype != DType::f32 || w->rank() < 3 || group_ < 1 || w->shape[0] % group_ != 0) return;
    // (A 1×1 filter at stride 1 is a plain product, W·X. Strided, the product needs im2col's copy
    // of the input anyway, and the direct loop copies just the phase plane it reads.)
    const int64_t taps = w->rank() == 4 ? w->shape[2] * w->shape[3] : 0;
    const bool strided = std::any_of(window_.strides.begin(), window_.strides.end(), [](int64_t s) { return s > 1; });
    if (w->rank() == 4 && group_ == 1 && conv_direct::available() && w->shape[0] > 0 && (taps > 1 || strided) &&
        taps <= conv_direct::kMaxTaps)
      direct_filter_ = conv_direct::pack_filter(w->data_as<float>(), w->shape[0], w->shape[1], w->shape[2] * w->shape[3]);
    const int64_t Mg = w->shape[0] / group_, K = w->size() / w->shape[0];
    if (w->shape[1] == 1 && group_ > 1) return;
    if (Mg < kMinPackedChannels || K == 0) return;
    // A 1×1 filter multiplies X itself, W_g·X_g straight into Y: faster than Yᵀ against packed
    // panels and the transpose back (measured on PaddleOCR's and ResNet's pointwise convs, 10-17%).
    if (K == w->shape[1]) return;
    if (direct_filter_) return;  // the direct path needs no panels
    for (int64_t g = 0; g < group_; ++g)
      packed_.push_back(std::make_unique<PackedB>(true, K, Mg, w->data_as<float>() + g * Mg * K, K));
  }

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const float* bias = ctx.has_input(2) ? ctx.input(2).data_as<float>() : nullptr;
    Tensor& y = ctx.output(0);
    if (x.dtype != DType::f32) fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    const ConvGeometry g = window_.forward(x.shape, w.shape.data() + 2, y.shape);
    const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
    if (y.size() == 0) return;
    ConvEpilogue post{activation_, nullptr};
    if (fused_ && ctx.has_input(3)) {
      // The schema has checked Z's shape against Y's; a kernel run without it must not read past Z.
      const Tensor& z = ctx.input(3);
      if (z.shape != y.shape)
        fail(ErrorKind::invalid_argument, label_, ": input Z of shape ", shape_to_string(z.shape),
             " must have the output's shape ", shape_to_string(y.shape));
      post.z = z.data_as<float>();
    }
    if (C == 0) {  // an empty product: the bias alone
      const int64_t P = g.out_size();
      for (int64_t n = 0; n < N; ++n) {
        float* yn = y.data_as<float>() + n * M * P;
        fill_rows(yn, M, P, P, bias);
        sgemm_epilogue(post.at(n * M * P, P), yn, P, 0, 0, M, P);
      }
      return;
    }
    if (C / group_ == 1 && group_ > 1 && g.spatial <= 2)
      run_depthwise(g, x, w, bias, post, y, ctx.threads);
    else if (direct_filter_ && g.spatial == 2 && !is_pointwise(g))
      run_direct(g, x, w, bias, post, y, ctx.threads);
    else
      run_gemm(g, x, w, bias, post, y, ctx.threads);
  }

 private:
  // Below this many output channels per group the packed product's columns (sgemm's NR-wide tiles)
  // would be mostly padding.
  static constexpr int64_t kMinPackedChannels = 16;
  // Output positions per product when the filter is pre-packed (measured on 3×3 convs of 64 to 512
  // channels: 128 to 512 are within noise of each other, unchunked is up to 1.2x slower).
  static constexpr int64_t kPackedChunk = 256;

  void run_gemm(const ConvGeometry& g, const Tensor& x, const Tensor& w, const float* bias, const ConvEpilogue& post,
                Tensor& y, ThreadPool* pool) const {
    const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
    const int64_t Cg = C / group_, Mg = M / group_;
    const int64_t P = g.out_size(), P_in = g.in_size(), K = Cg * g.kernel_size();
    const bool pointwise = is_pointwise(g);
    const bool packed = !packed_.empty() && packed_[0]->rows() == K && packed_[0]->cols() == Mg;
    // With the filter pre-packed, a chunk of output positions is a product of its own whose im2col
    // columns stay in cache (K·256 floats: 576 KiB for a 3×3 conv over 64 channels). Without, each
    // chunk would pack the filter again, so chunks are as large as the scratch bound allows.
    const int64_t chunk = packed ? std::min<int64_t>(P, kPackedChunk)
                                 : std::max<int64_t>(std::min<int64_t>(P, 256), std::min(P, kMaxColFloats / std::max<int64_t>(K, 1)));
    const int64_t chunks = (P + chunk - 1) / chunk;
    const int64_t tasks = N * group_ * chunks;
    // Many independent products (images × groups × chunks) run one per thread, each on one thread;
    // few run one after another, each split over the pool.
    const int threads = pool->size();
    const double work = static_cast<double>(Mg) * static_cast<double>(K) * static_cast<double>(chunk);
    const bool across = threads > 1 && tasks >= 2 * threads && work >= kMinTaskWork;
    const float* X = x.data_as<float>();
    const float* W = w.data_as<float>();
    float* Y = y.data_as<float>();

    auto task = [&](int64_t t, ThreadPool* inner) {
      const int64_t c = t % chunks, grp = (t / chunks) % group_, n = t / (chunks * group_);
      const int64_t p0 = c * chunk, count = std::min(chunk, P - p0);
      const float* xg = X + (n * C + grp * Cg) * P_in;
      float* yg = Y + (n * M + grp * Mg) * P + p0;
      const float* bg = bias ? bias + grp * Mg : nullptr;
      const float* col = xg + p0;
      int64_t ld_col = P;
      if (!pointwise) {
        float* buffer = scratch(col_scratch, K * count);
        im2col(g, xg, Cg, p0, count, buffer, inner);
        col = buffer;
        ld_col = count;
      }
      if (packed) {
        float* product = scratch(product_scratch, count * Mg);
        sgemm_packed(true, count, 1.0f, col, ld_col, *packed_[static_cast<size_t>(grp)], 0.0f, product, Mg, inner);
        transpose_add_bias(product, count, Mg, bg, yg, P, post.at(yg - Y, P));
      } else {
        // Bias, residual and activation as sgemm's epilogue, on each tile of Y as it completes.
        const SgemmEpilogue epilogue = post.at(yg - Y, P, bg);
        sgemm(false, false, Mg, count, K, 1.0f, W + grp * Mg * K, K, col, ld_col, 0.0f, yg, P, inner,
              epilogue.empty() ? nullptr : &epilogue);
      }
    };
    if (across) {
      pool->parallel_for(tasks, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) task(t, nullptr);
      });
    } else {
      for (int64_t t = 0; t < tasks; ++t) task(t, pool);
    }
  }

  // The direct convolution (cpu/kernels/conv_direct.h) in tasks of one band of output rows of one
  // image, each padding and splitting by phase the input rows its band reads into its own thread's
  // scratch and then computing its output channels there. The thread that computes from a band's input is the one that wrote it:
  // padding the whole image on all threads and then splitting the blocks, each thread read half its
  // input from the other core's cache, and two threads were 1.4× one on a stride-2 conv instead of
  // 1.9×. Where there are too few bands to share, each band's channels are split into a group per
  // thread, and each group pads its band itself (again, so the copy stays local).
  void run_direct(const ConvGeometry& g, const Tensor& x, const Tensor& w, const float* bias, const ConvEpilogue& post,
                  Tensor& y, ThreadPool* pool) const {
    using conv_direct::kBlockChannels;
    const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
    const conv_direct::Layout l = conv_direct::layout(g, C, M);
    const float* filter = static_cast<const float*>(direct_filter_->data());
    const int64_t plane = l.OH * l.OW, bands = l.bands(), blocks = l.blocks();
    const int64_t threads = pool->size();
    const int64_t groups = N * bands >= 2 * threads ? 1 : std::min(blocks, threads);
    // A residual and a Relu or Clip are applied in registers as each block is stored; other
    // activations after each band (a pass over it while it is in cache).
    const SgemmActivation act = post.activation.activation;
    const bool in_kernel = act == SgemmActivation::none || act == SgemmActivation::relu || act == SgemmActivation::clip;
    conv_direct::Finish finish;
    if (in_kernel && act == SgemmActivation::relu) finish.lo = 0.0f;
    if (in_kernel && act == SgemmActivation::clip) finish.lo = post.activation.activation_alpha, finish.hi = post.activation.activation_beta;
    const int64_t tasks = N * bands * groups;
    pool->parallel_for(tasks, 1, [&](int64_t t0, int64_t t1) {
      float* xq = scratch(col_scratch, l.input_floats());
      float* partial = scratch(product_scratch, l.partial_floats());
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t group = t % groups, band = t / groups % bands, n = t / (groups * bands);
        const int64_t oh0 = band * l.band_rows, oh1 = std::min(l.OH, oh0 + l.band_rows);
        conv_direct::prepare_input(l, x.data_as<float>() + n * C * l.H * l.W, 0, C, oh0, xq);
        float* Yn = y.data_as<float>() + n * M * plane;
        for (int64_t b = group * blocks / groups; b < (group + 1) * blocks / groups; ++b) {
          const int64_t m0 = b * kBlockChannels, channels = std::min(kBlockChannels, M - m0);
          alignas(64) float bias_block[kBlockChannels] = {};
          if (bias) std::copy(bias + m0, bias + m0 + channels, bias_block);
          conv_direct::Finish fn = finish;
          if (in_kernel && post.z) fn.z = post.z + n * M * plane;
          conv_direct::run_band(l, xq, filter, bias_block, b, oh0, oh1, Yn, partial, fn);
          if (!in_kernel) {
            const int64_t offset = (n * M + m0) * plane + oh0 * l.OW;
            sgemm_epilogue(post.at(offset, plane), y.data_as<float>() + offset, plane, 0, 0, channels,
                           (oh1 - oh0) * l.OW);
          }
        }
      }
    });
  }

  // The most filter taps (KH·KW) the register-accumulating depthwise row takes (it keeps the row
  // offsets of the taps on the stack); 7×7 is 49.
  static constexpr int64_t kMaxTaps = 64;

  // One output row of a depthwise filter at stride 1 along the row: y[ow] = b + Σ w[kh][kw] ·
  // x[ih0 + kh·DH][ow + kw·DW − PW] over the taps inside the input. Outputs in [lo, hi) have every
  // column tap inside, and go kLanes at a time with the sum in registers; the rest test each tap.
  static void depthwise_row(const float* xp, const float* wp, float b, int64_t ih0, int64_t H, int64_t Wd, int64_t KH,
                            int64_t KW, int64_t DH, int64_t DW, int64_t PW, int64_t OW, int64_t lo, int64_t hi,
                            float* out) {
    // The taps whose rows lie inside the input, as (input row, weight) pairs.
    const float* rows[kMaxTaps];
    float weights[kMaxTaps];
    int64_t cols[kMaxTaps];
    int64_t taps = 0;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const int64_t ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (int64_t kw = 0; kw < KW; ++kw, ++taps) {
        rows[taps] = xp + ih * Wd;
        weights[taps] = wp[kh * KW + kw];
        cols[taps] = kw * DW - PW;  // output ow reads column ow + cols[t]
      }
    }
    auto edge = [&](int64_t ow) {
      float acc = b;
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t iw = ow + cols[t];
        if (iw >= 0 && iw < Wd) acc += weights[t] * rows[t][iw];
      }
      out[ow] = acc;
    };
    // kLanes floats as one value, so that the sum stays in a register across the taps (a float
    // array is kept in memory); loads and stores through memcpy, which may be unaligned.
    constexpr int64_t kLanes = 16;
    typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
    auto lanes_at = [&](int64_t ow) {
      Lanes acc = Lanes{} + b;
      for (int64_t t = 0; t < taps; ++t) {
        Lanes v;
        std::memcpy(&v, rows[t] + ow + cols[t], sizeof v);
        acc += weights[t] * v;
      }
      std::memcpy(out + ow, &acc, sizeof acc);
    };
    for (int64_t ow = 0; ow < lo; ++ow) edge(ow);
    int64_t ow = lo;
    for (; ow + kLanes <= hi; ow += kLanes) lanes_at(ow);
    // The interior's tail as one more block ending at hi, overlapping the last (it writes the same
    // values again), rather than output by output.
    if (ow < hi && hi - lo >= kLanes) {
      lanes_at(hi - kLanes);
      ow = hi;
    }
    for (; ow < OW; ++ow) edge(ow);
  }

  // Depthwise on AVX-512 (conv_direct::depthwise_plane): each input channel padded and split by
  // phase into this thread's scratch, then each of its output planes whole, vectors along the
  // padded rows, with no edge cases; its residual and activation applied while it is in L1. (Row by
  // row, with the edges tap by tap, ResNet's 28²×128 depthwise conv ran at 7 GFLOP/s.)
  void run_depthwise_direct(const ConvGeometry& g, const Tensor& x, const Tensor& w, const float* bias,
                            const ConvEpilogue& post, Tensor& y, ThreadPool* pool) const {
    const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0], Mg = M / group_;
    const conv_direct::Layout l = conv_direct::layout(g, 1, 1, g.out[0]);
    const int64_t plane = l.OH * l.OW, in_plane = l.H * l.W, taps = l.KH * l.KW;
    const float* X = x.data_as<float>();
    const float* Wt = w.data_as<float>();
    float* Y = y.data_as<float>();
    const double work = static_cast<double>(Mg * plane * taps + l.channel_floats());
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskWork / std::max(work, 1.0)));
    pool->parallel_for(N * C, grain, [&](int64_t t0, int64_t t1) {
      float* xq = scratch(col_scratch, l.input_floats());
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / C, c = t % C;
        conv_direct::prepare_input(l, X + t * in_plane, 0, 1, 0, xq);
        for (int64_t k = 0; k < Mg; ++k) {
          const int64_t o = c * Mg + k, q = n * M + o;
          conv_direct::depthwise_plane(l, xq, Wt + o * taps, bias ? bias[o] : 0.0f, Y + q * plane);
          if (!post.empty()) sgemm_epilogue(post.at(q * plane, plane), Y + q * plane, plane, 0, 0, 1, plane);
        }
      }
    });
  }

  // One input channel per group (depthwise, with `Mg` output channels each): per output plane, each
  // tap of the filter adds w · (a row of input) into a row of output. 1-D convs run as 2-D with H = 1.
  void run_depthwise(const ConvGeometry& g, const Tensor& x, const Tensor& w, const float* bias,
                     const ConvEpilogue& post, Tensor& y, ThreadPool* pool) const {
    if (g.spatial == 2 && conv_direct::available() && g.kernel[0] * g.kernel[1] <= conv_direct::kMaxTaps)
      return run_depthwise_direct(g, x, w, bias, post, y, pool);
    const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0], Mg = M / group_;
    const bool two_d = g.spatial == 2;
    const int64_t H = two_d ? g.in[0] : 1, Wd = g.in[two_d ? 1 : 0];
    const int64_t OH = two_d ? g.out[0] : 1, OW = g.out[two_d ? 1 : 0];
    const int64_t KH = two_d ? g.kernel[0] : 1, KW = g.kernel[two_d ? 1 : 0];
    const int64_t SH = two_d ? g.stride[0] : 1, SW = g.stride[two_d ? 1 : 0];
    const int64_t DH = two_d ? g.dilation[0] : 1, DW = g.dilation[two_d ? 1 : 0];
    const int64_t PH = two_d ? g.pad[0] : 0, PW = g.pad[two_d ? 1 : 0];
    const float* X = x.data_as<float>();
    const float* Wt = w.data_as<float>();
    float* Y = y.data_as<float>();
    // For filter column kw, the outputs [lo, hi) whose input column ow·SW + kw·DW − PW lies inside
    // the row: the same for every row and plane, so worked out once (divisions cost more than the
    // few multiply-adds of a small plane's row).
    constexpr int64_t kMaxColumns = 64;
    int64_t col_lo[kMaxColumns], col_hi[kMaxColumns];
    auto columns = [&](int64_t kw, int64_t* lo, int64_t* hi) {
      const int64_t offset = kw * DW - PW;  // output ow reads in[ow·SW + offset]
      *lo = std::clamp<int64_t>(offset >= 0 ? 0 : (-offset + SW - 1) / SW, 0, OW);
      *hi = std::clamp<int64_t>(Wd - offset <= 0 ? 0 : (Wd - offset + SW - 1) / SW, *lo, OW);
    };
    for (int64_t kw = 0; kw < std::min(KW, kMaxColumns); ++kw) columns(kw, &col_lo[kw], &col_hi[kw]);
    // Stride 1 along rows: outputs whose taps all land inside the row (the interior) are computed
    // kLanes at a time with every tap accumulated in registers, a load per tap and one store.
    const bool unit_row_stride = SW == 1 && KH * KW <= kMaxTaps;
    const int64_t interior_lo = std::min<int64_t>(OW, PW), interior_hi = std::max<int64_t>(interior_lo, std::min<int64_t>(OW, Wd - (KW - 1) * DW + PW));
    auto planes = [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t n = q / M, o = q % M;
        const float* xp = X + (n * C + o / Mg) * H * Wd;
        const float* wp = Wt + o * KH * KW;
        float* yp = Y + q * OH * OW;
        const float b = bias ? bias[o] : 0.0f;
        // The residual and activation of each output row, once it is complete.
        auto finish_row = [&](int64_t oh) {
          if (!post.empty()) sgemm_epilogue(post.at(q * OH * OW + oh * OW, OW), yp + oh * OW, OW, 0, 0, 1, OW);
        };
        if (unit_row_stride) {
          for (int64_t oh = 0; oh < OH; ++oh) {
            depthwise_row(xp, wp, b, oh * SH - PH, H, Wd, KH, KW, DH, DW, PW, OW, interior_lo, interior_hi, yp + oh * OW);
            finish_row(oh);
          }
          continue;
        }
        std::fill(yp, yp + OH * OW, b);
        for (int64_t oh = 0; oh < OH; ++oh) {
          float* out = yp + oh * OW;
          for (int64_t kh = 0; kh < KH; ++kh) {
            const int64_t ih = oh * SH - PH + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const float* in = xp + ih * Wd;
            for (int64_t kw = 0; kw < KW; ++kw) {
              const float wv = wp[kh * KW + kw];
              int64_t lo, hi;
              if (kw < kMaxColumns) lo = col_lo[kw], hi = col_hi[kw];
              else columns(kw, &lo, &hi);
              if (lo >= hi) continue;
              const float* src = in + (lo * SW + kw * DW - PW);
              float* dst = out + lo;
              const int64_t n_out = hi - lo;
              if (SW == 1) {
                for (int64_t j = 0; j < n_out; ++j) dst[j] += wv * src[j];
              } else {
                for (int64_t j = 0; j < n_out; ++j) dst[j] += wv * src[j * SW];
              }
            }
          }
          finish_row(oh);
        }
      }
    };
    const double plane_work = static_cast<double>(OH * OW) * static_cast<double>(KH * KW);
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskWork / std::max(plane_work, 1.0)));
    pool->parallel_for(N * M, grain, planes);
  }

  std::string label_;
  WindowAttributes window_;
  int64_t group_;
  bool fused_;                  // FusedConv: input 3 is Z, and `activation_` follows
  SgemmEpilogue activation_;    // FusedConv's activation (none for Conv)
  std::vector<std::unique_ptr<PackedB>> packed_;  // per group: W_gᵀ [K × M/g], for a constant W
  std::unique_ptr<AlignedBuffer> direct_filter_;   // W in conv_direct::pack_filter's blocks, when that path runs
};

class ConvTransposeKernel final : public Kernel {
 public:
  explicit ConvTransposeKernel(const KernelInit& init)
      : label_(init.node.label()),
        window_(init.attributes()),
        group_(init.attributes().get_int("group", 1)),
        output_padding_(init.attributes().get_ints("output_padding", {})),
        same_(window_.auto_pad == AutoPad::same_upper || window_.auto_pad == AutoPad::same_lower),
        derived_pads_(same_ || init.attributes().has("output_shape")) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const float* bias = ctx.has_input(2) ? ctx.input(2).data_as<float>() : nullptr;
    Tensor& y = ctx.output(0);
    if (x.dtype != DType::f32) fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    const ConvGeometry g = geometry(x.shape, w.shape, y.shape);
    const int64_t N = x.shape[0], C = x.shape[1], M = y.shape[1];
    const int64_t Cg = C / group_, Mg = M / group_;
    const int64_t P_in = g.out_size(), P_out = g.in_size(), rows = Mg * g.kernel_size();
    const float* X = x.data_as<float>();
    const float* W = w.data_as<float>();
    float* Y = y.data_as<float>();
    ThreadPool* pool = ctx.threads;
    for (int64_t n = 0; n < N; ++n)
      fill_rows(Y + n * M * P_out, M, P_out, P_out, bias);
    if (rows == 0 || P_in == 0) return;
    const int64_t chunk = std::max<int64_t>(std::min<int64_t>(P_in, 256), std::min(P_in, kMaxColFloats / rows));
    float* col = scratch(col_scratch, rows * std::min(chunk, P_in));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t grp = 0; grp < group_; ++grp) {
        const float* xg = X + (n * C + grp * Cg) * P_in;
        const float* wg = W + grp * Cg * rows;
        float* yg = Y + (n * M + grp * Mg) * P_out;
        for (int64_t p0 = 0; p0 < P_in; p0 += chunk) {
          const int64_t count = std::min(chunk, P_in - p0);
          sgemm(true, false, rows, count, Cg, 1.0f, wg, rows, xg + p0, P_in, 0.0f, col, count, pool);
          col2im_add(g, col, Mg, p0, count, yg, pool);
        }
      }
  }

 private:
  // The output is col2im's "input" and X its "output": a Conv from Y to X with the same window.
  ConvGeometry geometry(const Shape& x, const Shape& w, const Shape& y) const {
    ConvGeometry g;
    g.spatial = static_cast<int>(x.size()) - 2;
    const size_t s = static_cast<size_t>(g.spatial);
    for (size_t d = 0; d < s; ++d) {
      g.in[d] = y[d + 2];
      g.out[d] = x[d + 2];
      g.kernel[d] = w[d + 2];
      g.stride[d] = d < window_.strides.size() ? window_.strides[d] : 1;
      g.dilation[d] = d < window_.dilations.size() ? window_.dilations[d] : 1;
      if (derived_pads_) {
        const int64_t extra = d < output_padding_.size() ? output_padding_[d] : 0;
        int64_t total = g.stride[d] * (g.out[d] - 1) + extra + (g.kernel[d] - 1) * g.dilation[d] + 1 - g.in[d];
        // An output_shape beyond the natural size (less than a stride beyond) adds its positions at
        // the end, as onnxruntime and the ONNX reference do; SAME_* splits even a negative total.
        if (!same_) total = std::max<int64_t>(total, 0);
        const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // ⌊total/2⌋
        g.pad[d] = window_.auto_pad == AutoPad::same_upper ? half : total - half;
      } else {
        g.pad[d] = window_.auto_pad == AutoPad::notset && d < window_.pads.size() ? window_.pads[d] : 0;
      }
    }
    return g;
  }

  std::string label_;
  WindowAttributes window_;
  int64_t group_;
  std::vector<int64_t> output_padding_;
  bool same_;          // auto_pad SAME_UPPER or SAME_LOWER
  bool derived_pads_;  // pads follow from the output size (output_shape given, or auto_pad SAME_*)
};

std::unique_ptr<Kernel> make_conv(const KernelInit& init) { return std::make_unique<ConvKernel>(init); }
std::unique_ptr<Kernel> make_conv_transpose(const KernelInit& init) {
  return std::make_unique<ConvTransposeKernel>(init);
}

}  // namespace

INFERD_CPU_KERNEL("Conv", 1, kMaxOpset, make_conv);
// The same kernel; the planner looks internal ops up at the model's ai.onnx opset, hence every opset.
static const KernelRegistrar fused_conv_registrar(KernelDef{"cpu", kInternalDomain, "FusedConv", 1, kMaxOpset, make_conv});
INFERD_CPU_KERNEL("ConvTranspose", 1, kMaxOpset, make_conv_transpose);

}  // namespace inferd
