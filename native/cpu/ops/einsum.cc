// CPU kernel of Einsum. The equation is parsed once, when the kernel is made; each run resolves it
// against the inputs' shapes into labels (letters, and one label per broadcast "..." dim) with a size
// and, per input, a stride (the sum of the strides of the input's axes the label names, which is how
// a repeated letter reads a diagonal). Dims of size 1 are dropped: they move nothing, and an input
// whose "..." dim is 1 where another's is n simply does not vary along that label.
//
// One input: a strided gather that sums over the labels the output lacks (transposes, diagonals,
// reductions). Two inputs: a batched matrix product. The labels split into batch (in both inputs and
// the output), M (first input and output), N (second input and output), K (both inputs, summed) and
// labels only one input has and the output lacks (summed first). An input already laid out as
// [batch, M, K] or [batch, K, M] (likewise [batch, K, N] or [batch, N, K]) is read in place, as is an
// output laid out [batch, M, N] written in place: "bij,bjk->bik", "bhid,bhjd->bhij" and the like copy
// nothing. Anything else is first gathered into that layout in per-thread scratch. float goes through
// the blocked sgemm; other types through a plain loop. Three or more inputs take a reference loop
// over every label.
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {
namespace {

using namespace cpu;

constexpr int kLetters = 52;   // 'A'–'Z' are 0–25, 'a'–'z' 26–51
constexpr int kEllipsis = -1;  // where "..." stands in a term
constexpr int kMaxLabels = kLetters + kMaxRank;
constexpr int kMaxOperands = 16;

int letter_code(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -2;
}

// ---- The equation --------------------------------------------------------------------------------

struct Equation {
  std::vector<std::vector<int>> inputs;  // letter codes and kEllipsis, per input
  bool explicit_output = false;
  std::vector<int> output;
};

// The shape function has accepted the equation; this only re-reads it.
Equation parse(const std::string& text, const std::string& label) {
  std::string eq;
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n') eq += c;
  auto term = [&](const std::string& t) {
    std::vector<int> out;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t.compare(i, 3, "...") == 0) {
        out.push_back(kEllipsis);
        i += 2;
        continue;
      }
      const int code = letter_code(t[i]);
      if (code < 0) fail(ErrorKind::invalid_model, label, ": equation '", text, "' is not valid");
      out.push_back(code);
    }
    return out;
  };
  Equation e;
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos) {
    e.explicit_output = true;
    e.output = term(eq.substr(arrow + 2));
  }
  const std::string lhs = eq.substr(0, arrow);
  for (size_t begin = 0;;) {
    const size_t comma = lhs.find(',', begin);
    e.inputs.push_back(term(lhs.substr(begin, comma - begin)));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return e;
}

// The equation resolved against this run's shapes. Labels 0–51 are letters, kLetters + j the j-th
// broadcast "..." dim. Only labels of size other than 1 take part.
struct Resolved {
  int64_t dim[kMaxLabels];
  int64_t stride[kMaxOperands][kMaxLabels];   // per input, 0 where it lacks the label
  int input_order[kMaxOperands][kMaxRank];     // per input, its labels axis by axis (size-1 axes left out)
  int input_axes[kMaxOperands] = {};
  int out[kMaxRank];                           // the output's labels in order (size-1 dims left out)
  int out_count = 0;
  int sum[kMaxLabels];                         // labels summed over
  int sum_count = 0;
};

// ---- Strided gather-and-sum ----------------------------------------------------------------------

template <class T> using acc_t = std::conditional_t<std::is_integral_v<T>, arith_t<T>, T>;

// Σ over the `count` labels (dims, strides) of p[offset].
template <class T>
acc_t<T> sum_over(const T* p, int count, const int64_t* dims, const int64_t* strides) {
  acc_t<T> acc = 0;
  const int last = count - 1;
  const int64_t n = dims[last], s = strides[last];
  int64_t index[kMaxLabels] = {};
  int64_t offset = 0;
  while (true) {
    for (int64_t t = 0; t < n; ++t) acc += acc_t<T>(p[offset + t * s]);
    int d = last - 1;
    for (; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < dims[d]) break;
      offset -= dims[d] * strides[d];
      index[d] = 0;
    }
    if (d < 0) return acc;
  }
}

