#include "cuda/blas.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace inferd::gpu {
namespace {

// cublasStatus_t, cublasOperation_t and cublasMath_t are C enums (int); handles are opaque pointers.
using create_fn = int (*)(void**);
using destroy_fn = int (*)(void*);
using set_stream_fn = int (*)(void*, cudaStream_t);
using set_math_mode_fn = int (*)(void*, int);
using sgemm_strided_batched_fn = int (*)(void*, int, int, int, int, int, const float*, const float*, int, long long,
                                         const float*, int, long long, const float*, float*, int, long long, int);
constexpr int kOpN = 0, kOpT = 1;
constexpr int kDefaultMath = 0, kTf32TensorOpMath = 3;

struct Library {
  const char* name = nullptr;
  create_fn create = nullptr;
  destroy_fn destroy = nullptr;
  set_stream_fn set_stream = nullptr;
  set_math_mode_fn set_math_mode = nullptr;
  sgemm_strided_batched_fn sgemm_strided_batched = nullptr;
  bool ok() const { return create && destroy && set_stream && sgemm_strided_batched; }
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    if (const char* off = std::getenv("INFERD_CUDA_NO_CUBLAS"); off && std::strcmp(off, "0") != 0) return l;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}) {
      void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!handle) continue;
      l.name = name;
      l.create = reinterpret_cast<create_fn>(dlsym(handle, "cublasCreate_v2"));
      l.destroy = reinterpret_cast<destroy_fn>(dlsym(handle, "cublasDestroy_v2"));
      l.set_stream = reinterpret_cast<set_stream_fn>(dlsym(handle, "cublasSetStream_v2"));
      l.set_math_mode = reinterpret_cast<set_math_mode_fn>(dlsym(handle, "cublasSetMathMode"));
      l.sgemm_strided_batched = reinterpret_cast<sgemm_strided_batched_fn>(dlsym(handle, "cublasSgemmStridedBatched"));
      if (l.ok()) return l;  // the library stays open for the life of the process
      l = Library{};
    }
    return l;
  }();
  return lib;
}

}  // namespace

bool blas_available(const char** name) {
  const Library& lib = library();
  if (name) *name = lib.name;
  return lib.ok();
}

bool tf32_enabled() {
  static const bool on = [] {
    const char* p = std::getenv("INFERD_CUDA_PRECISION");
    return p && std::strcmp(p, "tf32") == 0;
  }();
  return on;
}

BlasHandle::BlasHandle(cudaStream_t stream) {
  const Library& lib = library();
  if (!lib.ok()) return;
  void* h = nullptr;
  if (lib.create(&h) != 0 || !h) return;
  if (lib.set_stream(h, stream) != 0) {
    lib.destroy(h);
    return;
  }
  if (lib.set_math_mode) lib.set_math_mode(h, tf32_enabled() ? kTf32TensorOpMath : kDefaultMath);
  handle_ = h;
}

BlasHandle::~BlasHandle() {
  if (handle_) library().destroy(handle_);
}

bool BlasHandle::sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                       int64_t stride_a, const float* b, int64_t stride_b, float beta, float* c, int64_t stride_c,
                       int batch) const {
  if (!handle_) return false;
  // cuBLAS is column-major: a row-major C = op(A) op(B) is the column-major Cᵀ = op(B)ᵀ op(A)ᵀ, so
  // B goes first, and each operand's leading dimension is its row-major row length.
  const int lda = trans_a ? m : k;
  const int ldb = trans_b ? k : n;
  return library().sgemm_strided_batched(handle_, trans_b ? kOpT : kOpN, trans_a ? kOpT : kOpN, n, m, k, &alpha, b,
                                         ldb, stride_b, a, lda, stride_a, &beta, c, n, stride_c, batch) == 0;
}

}  // namespace inferd::gpu
