#include "cuda/ops/transpose.cuh"

namespace inferd::gpu {
namespace {

template <class T> __global__ void permute(const T* x, T* y, int64_t n, Indexer out, Strides in_strides) {
  INFERD_GRID_STRIDE(i, n) y[i] = x[out.offset(i, in_strides.s)];
}

class TransposeKernel final : public CudaKernel {
 public:
  explicit TransposeKernel(const KernelInit& init)
      : CudaKernel(init), label_(init.node.label()), perm_(init.attributes().get_ints("perm", {})) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (rank > kMaxRank) fail(ErrorKind::unsupported, label_, ": rank ", rank, " exceeds ", kMaxRank);
    int64_t strides[kMaxRank];
    row_major_strides(x.shape, strides);
    Strides in;
    for (int d = 0; d < rank; ++d) {
      // The default permutation reverses the dims.
      const int64_t p = perm_.empty() ? rank - 1 - d : perm_[static_cast<size_t>(d)];
      in.s[d] = strides[normalize_axis(p, rank, label_, "perm entry")];
    }
    const int64_t n = y.size();
    if (n == 0) return;
    dispatch_by_size(x.dtype, label_, [&](auto zero) {
      using T = decltype(zero);
      permute<<<grid_for(n), kBlock, 0, ctx.stream>>>(x.data_as<T>(), y.data_as<T>(), n, indexer_of(y.shape), in);
    });
  }

 private:
  std::string label_;
  std::vector<int64_t> perm_;
};

std::unique_ptr<Kernel> make_transpose(const KernelInit& init) { return std::make_unique<TransposeKernel>(init); }

}  // namespace

INFERD_CUDA_KERNEL("Transpose", 1, kMaxOpset, make_transpose);

}  // namespace inferd::gpu