// dst (dense, dims out_dims[0..n_out)) = Σ over the sum labels of src at Σ index · stride.
template <class T>
void gather_sum(const T* src, int n_out, const int64_t* out_dims, const int64_t* out_strides, int n_sum,
                const int64_t* sum_dims, const int64_t* sum_strides, T* dst, ThreadPool* pool) {
  const int last = n_out - 1;
  const int64_t len = n_out > 0 ? out_dims[last] : 1, s = n_out > 0 ? out_strides[last] : 0;
  int64_t rows = 1, per_element = 1;
  for (int d = 0; d < last; ++d) rows *= out_dims[d];
  for (int d = 0; d < n_sum; ++d) per_element *= sum_dims[d];
  if (rows == 0 || len == 0) return;
  auto run_rows = [&](int64_t first, int64_t end) {
    int64_t index[kMaxLabels] = {};
    int64_t base = 0;
    for (int64_t r = first, d = last - 1; d >= 0; --d) {
      index[d] = r % out_dims[d];
      r /= out_dims[d];
      base += index[d] * out_strides[d];
    }
    for (int64_t row = first; row < end; ++row) {
      T* to = dst + row * len;
      const T* from = src + base;
      if (n_sum == 0) {
        for (int64_t j = 0; j < len; ++j) to[j] = from[j * s];
      } else {
        for (int64_t j = 0; j < len; ++j) to[j] = T(sum_over(from + j * s, n_sum, sum_dims, sum_strides));
      }
      for (int d = last - 1; d >= 0; --d) {
        base += out_strides[d];
        if (++index[d] < out_dims[d]) break;
        base -= out_dims[d] * out_strides[d];
        index[d] = 0;
      }
    }
  };
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(len * per_element, 1));
  if (pool) pool->parallel_for(rows, grain, run_rows);
  else run_rows(0, rows);
}

// ---- Batched products ----------------------------------------------------------------------------

// C[M×N] = op(A)·op(B) with row strides, for element types without a blocked kernel.
template <class T>
void gemm_loop(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
               int64_t ldb, T* C, int64_t ldc) {
  using A_t = acc_t<T>;
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = T(0);
    for (int64_t k = 0; k < K; ++k) {
      const A_t a = A_t(trans_a ? A[k * lda + i] : A[i * lda + k]);
      if (!trans_b) {
        const T* b = B + k * ldb;
        for (int64_t j = 0; j < N; ++j) c[j] = T(A_t(c[j]) + a * A_t(b[j]));
      } else {
        for (int64_t j = 0; j < N; ++j) c[j] = T(A_t(c[j]) + a * A_t(B[j * ldb + k]));
      }
    }
  }
}

struct Operand {
  const void* data;
  bool trans;
  int64_t ld, batch_stride;
};

template <class T>
void batched_gemm(int64_t batches, int64_t M, int64_t N, int64_t K, const Operand& a, const Operand& b, T* C,
                  ThreadPool& pool) {
  const T* A = static_cast<const T*>(a.data);
  const T* B = static_cast<const T*>(b.data);
  auto one = [&](int64_t i, ThreadPool* inner) {
    if constexpr (std::is_same_v<T, float>)
      sgemm(a.trans, b.trans, M, N, K, 1.0f, A + i * a.batch_stride, a.ld, B + i * b.batch_stride, b.ld, 0.0f,
            C + i * M * N, N, inner);
    else
      gemm_loop(a.trans, b.trans, M, N, K, A + i * a.batch_stride, a.ld, B + i * b.batch_stride, b.ld, C + i * M * N, N);
  };
  // Many batches: one per task, each product on its own thread. Few: one after another, each product
  // split over the pool (float only; sgemm's pool must not be the one already running a task).
  if (std::is_same_v<T, float> && batches < pool.size()) {
    for (int64_t i = 0; i < batches; ++i) one(i, &pool);
    return;
  }
  const double flops = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(std::max<int64_t>(K, 1));
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(kParallelGrain) / flops));
  pool.parallel_for(batches, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) one(i, nullptr);
  });
}

// ---- The kernel ----------------------------------------------------------------------------------

struct LabelList {
  int label[kMaxLabels];
  int count = 0;
  void add(int l) { label[count++] = l; }
  bool equals(const int* seq, int n) const { return n == count && std::equal(seq, seq + n, label); }
};

