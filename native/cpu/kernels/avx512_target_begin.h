// Compiles the functions that follow, up to avx512_target_end.h, for AVX-512 (the features
// cpu_features.cc requires before it reports CpuIsa::avx512), whatever the build's -march: a file of
// AVX-512 kernels includes the pair around them and hands them out only where the CPU has AVX-512.
// Not a normal header: no include guard, since a file may open and close the region more than once.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
// GCC 12's intrinsics fill unused lanes from a self-initialised _mm512_undefined_*() that
// -Wmaybe-uninitialized reports once inlined (GCC bug 105593); nothing is read uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
