// The engine's metrics render in Prometheus text format: the model-labelled histograms give
// cumulative buckets, sum and count, and requests, batches and queue figures move as work is done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Engine } from '../src/index.js';
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