// Appends the labels of `lists` in order; true when `seq` (n labels) is exactly that concatenation.
bool is_concatenation(const int* seq, int n, std::initializer_list<const LabelList*> lists) {
  int at = 0;
  for (const LabelList* list : lists) {
    if (at + list->count > n || !std::equal(list->label, list->label + list->count, seq + at)) return false;
    at += list->count;
  }
  return at == n;
}

class EinsumKernel final : public Kernel {
 public:
  explicit EinsumKernel(const KernelInit& init)
      : label_(init.node.label()), eq_(parse(init.attributes().get_string("equation", ""), label_)) {
    if (eq_.inputs.size() > static_cast<size_t>(kMaxOperands))
      fail(ErrorKind::unsupported, label_, ": more than ", kMaxOperands, " inputs");
  }

  void run(const KernelContext& ctx) const override {
    Tensor& y = ctx.output(0);
    Resolved r;
    resolve(ctx, y, r);
    const int n = static_cast<int>(ctx.input_count);
    visit_dtype(y.dtype, type_list<float, double, int32_t, int64_t, uint32_t, uint64_t>{}, label_, [&](auto tag) {
      using T = decltype(tag);
      T* out = y.data_as<T>();
      const int64_t total = y.size();
      if (total == 0) return;
      for (int k = 0; k < r.sum_count; ++k)
        if (r.dim[r.sum[k]] == 0) {  // a sum over nothing
          std::fill(out, out + total, T(0));
          return;
        }
      if (n == 1) single(ctx.input(0).data_as<T>(), r, out, *ctx.threads);
      else if (n == 2) pair<T>(ctx, r, out);
      else reference<T>(ctx, r, out);
    });
  }

 private:
  void resolve(const KernelContext& ctx, const Tensor& y, Resolved& r) const {
    const size_t n = ctx.input_count;
    if (n != eq_.inputs.size())
      fail(ErrorKind::runtime, label_, ": the equation has ", eq_.inputs.size(), " input terms for ", n, " inputs");
    int ellipsis_rank[kMaxOperands] = {};
    int max_ellipsis = 0;
    for (size_t i = 0; i < n; ++i) {
      const Tensor& x = ctx.input(i);
      if (x.dtype != y.dtype)
        fail(ErrorKind::runtime, label_, ": input ", i, " is ", dtype_name(x.dtype), ", output ", dtype_name(y.dtype));
      const std::vector<int>& term = eq_.inputs[i];
      const bool has_ellipsis = std::find(term.begin(), term.end(), kEllipsis) != term.end();
      const int letters = static_cast<int>(term.size()) - (has_ellipsis ? 1 : 0);
      const int rank = x.rank();
      if (rank > kMaxRank || (has_ellipsis ? rank < letters : rank != letters))
        fail(ErrorKind::runtime, label_, ": input ", i, " of shape ", shape_to_string(x.shape),
             " does not fit the equation");
      ellipsis_rank[i] = rank - letters;
      max_ellipsis = std::max(max_ellipsis, ellipsis_rank[i]);
    }
    std::fill(r.dim, r.dim + kMaxLabels, int64_t{-1});
    int occurrences[kMaxLabels] = {};
    for (size_t i = 0; i < n; ++i) {
      const Tensor& x = ctx.input(i);
      std::fill(r.stride[i], r.stride[i] + kMaxLabels, int64_t{0});
      int64_t strides[kMaxRank];
      row_major_strides(x.shape, strides);
      int axis = 0;
      auto take = [&](int l) {
        const int64_t d = x.shape[static_cast<size_t>(axis)];
        int64_t& known = r.dim[l];
        if (known >= 0 && known != d && known != 1 && d != 1)
          fail(ErrorKind::runtime, label_, ": input ", i, " of shape ", shape_to_string(x.shape),
               " disagrees with the others on the size of an axis");
        if (known < 0 || known == 1) known = d;
        ++occurrences[l];
        if (d != 1) {
          r.stride[i][l] += strides[axis];
          r.input_order[i][r.input_axes[i]++] = l;
        }
        ++axis;
      };
      for (int code : eq_.inputs[i]) {
        if (code != kEllipsis) { take(code); continue; }
        for (int t = 0; t < ellipsis_rank[i]; ++t) take(kLetters + max_ellipsis - ellipsis_rank[i] + t);
      }
    }
    // The output's labels, checked against the planned shape.
    int out_all[kMaxLabels];
    int out_all_count = 0;
    if (eq_.explicit_output) {
      for (int code : eq_.output) {
        if (code != kEllipsis) { out_all[out_all_count++] = code; continue; }
        for (int t = 0; t < max_ellipsis; ++t) out_all[out_all_count++] = kLetters + t;
      }
    } else {
      for (int t = 0; t < max_ellipsis; ++t) out_all[out_all_count++] = kLetters + t;
      for (int code = 0; code < kLetters; ++code)
        if (occurrences[code] == 1) out_all[out_all_count++] = code;
    }
    bool fits = y.rank() == out_all_count;
    bool in_output[kMaxLabels] = {};
    for (int k = 0; fits && k < out_all_count; ++k) {
      const int l = out_all[k];
      fits = r.dim[l] >= 0 && y.shape[static_cast<size_t>(k)] == r.dim[l] && !in_output[l];
      in_output[l] = true;
      if (r.dim[l] != 1) r.out[r.out_count++] = l;
    }
    if (!fits)
      fail(ErrorKind::runtime, label_, ": the planned output ", shape_to_string(y.shape), " does not fit the equation");
    for (int l = 0; l < kMaxLabels; ++l)
      if (r.dim[l] > 1 || r.dim[l] == 0)
        if (!in_output[l]) r.sum[r.sum_count++] = l;
  }

