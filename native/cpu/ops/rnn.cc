// LSTM and GRU on the CPU, in float (shapes in core/shapes/rnn.cc).
//
// Per direction, the input's share of every gate for every time step is one product before the
// recurrence, XW[S·N × G·H] = X·Wᵀ (W pre-packed at load when constant); each step then multiplies
// only the hidden state, H_{t-1}[N × H]·Rᵀ (R pre-packed likewise), and applies the gate equations
// row by row. Directions, and batch rows, are independent recurrences: threads take whole ones
// (a direction's strip of rows for every step, no synchronisation per step), unless there are too
// few of them for the pool and each step's product is big enough to split instead.
//
// sequence_lens (as onnxruntime reads it): batch row b runs len_b steps, forward over t = 0..len_b-1
// and in reverse over t = len_b-1..0; Y is 0 at t >= len_b, Y_h and Y_c hold the state after the last
// step, and 0 when len_b = 0.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/thread_pool.h"
#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {
namespace {

using namespace cpu;

enum class Cell { lstm, gru };

// ---- Activation functions ------------------------------------------------------------------------

enum class Fn { sigmoid, tanh, relu, affine, leaky_relu, thresholded_relu, scaled_tanh, hard_sigmoid, elu, softsign, softplus };

struct Activation {
  Fn fn = Fn::sigmoid;
  float alpha = 0.0f, beta = 0.0f;
};

template <class F> void map_in_place(float* x, int64_t n, F f) {
  for (int64_t j = 0; j < n; ++j) x[j] = f(x[j]);
}

// x[0..n) = fn(x[0..n)): the switch outside, a vectorisable loop inside.
void activate(const Activation& a, float* x, int64_t n) {
  const float alpha = a.alpha, beta = a.beta;
  switch (a.fn) {
    case Fn::sigmoid: map_in_place(x, n, [](float v) { return math::sigmoid(v); }); break;
    case Fn::tanh: map_in_place(x, n, [](float v) { return math::tanh(v); }); break;
    case Fn::relu: map_in_place(x, n, [](float v) { return v < 0.0f ? 0.0f : v; }); break;
    case Fn::affine: map_in_place(x, n, [=](float v) { return alpha * v + beta; }); break;
    case Fn::leaky_relu: map_in_place(x, n, [=](float v) { return v < 0.0f ? alpha * v : v; }); break;
    case Fn::thresholded_relu: map_in_place(x, n, [=](float v) { return v > alpha ? v : 0.0f; }); break;
    case Fn::scaled_tanh: map_in_place(x, n, [=](float v) { return alpha * math::tanh(beta * v); }); break;
    case Fn::hard_sigmoid:
      map_in_place(x, n, [=](float v) {
        const float y = alpha * v + beta;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
      });
      break;
    case Fn::elu: map_in_place(x, n, [=](float v) { return v < 0.0f ? alpha * (math::exp(v) - 1.0f) : v; }); break;
    case Fn::softsign: map_in_place(x, n, [](float v) { return v / (1.0f + std::fabs(v)); }); break;
    case Fn::softplus:
      map_in_place(x, n, [](float v) { return (v > 0.0f ? v : 0.0f) + std::log1p(math::exp(-std::fabs(v))); });
      break;
  }
}

// How each function takes activation_alpha / activation_beta, and the values it falls back to (the
// defaults of the ONNX operators of the same names). As in onnxruntime, a function consumes the next
// alpha (beta) of the list only if it has one, so the lists hold just the values used, in order.
struct FnInfo {
  const char* name;  // lower case
  Fn fn;
  bool takes_alpha, takes_beta;
  float alpha, beta;
};
constexpr FnInfo kFunctions[] = {
    {"sigmoid", Fn::sigmoid, false, false, 0.0f, 0.0f},
    {"tanh", Fn::tanh, false, false, 0.0f, 0.0f},
    {"relu", Fn::relu, false, false, 0.0f, 0.0f},
    {"affine", Fn::affine, true, true, 1.0f, 0.0f},
    {"leakyrelu", Fn::leaky_relu, true, false, 0.01f, 0.0f},
    {"thresholdedrelu", Fn::thresholded_relu, true, false, 1.0f, 0.0f},
    {"scaledtanh", Fn::scaled_tanh, true, true, 1.0f, 1.0f},
    {"hardsigmoid", Fn::hard_sigmoid, true, true, 0.2f, 0.5f},
    {"elu", Fn::elu, true, false, 1.0f, 0.0f},
    {"softsign", Fn::softsign, false, false, 0.0f, 0.0f},
    {"softplus", Fn::softplus, false, false, 0.0f, 0.0f},
};

// ---- Scratch -------------------------------------------------------------------------------------

// Per-thread buffers that grow to the largest size a thread has needed and are then reused.
template <typename T> T* scratch(std::vector<T>& buffer, int64_t count) {
  if (static_cast<int64_t>(buffer.size()) < count) buffer.resize(static_cast<size_t>(count));
  return buffer.data();
}
thread_local std::vector<float> run_scratch;   // XW and biases of all directions: the calling thread
thread_local std::vector<float> step_scratch;  // a task's state and gates: the thread running it
thread_local std::vector<int64_t> lens_scratch;

// Batch rows per task when rows are spread over threads: at least a register tile of sgemm's, so
// that the per-step products keep their efficiency.
constexpr int64_t kMinTaskRows = 8;
// Flops of one step's product (per direction) from which splitting the product over the pool beats
// leaving threads idle: below it a parallel_for's wake-up costs about as much as it saves.
constexpr double kMinSplitStepFlops = 1 << 22;

// ---- The kernel ----------------------------------------------------------------------------------

// What one run computes on, fixed before the recurrence starts.
struct Problem {
  int64_t S = 0, N = 0, I = 0, H = 0, D = 0, G = 0;
  bool batch_first = false;
  const float* W = nullptr;      // [D, G·H, I]
  const float* R = nullptr;      // [D, G·H, H]
  const float* xw = nullptr;     // [D, S·N, G·H]: X·Wᵀ, rows in X's order
  const float* bias = nullptr;   // [D, G·H]: Wb + Rb (GRU with linear_before_reset: Wb alone for h)
  const float* rbh = nullptr;    // [D, H]: GRU's Rbh when linear_before_reset
  const float* P = nullptr;      // [D, 3·H] or null
  const float* init_h = nullptr;
  const float* init_c = nullptr;
  const int64_t* lens = nullptr; // [N]
  int64_t max_len = 0;
  float* Y = nullptr;
  float* Y_h = nullptr;
  float* Y_c = nullptr;

