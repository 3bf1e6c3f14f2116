// NVML, the driver's management library, opened with dlopen (libnvidia-ml.so.1 ships with the
// driver, not the toolkit): utilization and memory of the compute GPU for metrics.
#pragma once

#include "inferd/cuda.h"

namespace inferd::gpu {

// Reads the compute device; false when NVML is absent or refuses.
bool nvml_read(GpuStats* out);

}  // namespace inferd::gpu
