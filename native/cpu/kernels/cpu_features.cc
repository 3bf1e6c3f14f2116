#include "cpu/kernels/cpu_features.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace inferd {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's (and compiler-rt's) checks include the OS's XSAVE state (xgetbv), not just cpuid.
  __builtin_cpu_init();
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = f.avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
  return f;
}

CpuIsa widest_supported() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512) return CpuIsa::avx512;
  if (f.avx2_fma) return CpuIsa::avx2;
  return CpuIsa::portable;
}

CpuIsa choose() {
  CpuIsa isa = widest_supported();
  if (const char* cap = std::getenv("INFERD_CPU_ISA")) {
    for (CpuIsa candidate : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512})
      if (std::strcmp(cap, cpu_isa_name(candidate)) == 0 && candidate < isa) isa = candidate;
  }
  return isa;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

CpuIsa preferred_cpu_isa() {
  static const CpuIsa isa = choose();
  return isa;
}

bool cpu_isa_supported(CpuIsa isa) { return isa <= widest_supported(); }

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512: return "avx512";
    case CpuIsa::avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace inferd