  int64_t x_row(int64_t t, int64_t b) const { return batch_first ? b * S + t : t * N + b; }
  float* y_row(int64_t t, int64_t d, int64_t b) const {
    return Y + (batch_first ? (b * S + t) * D + d : (t * D + d) * N + b) * H;
  }
  int64_t state_offset(int64_t d, int64_t b) const { return (batch_first ? b * D + d : d * N + b) * H; }
};

void clip_in_place(float* x, int64_t n, float clip) {
  for (int64_t j = 0; j < n; ++j) x[j] = x[j] < -clip ? -clip : (x[j] > clip ? clip : x[j]);
}

class RnnKernel final : public Kernel {
 public:
  RnnKernel(const KernelInit& init, Cell cell, bool has_layout, bool has_linear_before_reset)
      : label_(init.node.label()), cell_(cell), G_(cell == Cell::lstm ? 4 : 3) {
    const Attributes& attrs = init.attributes();
    const std::string direction = attrs.get_string("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
      fail(ErrorKind::invalid_model, label_, ": attribute 'direction' is '", direction,
           "'; expected forward, reverse or bidirectional");
    D_ = direction == "bidirectional" ? 2 : 1;
    reverse_only_ = direction == "reverse";
    batch_first_ = has_layout && attrs.get_int("layout", 0) == 1;
    has_clip_ = attrs.has("clip");
    clip_ = attrs.get_float("clip", 0.0f);
    input_forget_ = cell == Cell::lstm && attrs.get_int("input_forget", 0) != 0;
    linear_before_reset_ = has_linear_before_reset && attrs.get_int("linear_before_reset", 0) != 0;
    read_activations(attrs);
    pack_weights(init);
  }

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype != DType::f32) fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    const Tensor& w = ctx.input(1);
    const Tensor& r = ctx.input(2);
    Problem p;
    p.batch_first = batch_first_;
    p.S = batch_first_ ? x.shape[1] : x.shape[0];
    p.N = batch_first_ ? x.shape[0] : x.shape[1];
    p.I = x.shape[2];
    p.H = r.shape[2];
    p.D = D_;
    p.G = G_;
    p.W = w.data_as<float>();
    p.R = r.data_as<float>();
    const int64_t S = p.S, N = p.N, H = p.H, GH = G_ * H;
    if (ctx.output_count > 0) p.Y = ctx.output(0).data_as<float>();
    if (ctx.output_count > 1) p.Y_h = ctx.output(1).data_as<float>();
    if (cell_ == Cell::lstm && ctx.output_count > 2) p.Y_c = ctx.output(2).data_as<float>();
    if (N == 0 || H == 0) return;  // every output is empty
    if (cell_ == Cell::lstm) {
      if (ctx.has_input(6)) p.init_c = ctx.input(6).data_as<float>();
      if (ctx.has_input(7)) p.P = ctx.input(7).data_as<float>();
    }
    if (ctx.has_input(5)) p.init_h = ctx.input(5).data_as<float>();