  // One input: gather and sum straight into the output.
  template <class T> void single(const T* x, const Resolved& r, T* out, ThreadPool& pool) const {
    int64_t out_dims[kMaxLabels], out_strides[kMaxLabels], sum_dims[kMaxLabels], sum_strides[kMaxLabels];
    for (int k = 0; k < r.out_count; ++k) {
      out_dims[k] = r.dim[r.out[k]];
      out_strides[k] = r.stride[0][r.out[k]];
    }
    for (int k = 0; k < r.sum_count; ++k) {
      sum_dims[k] = r.dim[r.sum[k]];
      sum_strides[k] = r.stride[0][r.sum[k]];
    }
    gather_sum(x, r.out_count, out_dims, out_strides, r.sum_count, sum_dims, sum_strides, out, &pool);
  }

  // Two inputs: a batched product, reading in place what is already laid out for it.
  template <class T> void pair(const KernelContext& ctx, const Resolved& r, T* out) const {
    ThreadPool& pool = *ctx.threads;
    bool in_b[kMaxLabels] = {}, in_out[kMaxLabels] = {};
    for (int k = 0; k < r.input_axes[1]; ++k) in_b[r.input_order[1][k]] = true;
    for (int k = 0; k < r.out_count; ++k) in_out[r.out[k]] = true;
    LabelList batch, m, n, k, only_a, only_b;
    bool listed[kMaxLabels] = {};
    for (int t = 0; t < r.input_axes[0]; ++t) {
      const int l = r.input_order[0][t];
      if (listed[l]) continue;
      listed[l] = true;
      if (in_b[l]) (in_out[l] ? batch : k).add(l);
      else (in_out[l] ? m : only_a).add(l);
    }
    for (int t = 0; t < r.input_axes[1]; ++t) {
      const int l = r.input_order[1][t];
      if (listed[l]) continue;
      listed[l] = true;
      (in_out[l] ? n : only_b).add(l);
    }
    auto product = [&](const LabelList& list) {
      int64_t p = 1;
      for (int t = 0; t < list.count; ++t) p *= r.dim[list.label[t]];
      return p;
    };
    const int64_t B = product(batch), M = product(m), N = product(n), K = product(k);

    // Gathers input i into [batch, first, second] in `scratch`, summing its own labels.
    auto gather = [&](int i, const LabelList& first, const LabelList& second, const LabelList& own,
                      std::vector<T>& scratch) {
      int64_t dims[kMaxLabels], strides[kMaxLabels], sdims[kMaxLabels], sstrides[kMaxLabels];
      int count = 0;
      for (const LabelList* list : std::initializer_list<const LabelList*>{&batch, &first, &second})
        for (int t = 0; t < list->count; ++t, ++count) {
          dims[count] = r.dim[list->label[t]];
          strides[count] = r.stride[i][list->label[t]];
        }
      for (int t = 0; t < own.count; ++t) {
        sdims[t] = r.dim[own.label[t]];
        sstrides[t] = r.stride[i][own.label[t]];
      }
      const size_t size = static_cast<size_t>(B * product(first) * product(second));
      if (scratch.size() < size) scratch.resize(size);  // grows once to the largest size seen
      gather_sum(ctx.input(i).data_as<T>(), count, dims, strides, own.count, sdims, sstrides, scratch.data(), &pool);
    };
    thread_local std::vector<T> scratch_a, scratch_b, scratch_c;

    Operand a{ctx.input(0).data, false, K, M * K};
    const int* seq_a = r.input_order[0];
    if (only_a.count == 0 && is_concatenation(seq_a, r.input_axes[0], {&batch, &m, &k})) {
    } else if (only_a.count == 0 && is_concatenation(seq_a, r.input_axes[0], {&batch, &k, &m})) {
      a.trans = true;
      a.ld = M;
    } else {
      gather(0, m, k, only_a, scratch_a);
      a.data = scratch_a.data();
    }
    Operand b{ctx.input(1).data, false, N, K * N};
    const int* seq_b = r.input_order[1];
    if (only_b.count == 0 && is_concatenation(seq_b, r.input_axes[1], {&batch, &k, &n})) {
    } else if (only_b.count == 0 && is_concatenation(seq_b, r.input_axes[1], {&batch, &n, &k})) {
      b.trans = true;
      b.ld = K;
    } else {
      gather(1, k, n, only_b, scratch_b);
      b.data = scratch_b.data();
    }
    if (is_concatenation(r.out, r.out_count, {&batch, &m, &n})) {
      batched_gemm(B, M, N, K, a, b, out, pool);
      return;
    }
    const size_t size = static_cast<size_t>(B * M * N);
    if (scratch_c.size() < size) scratch_c.resize(size);
    batched_gemm(B, M, N, K, a, b, scratch_c.data(), pool);
    // [batch, M, N] → the output's order.
    int64_t c_stride[kMaxLabels] = {};
    int64_t step = 1;
    for (const LabelList* list : {&n, &m, &batch})
      for (int t = list->count - 1; t >= 0; --t) {
        c_stride[list->label[t]] = step;
        step *= r.dim[list->label[t]];
      }
    int64_t dims[kMaxLabels], strides[kMaxLabels];
    for (int t = 0; t < r.out_count; ++t) {
      dims[t] = r.dim[r.out[t]];
      strides[t] = c_stride[r.out[t]];
    }
    gather_sum(static_cast<const T*>(scratch_c.data()), r.out_count, dims, strides, 0, dims, strides, out, &pool);
  }

