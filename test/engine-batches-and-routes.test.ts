// The engine batches concurrent requests (fewer native runs than requests) and hands every caller
// the rows computed from its own input, under load, with no mix-ups; slots are reused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine } from '../src/index.js';
import { affineModelFile } from './helpers/engine-models.js';

let engine: Engine;
before(async () => {
  engine = await Engine.create({ workers: 2 });
});
after(async () => {
  await engine.close();
});

test('concurrent requests are computed in batches: fewer native runs than requests', async () => {
  const model = await engine.load(affineModelFile(), { name: 'affine-batching', maxBatchSize: 16, maxQueueDelayMs: 5 });
  const runsBefore = engine.nativeRuns;
  const results = await Promise.all(Array.from({ length: 64 }, (_, i) =>
    model.inferDetailed({ x: new Float32Array([i, i, i, i]) })));
  const runs = engine.nativeRuns - runsBefore;
  assert.ok(runs < 64, `64 requests took ${runs} native runs`);
  assert.ok(runs >= 4, `at most 16 rows per batch: 64 requests need ≥ 4 runs, got ${runs}`);
  const sizes = results.map((r) => r.timing.batchSize);
  assert.ok(Math.max(...sizes) > 1 && Math.max(...sizes) <= 16, `batch sizes ${[...new Set(sizes)]}`);
  results.forEach((r, i) => assert.deepEqual([...(r.outputs['y']!.data as Float32Array)], [2 * i + 1, 2 * i + 1, 2 * i + 1, 2 * i + 1]));
  const metrics = await engine.metrics.registry.getSingleMetricAsString('inferd_batch_size');
  assert.match(metrics, /inferd_batch_size_count\{model="affine-batching"\} \d+/);
  await model.unload();
});

test('thousands of concurrent requests each get their own rows back', async () => {
  const model = await engine.load(affineModelFile(), { name: 'affine-routing', maxBatchSize: 32, queueCapacity: 10000 });
  const count = 3000;
  // Requests of 1 to 3 rows, each row tagged with the request and row number.
  const requests = Array.from({ length: count }, (_, id) => {
    const rows = 1 + (id % 3);
    const x = new Float32Array(rows * 4);
    for (let r = 0; r < rows; ++r) x.fill(id * 10 + r, r * 4, r * 4 + 4);
    return { id, rows, x };
  });
  const outputs = await Promise.all(requests.map(({ rows, x }) =>
    model.infer({ x: { dtype: 'float32', dims: [rows, 4], data: x } })));
  let mixups = 0;
  outputs.forEach((out, i) => {
    const { id, rows } = requests[i]!;
    const y = out['y']!;
    if (y.dims[0] !== rows) ++mixups;
    for (let r = 0; r < rows; ++r) {
      for (let c = 0; c < 4; ++c) if ((y.data as Float32Array)[r * 4 + c] !== 2 * (id * 10 + r) + 1) ++mixups;
    }
  });
  assert.equal(mixups, 0);
  const stats = engine.stats('affine-routing');
  assert.ok(stats.slotAllocations <= 2 * stats.instances,
    `slots are reused: ${stats.slotAllocations} SharedArrayBuffers for ${count} requests`);
  await model.unload();
});