    int64_t* lens = scratch(lens_scratch, N);
    read_lengths(ctx, S, N, lens);
    p.lens = lens;
    p.max_len = *std::max_element(lens, lens + N);

    // The calling thread's scratch: XW, then the combined biases.
    const int64_t xw_floats = D_ * S * N * GH;
    float* buffer = scratch(run_scratch, xw_floats + D_ * (GH + H));
    float* xw = buffer;
    float* bias = buffer + xw_floats;
    float* rbh = bias + D_ * GH;
    combine_biases(ctx.has_input(3) ? ctx.input(3).data_as<float>() : nullptr, H, bias, rbh);
    p.xw = xw;
    p.bias = bias;
    p.rbh = rbh;

    ThreadPool* pool = ctx.threads;
    const int64_t rows = S * N;
    if (p.max_len > 0 && rows > 0)
      for (int64_t d = 0; d < D_; ++d) {
        const float* Wd = p.W + d * GH * p.I;
        float* out = xw + d * rows * GH;
        const PackedB* packed = d < static_cast<int64_t>(w_packed_.size()) ? w_packed_[d].get() : nullptr;
        if (packed && rows > 1 && packed->rows() == p.I && packed->cols() == GH)
          sgemm_packed(false, rows, 1.0f, x.data_as<float>(), p.I, *packed, 0.0f, out, GH, pool);
        else
          sgemm(false, true, rows, GH, p.I, 1.0f, x.data_as<float>(), p.I, Wd, p.I, 0.0f, out, GH, pool);
      }