  // Three or more inputs: for each output element, the sum over the other labels of the product of
  // the inputs' elements.
  template <class T> void reference(const KernelContext& ctx, const Resolved& r, T* out) const {
    const int n = static_cast<int>(ctx.input_count);
    const T* data[kMaxOperands];
    for (int i = 0; i < n; ++i) data[i] = ctx.input(static_cast<size_t>(i)).data_as<T>();
    int labels[kMaxLabels];
    int count = 0;
    for (int t = 0; t < r.out_count; ++t) labels[count++] = r.out[t];
    for (int t = 0; t < r.sum_count; ++t) labels[count++] = r.sum[t];
    int64_t index[kMaxLabels] = {};
    int64_t sum_size = 1;
    for (int t = 0; t < r.sum_count; ++t) sum_size *= r.dim[r.sum[t]];
    const int64_t total = ctx.output(0).size();
    for (int64_t o = 0; o < total; ++o) {
      acc_t<T> acc = 0;
      for (int64_t s = 0; s < sum_size; ++s) {
        acc_t<T> product = 1;
        for (int i = 0; i < n; ++i) {
          int64_t offset = 0;
          for (int t = 0; t < count; ++t) offset += index[t] * r.stride[i][labels[t]];
          product = product * acc_t<T>(data[i][offset]);
        }
        acc += product;
        for (int t = count - 1; t >= r.out_count; --t) {  // the next sum position
          if (++index[t] < r.dim[labels[t]]) break;
          index[t] = 0;
        }
      }
      out[o] = T(acc);
      for (int t = r.out_count - 1; t >= 0; --t) {  // the next output position
        if (++index[t] < r.dim[labels[t]]) break;
        index[t] = 0;
      }
    }
  }

  std::string label_;
  Equation eq_;
};

std::unique_ptr<Kernel> make_einsum(const KernelInit& init) { return std::make_unique<EinsumKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Einsum", 12, kMaxOpset, make_einsum);

}  // namespace inferd
