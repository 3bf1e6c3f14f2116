// The instruction sets this CPU offers, read once at first use, so that the kernels built for a
// wider ISA than the build's baseline (by function-level target attributes) run wherever the CPU
// has it, and never where it does not.
#pragma once

namespace inferd {

// The vector ISAs the engine has kernels for, narrowest first.
enum class CpuIsa { portable = 0, avx2 = 1, avx512 = 2 };

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA3, with the OS saving ymm state
  bool avx512 = false;    // AVX-512 F/DQ/BW/VL, with the OS saving zmm state
};

// What the CPU (and OS) support, detected once.
const CpuFeatures& cpu_features();

// The widest ISA the CPU supports, capped by the environment variable INFERD_CPU_ISA ("portable",
// "avx2" or "avx512") when it is set: a way to measure or test a narrower kernel on a wide CPU.
// Read once; an unknown value is ignored.
CpuIsa preferred_cpu_isa();

bool cpu_isa_supported(CpuIsa isa);
const char* cpu_isa_name(CpuIsa isa);

}  // namespace inferd