    // Tasks: a direction × a strip of batch rows, each a whole recurrence.
    const int threads = pool->size();
    const int64_t strip = std::max(kMinTaskRows, (N + threads - 1) / threads);
    const int64_t strips = (N + strip - 1) / strip, tasks = D_ * strips;
    const double step_flops = 2.0 * static_cast<double>(N) * static_cast<double>(GH) * static_cast<double>(H);
    if (threads > 1 && tasks > 1 && (tasks >= threads || step_flops < kMinSplitStepFlops)) {
      pool->parallel_for(tasks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
          const int64_t b0 = (k % strips) * strip;
          run_rows(p, k / strips, b0, std::min(N, b0 + strip), nullptr);
        }
      });
    } else {
      for (int64_t d = 0; d < D_; ++d) run_rows(p, d, 0, N, pool);
    }
  }

 private:
  void read_activations(const Attributes& attrs) {
    const int functions = cell_ == Cell::lstm ? 3 : 2;
    std::vector<std::string> names;
    if (const Attribute* a = attrs.find("activations")) {
      if (a->type != Attribute::Type::strings)
        fail(ErrorKind::invalid_model, label_, ": attribute 'activations' must be a list of strings");
      names = a->strings;
      if (static_cast<int64_t>(names.size()) != functions * D_)
        fail(ErrorKind::invalid_model, label_, ": attribute 'activations' has ", names.size(), " functions; expected ",
             functions * D_);
    } else {
      for (int64_t d = 0; d < D_; ++d) {
        names.push_back("Sigmoid");
        names.push_back("Tanh");
        if (cell_ == Cell::lstm) names.push_back("Tanh");
      }
    }
    const std::vector<float> alphas = attrs.get_floats("activation_alpha", {});
    const std::vector<float> betas = attrs.get_floats("activation_beta", {});
    size_t next_alpha = 0, next_beta = 0;
    for (size_t k = 0; k < names.size(); ++k) {
      std::string lower(names[k]);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const FnInfo* info = nullptr;
      for (const FnInfo& f : kFunctions)
        if (lower == f.name) info = &f;
      if (!info) fail(ErrorKind::unsupported, label_, ": activation '", names[k], "' is not supported");
      Activation& a = act_[k / functions][k % functions];
      a.fn = info->fn;
      a.alpha = info->alpha;
      a.beta = info->beta;
      if (info->takes_alpha && next_alpha < alphas.size()) a.alpha = alphas[next_alpha++];
      if (info->takes_beta && next_beta < betas.size()) a.beta = betas[next_beta++];
    }
  }

  // W and R as the products read them, packed once when they are constants: W_dᵀ [I × G·H], and
  // R_dᵀ [H × G·H] (LSTM) or its z, r columns [H × 2H] and h columns [H × H] apart (GRU, whose h
  // product may take r ⊙ H_{t-1} in place of H_{t-1}).
  void pack_weights(const KernelInit& init) {
    const Tensor* w = init.constant_input(1);
    const Tensor* r = init.constant_input(2);
    if (r && r->dtype == DType::f32 && r->rank() == 3 && r->shape[0] == D_ && r->shape[1] == G_ * r->shape[2] &&
        r->shape[2] > 0) {
      const int64_t H = r->shape[2];
      for (int64_t d = 0; d < D_; ++d) {
        const float* Rd = r->data_as<float>() + d * G_ * H * H;
        if (cell_ == Cell::lstm) {
          r_packed_.push_back(std::make_unique<PackedB>(true, H, 4 * H, Rd, H));
        } else {
          r_packed_.push_back(std::make_unique<PackedB>(true, H, 2 * H, Rd, H));
          rh_packed_.push_back(std::make_unique<PackedB>(true, H, H, Rd + 2 * H * H, H));
        }
      }
    }
    if (w && w->dtype == DType::f32 && w->rank() == 3 && w->shape[0] == D_ && w->shape[1] > 0 && w->shape[2] > 0) {
      const int64_t GH = w->shape[1], I = w->shape[2];
      for (int64_t d = 0; d < D_; ++d)
        w_packed_.push_back(std::make_unique<PackedB>(true, I, GH, w->data_as<float>() + d * GH * I, I));
    }
  }

  void read_lengths(const KernelContext& ctx, int64_t S, int64_t N, int64_t* lens) const {
    if (!ctx.has_input(4)) {
      std::fill(lens, lens + N, S);
      return;
    }
    const Tensor& t = ctx.input(4);
    for (int64_t b = 0; b < N; ++b) {
      const int64_t len = t.dtype == DType::i32 ? t.data_as<int32_t>()[b] : t.data_as<int64_t>()[b];
      if (len < 0 || len > S)
        fail(ErrorKind::runtime, label_, ": sequence_lens[", b, "] is ", len, "; expected a length in [0, ", S, "]");
      lens[b] = len;
    }
  }

  // bias[d] = Wb + Rb for every gate, except GRU's h gate with linear_before_reset, where Rbh goes
  // inside r ⊙ (…) and is kept apart in rbh[d].
  void combine_biases(const float* B, int64_t H, float* bias, float* rbh) const {
    const int64_t GH = G_ * H;
    if (!B) {
      std::fill(bias, bias + D_ * GH, 0.0f);
      std::fill(rbh, rbh + D_ * H, 0.0f);
      return;
    }
    for (int64_t d = 0; d < D_; ++d) {
      const float* wb = B + d * 2 * GH;
      const float* rb = wb + GH;
      float* out = bias + d * GH;
      for (int64_t j = 0; j < GH; ++j) out[j] = wb[j] + rb[j];
      if (cell_ == Cell::gru && linear_before_reset_) {
        std::copy(wb + 2 * H, wb + 3 * H, out + 2 * H);
        std::copy(rb + 2 * H, rb + 3 * H, rbh + d * H);
      }
    }
  }

  // C[M × cols] = A[M × H]·R_partᵀ, R_part being `cols` rows of R (H apart) starting at `rows`.
  static void recurrent_product(const float* A, int64_t M, int64_t H, const float* rows, int64_t cols,
                                const PackedB* packed, float* C, ThreadPool* pool) {
    // One row is faster straight from R (sgemm's GEMV path) than through the packed panels.
    if (packed && M > 1 && packed->rows() == H && packed->cols() == cols)
      sgemm_packed(false, M, 1.0f, A, H, *packed, 0.0f, C, cols, pool);
    else
      sgemm(false, true, M, cols, H, 1.0f, A, H, rows, H, 0.0f, C, cols, pool);
  }

  bool reversed(int64_t d) const { return reverse_only_ || d == 1; }

  // Direction d's recurrence for batch rows [b0, b1), every step, on the calling thread's scratch;
  // `pool` (null inside a parallel task) only splits the per-step products.
  void run_rows(const Problem& p, int64_t d, int64_t b0, int64_t b1, ThreadPool* pool) const {
    const int64_t M = b1 - b0, H = p.H, GH = G_ * H, MH = M * H;
    // State and gates, row i for batch row b0 + i: h, then c (LSTM) or r ⊙ h (GRU), then the
    // step's products.
    float* h = scratch(step_scratch, 2 * MH + M * GH);
    float* aux = h + MH;
    float* rec = aux + MH;
    int64_t steps = 0;
    for (int64_t i = 0; i < M; ++i) {
      const int64_t at = p.state_offset(d, b0 + i);
      if (p.init_h) std::copy(p.init_h + at, p.init_h + at + H, h + i * H);
      else std::fill(h + i * H, h + (i + 1) * H, 0.0f);
      if (cell_ == Cell::lstm) {
        if (p.init_c) std::copy(p.init_c + at, p.init_c + at + H, aux + i * H);
        else std::fill(aux + i * H, aux + (i + 1) * H, 0.0f);
      }
      steps = std::max(steps, p.lens[b0 + i]);
    }
    const float* Rd = p.R + d * GH * H;
    const PackedB* packed_r = packed(r_packed_, d);
    const PackedB* packed_rh = packed(rh_packed_, d);
    const bool rev = reversed(d);
    for (int64_t s = 0; s < steps; ++s) {
      // The time step batch row b takes at step s, or -1 once its sequence has ended.
      auto time_of = [&](int64_t b) { return s >= p.lens[b] ? -1 : (rev ? p.lens[b] - 1 - s : s); };
      if (cell_ == Cell::lstm) {
        recurrent_product(h, M, H, Rd, GH, packed_r, rec, pool);
        for (int64_t i = 0; i < M; ++i)
          if (const int64_t t = time_of(b0 + i); t >= 0) lstm_row(p, d, t, b0 + i, rec + i * GH, h + i * H, aux + i * H);
        continue;
      }
      float* rec_zr = rec;          // [M × 2H]
      float* rec_h = rec + 2 * MH;  // [M × H]
      recurrent_product(h, M, H, Rd, 2 * H, packed_r, rec_zr, pool);
      if (linear_before_reset_) {
        recurrent_product(h, M, H, Rd + 2 * H * H, H, packed_rh, rec_h, pool);
        for (int64_t i = 0; i < M; ++i)
          if (const int64_t t = time_of(b0 + i); t >= 0) {
            gru_gates(p, d, t, b0 + i, rec_zr + i * 2 * H, h + i * H, nullptr);
            gru_hidden(p, d, t, b0 + i, rec_zr + i * 2 * H, rec_h + i * H, h + i * H);
          }
      } else {
        // h's product takes r ⊙ H_{t-1}: the gates of every row first, then the product.
        for (int64_t i = 0; i < M; ++i) {
          if (const int64_t t = time_of(b0 + i); t >= 0) gru_gates(p, d, t, b0 + i, rec_zr + i * 2 * H, h + i * H, aux + i * H);
          else std::fill(aux + i * H, aux + (i + 1) * H, 0.0f);
        }
        recurrent_product(aux, M, H, Rd + 2 * H * H, H, packed_rh, rec_h, pool);
        for (int64_t i = 0; i < M; ++i)
          if (const int64_t t = time_of(b0 + i); t >= 0) gru_hidden(p, d, t, b0 + i, rec_zr + i * 2 * H, rec_h + i * H, h + i * H);
      }
    }

    // Y past each sequence's end, and the final states.
    for (int64_t i = 0; i < M; ++i) {
      const int64_t b = b0 + i;
      if (p.Y)
        for (int64_t t = p.lens[b]; t < p.S; ++t) std::fill(p.y_row(t, d, b), p.y_row(t, d, b) + H, 0.0f);
      const bool empty = p.lens[b] == 0;
      if (p.Y_h) {
        float* out = p.Y_h + p.state_offset(d, b);
        if (empty) std::fill(out, out + H, 0.0f);
        else std::copy(h + i * H, h + (i + 1) * H, out);
      }
      if (p.Y_c) {
        float* out = p.Y_c + p.state_offset(d, b);
        if (empty) std::fill(out, out + H, 0.0f);
        else std::copy(aux + i * H, aux + (i + 1) * H, out);
      }
    }
  }

  static const PackedB* packed(const std::vector<std::unique_ptr<PackedB>>& list, int64_t d) {
    return d < static_cast<int64_t>(list.size()) ? list[static_cast<size_t>(d)].get() : nullptr;
  }

  // One LSTM step of batch row b at time t. g holds H_{t-1}·Rᵀ for the gates i, o, f, c and is
  // overwritten; h and c are the row's state, updated in place.
  void lstm_row(const Problem& p, int64_t d, int64_t t, int64_t b, float* g, float* h, float* c) const {
    const int64_t H = p.H, GH = 4 * H;
    const float* xw = p.xw + (d * p.S * p.N + p.x_row(t, b)) * GH;
    const float* bias = p.bias + d * GH;
    float* gi = g;
    float* go = g + H;
    float* gf = g + 2 * H;
    float* gc = g + 3 * H;
    const Activation& f = act_[d][0];
    for (int64_t j = 0; j < GH; ++j) g[j] += xw[j] + bias[j];
    const float* P = p.P ? p.P + d * 3 * H : nullptr;  // i, o, f
    if (P)
      for (int64_t j = 0; j < H; ++j) {
        gi[j] += P[j] * c[j];
        gf[j] += P[2 * H + j] * c[j];
      }
    if (has_clip_) {
      clip_in_place(gi, H, clip_);
      clip_in_place(gf, 2 * H, clip_);  // f and c
    }
    activate(f, gi, H);
    if (input_forget_)
      for (int64_t j = 0; j < H; ++j) gf[j] = 1.0f - gi[j];
    else
      activate(f, gf, H);
    activate(act_[d][1], gc, H);
    for (int64_t j = 0; j < H; ++j) c[j] = gf[j] * c[j] + gi[j] * gc[j];
    if (P)
      for (int64_t j = 0; j < H; ++j) go[j] += P[H + j] * c[j];
    if (has_clip_) clip_in_place(go, H, clip_);
    activate(f, go, H);
    std::copy(c, c + H, gc);
    activate(act_[d][2], gc, H);
    for (int64_t j = 0; j < H; ++j) h[j] = go[j] * gc[j];
    if (p.Y) std::copy(h, h + H, p.y_row(t, d, b));
  }

  // GRU's z and r of batch row b at time t, in place in zr (which holds H_{t-1}·R_zrᵀ); with rh,
  // also r ⊙ H_{t-1} for the h product.
  void gru_gates(const Problem& p, int64_t d, int64_t t, int64_t b, float* zr, const float* h, float* rh) const {
    const int64_t H = p.H;
    const float* xw = p.xw + (d * p.S * p.N + p.x_row(t, b)) * 3 * H;
    const float* bias = p.bias + d * 3 * H;
    for (int64_t j = 0; j < 2 * H; ++j) zr[j] += xw[j] + bias[j];
    if (has_clip_) clip_in_place(zr, 2 * H, clip_);
    activate(act_[d][0], zr, 2 * H);
    if (rh) {
      const float* r = zr + H;
      for (int64_t j = 0; j < H; ++j) rh[j] = r[j] * h[j];
    }
  }

  // GRU's h gate and the new state of batch row b at time t. hh holds (r ⊙ H_{t-1})·R_hᵀ, or
  // H_{t-1}·R_hᵀ with linear_before_reset, and is overwritten.
  void gru_hidden(const Problem& p, int64_t d, int64_t t, int64_t b, const float* zr, float* hh, float* h) const {
    const int64_t H = p.H;
    const float* xw = p.xw + (d * p.S * p.N + p.x_row(t, b)) * 3 * H + 2 * H;
    const float* bias = p.bias + d * 3 * H + 2 * H;
    const float* z = zr;
    if (linear_before_reset_) {
      const float* r = zr + H;
      const float* rbh = p.rbh + d * H;
      for (int64_t j = 0; j < H; ++j) hh[j] = xw[j] + bias[j] + r[j] * (hh[j] + rbh[j]);
    } else {
      for (int64_t j = 0; j < H; ++j) hh[j] += xw[j] + bias[j];
    }
    if (has_clip_) clip_in_place(hh, H, clip_);
    activate(act_[d][1], hh, H);
    for (int64_t j = 0; j < H; ++j) h[j] = (1.0f - z[j]) * hh[j] + z[j] * h[j];
    if (p.Y) std::copy(h, h + H, p.y_row(t, d, b));
  }

  std::string label_;
  Cell cell_;
  int64_t G_;                 // gates: 4 (i, o, f, c) or 3 (z, r, h)
  int64_t D_ = 1;             // directions
  bool reverse_only_ = false;
  bool batch_first_ = false;  // layout = 1
  bool has_clip_ = false;
  float clip_ = 0.0f;
  bool input_forget_ = false;
  bool linear_before_reset_ = false;
  Activation act_[2][3];      // [direction][f, g, h]
  std::vector<std::unique_ptr<PackedB>> w_packed_, r_packed_, rh_packed_;  // per direction, when constant
};

