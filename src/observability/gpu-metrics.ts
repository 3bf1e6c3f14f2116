// Where models compute, and how busy the GPU is. Each model has an info series naming its backend
// (inferd_model_provider_info{model, provider} 1, Prometheus's idiom for a label-valued fact); the GPU
// series are read from NVML through the addon when scraped, and have no samples where there is no GPU
// (no driver, no NVML, or a build without CUDA), so a CPU-only server exports none.
//
// Across server processes (`--processes`) these must not sum: every process loads every model, so
// the info series is the same fact N times ('max' keeps it 1), and every process reads the same
// device through NVML, so its utilization is averaged and its memory (already the whole device's,
// all processes included) taken as the largest reading.
import { type Aggregator, Gauge, type Registry } from 'prom-client';
import { type NativeGpuStats, loadAddon } from '../engine/native-addon.js';

export class GpuMetrics {
  readonly modelProvider: Gauge<'model' | 'provider'>;
  readonly utilization: Gauge<'gpu'>;
  readonly memoryUsed: Gauge<'gpu'>;
  readonly memoryTotal: Gauge<'gpu'>;

  constructor(registry: Registry, readStats: () => NativeGpuStats | null = readGpuStats) {
    const registers = [registry];
    this.modelProvider = new Gauge({ name: 'inferd_model_provider_info',
      help: 'The backend each model computes on (provider="cpu" or "cuda"); always 1',
      labelNames: ['model', 'provider'], registers, aggregator: 'max' });
    // Each gauge reads the GPU when collected: NVML answers in microseconds, and a gauge scraped on
    // its own must not show another scrape's figure.
    const gpuGauge = (name: string, help: string, aggregator: Aggregator, value: (stats: NativeGpuStats) => number) =>
      new Gauge({ name, help, labelNames: ['gpu'], registers, aggregator,
        collect() {
          this.reset();
          const stats = readStats();
          if (stats !== null) this.set({ gpu: stats.name }, value(stats));
        } });
    this.utilization = gpuGauge('inferd_gpu_utilization_ratio',
      'Share of NVML\'s last sample period in which the GPU ran a kernel (no sample without a GPU)',
      'average', (stats) => stats.utilizationPercent / 100);
    this.memoryUsed = gpuGauge('inferd_gpu_memory_used_bytes', 'GPU memory in use, all processes (no sample without a GPU)',
      'max', (stats) => stats.memoryUsedBytes);
    this.memoryTotal = gpuGauge('inferd_gpu_memory_total_bytes', 'GPU memory in all (no sample without a GPU)',
      'max', (stats) => stats.memoryTotalBytes);
  }

  setModelProvider(model: string, provider: string): void {
    this.forgetModel(model);
    this.modelProvider.set({ model, provider }, 1);
  }

  forgetModel(model: string): void {
    for (const provider of ['cpu', 'cuda']) this.modelProvider.remove({ model, provider });
  }
}

// The addon's GPU figures; null where it has no gpuStats (an addon built before it had one).
function readGpuStats(): NativeGpuStats | null {
  const addon = loadAddon();
  return typeof addon.gpuStats === 'function' ? addon.gpuStats() : null;
}
