// The engine's metrics render in Prometheus text format: the model-labelled histograms give
// cumulative buckets, sum and count, and requests, batches and queue figures move as work is done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry, Registry } from 'prom-client';
import { Engine } from '../src/index.js';
import { GpuMetrics } from '../src/observability/gpu-metrics.js';
import { EngineMetrics } from '../src/observability/metrics.js';
import { ModelHistogram } from '../src/observability/model-histogram.js';
import { affineModelFile } from './helpers/engine-models.js';

test('a model histogram renders cumulative buckets, sum and count per model', async () => {
  const registry = new Registry();
  const h = new ModelHistogram(registry, 'demo_seconds', 'Demo', [0.1, 1]);
  const a = h.labels('a');
  [0.05, 0.5, 5].forEach((v) => a.observe(v));
  h.observe({ model: 'b' }, 0.01);
  const text = await registry.metrics();
  assert.match(text, /# TYPE demo_seconds histogram/);
  assert.match(text, /demo_seconds_bucket\{le="0.1",model="a"\} 1\n/);
  assert.match(text, /demo_seconds_bucket\{le="1",model="a"\} 2\n/);
  assert.match(text, /demo_seconds_bucket\{le="\+Inf",model="a"\} 3\n/);
  assert.match(text, /demo_seconds_sum\{model="a"\} 5.55\n/);
  assert.match(text, /demo_seconds_count\{model="a"\} 3\n/);
  assert.match(text, /demo_seconds_count\{model="b"\} 1/);
});

test('engine metrics move with requests and batches', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    const model = await engine.load(affineModelFile(), { name: 'm', maxBatchSize: 8 });
    await Promise.all(Array.from({ length: 10 }, () => model.infer(new Float32Array(4))));
    const text = await engine.metrics.registry.metrics();
    assert.match(text, /inferd_requests_total\{model="m",status="ok"\} 10/);
    assert.match(text, /inferd_request_duration_seconds_count\{model="m"\} 10/);
    assert.match(text, /inferd_queue_duration_seconds_count\{model="m"\} 10/);
    assert.match(text, /inferd_batch_size_sum\{model="m"\} 10/);
    assert.match(text, /inferd_queue_depth\{model="m"\} 0/);
    assert.match(text, /inferd_inflight_batches\{model="m"\} 0/);
    assert.match(text, /inferd_worker_busy_ratio \d/);
  } finally {
    await engine.close();
  }
});

// What each of two server processes would send its primary is its registry as JSON; the primary
// aggregates them (src/serving/cluster-primary.ts).
async function aggregated(registries: Registry[]): Promise<string> {
  return AggregatorRegistry.aggregate(await Promise.all(registries.map((r) => r.getMetricsAsJSON()))).metrics();
}

test('across server processes, request counts, histograms and queue figures sum', async () => {
  const engines = await Promise.all([Engine.create({ workers: 1 }), Engine.create({ workers: 1 })]);
  try {
    for (const [i, engine] of engines.entries()) {
      const model = await engine.load(affineModelFile(), { name: 'm', maxBatchSize: 8 });
      await Promise.all(Array.from({ length: 3 + i }, () => model.infer(new Float32Array(4))));
    }
    const text = await aggregated(engines.map((e) => e.metrics.registry));
    assert.match(text, /inferd_requests_total\{model="m",status="ok"\} 7\n/);
    assert.match(text, /inferd_request_duration_seconds_count\{model="m"\} 7\n/);
    assert.match(text, /inferd_request_duration_seconds_bucket\{le="\+Inf",model="m"\} 7\n/);
    assert.match(text, /inferd_batch_size_sum\{model="m"\} 7\n/);
    assert.match(text, /inferd_queue_depth\{model="m"\} 0\n/);
    assert.match(text, /inferd_model_provider_info\{model="m",provider="cpu"\} 1\n/);
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
});

test('across server processes, shares average and one GPU\'s figures are not multiplied', async () => {
  const processes = [{ busy: 0.2, gpuPercent: 40, used: 1000 }, { busy: 0.4, gpuPercent: 60, used: 1001 }].map((p) => {
    const engineRegistry = new Registry();
    new EngineMetrics(engineRegistry, () => p.busy);
    const gpuRegistry = new Registry();
    new GpuMetrics(gpuRegistry, () => ({ name: 'gpu0', utilizationPercent: p.gpuPercent, memoryUsedBytes: p.used, memoryTotalBytes: 8000 }));
    return [engineRegistry, gpuRegistry];
  });
  const text = await aggregated(processes.map((p) => p[0]!));
  const busy = Number(/\ninferd_worker_busy_ratio (\S+)\n/.exec(text)?.[1]);
  assert.ok(Math.abs(busy - 0.3) < 1e-9, `busy share ${busy}: the mean of 0.2 and 0.4`);
  const gpu = await aggregated(processes.map((p) => p[1]!));
  assert.match(gpu, /inferd_gpu_utilization_ratio\{gpu="gpu0"\} 0.5\n/);
  assert.match(gpu, /inferd_gpu_memory_used_bytes\{gpu="gpu0"\} 1001\n/);
  assert.match(gpu, /inferd_gpu_memory_total_bytes\{gpu="gpu0"\} 8000\n/);
});