std::unique_ptr<Kernel> make_lstm_1(const KernelInit& init) {
  return std::make_unique<RnnKernel>(init, Cell::lstm, false, false);
}
std::unique_ptr<Kernel> make_lstm_14(const KernelInit& init) {
  return std::make_unique<RnnKernel>(init, Cell::lstm, true, false);
}
std::unique_ptr<Kernel> make_gru_1(const KernelInit& init) {
  return std::make_unique<RnnKernel>(init, Cell::gru, false, false);
}
std::unique_ptr<Kernel> make_gru_3(const KernelInit& init) {
  return std::make_unique<RnnKernel>(init, Cell::gru, false, true);
}
std::unique_ptr<Kernel> make_gru_14(const KernelInit& init) {
  return std::make_unique<RnnKernel>(init, Cell::gru, true, true);
}

}  // namespace

// Opsets 7 and 22 changed nothing the kernel computes (7 dropped output_sequence, 22 added bfloat16).
INFERD_CPU_KERNEL("LSTM", 1, 13, make_lstm_1);
INFERD_CPU_KERNEL("LSTM", 14, kMaxOpset, make_lstm_14);
INFERD_CPU_KERNEL("GRU", 1, 2, make_gru_1);
INFERD_CPU_KERNEL("GRU", 3, 13, make_gru_3);
INFERD_CPU_KERNEL("GRU", 14, kMaxOpset, make_gru_14);

}  // namespace inferd
