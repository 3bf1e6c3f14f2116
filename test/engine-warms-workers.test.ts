// Loading a model runs a batch of zeros on every worker thread, so that each has made its session
// before the first request needs it (on a GPU a worker's first batch also creates its stream and
// cuBLAS handle, ~100 ms); `warmup: false` leaves the sessions to the first requests. A model whose
// warm-up batch has no known shape, or that refuses zeros, still loads.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Engine } from '../src/index.js';
import { readModelConfig } from '../src/serving/model-repository.js';
import { affineModelFile } from './helpers/engine-models.js';
import { buildModel } from './helpers/onnx-builder.js';
import { writeTempFile } from './helpers/temp-files.js';

test('load makes every worker thread its session with one batch of zeros, counted nowhere else', async () => {
  const engine = await Engine.create({ workers: 2 });
  try {
    const model = await engine.load(affineModelFile(), { name: 'affine', maxBatchSize: 8 });
    assert.equal(engine.stats('affine').workerSessions, 2, 'each worker holds a session of the model');
    assert.equal(engine.nativeRuns, 2, 'one warm-up run per worker');
    assert.doesNotMatch(await engine.metrics.registry.metrics(), /inferd_requests_total\{/, 'a warm-up is not a request');
    const { y } = await model.infer(new Float32Array([0, 1, 2, 3]));
    assert.deepEqual([...(y!.data as Float32Array)], [1, 3, 5, 7]);
  } finally {
    await engine.close();
  }
});

test('warmup: false leaves each worker to make its session on its first batch', async () => {
  const engine = await Engine.create({ workers: 2 });
  try {
    const model = await engine.load(affineModelFile(), { name: 'affine', warmup: false });
    assert.equal(engine.stats('affine').workerSessions, 0);
    assert.equal(engine.nativeRuns, 0);
    await model.infer(new Float32Array(4));
    assert.equal(engine.stats('affine').workerSessions, 1);
  } finally {
    await engine.close();
  }
});

test('a model with a dynamic dimension besides the batch one loads without a warm-up', async () => {
  const file = writeTempFile('sequence.onnx', buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 'length'] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 'length'] }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  }));
  const engine = await Engine.create({ workers: 2 });
  try {
    const model = await engine.load(file, { name: 'sequence' });
    assert.equal(engine.stats('sequence').workerSessions, 0, 'no length to warm with');
    const { y } = await model.infer({ x: { dtype: 'float32', dims: [1, 3], data: new Float32Array([-1, 0, 2]) } });
    assert.deepEqual([...(y!.data as Float32Array)], [0, 0, 2]);
  } finally {
    await engine.close();
  }
});

test('a model that refuses zeros still loads, and its requests get their own errors', async () => {
  // y = 1 / x is fine for floats; an integer division by zero is a native error the warm-up meets.
  const file = writeTempFile('reciprocal-int.onnx', buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'int32', dims: ['batch', 2] }],
    outputs: [{ name: 'y', dtype: 'int32', dims: ['batch', 2] }],
    initializers: [{ name: 'hundred', dtype: 'int32', dims: [1], data: [100] }],
    nodes: [{ op: 'Div', inputs: ['hundred', 'x'], outputs: ['y'] }],
  }));
  const engine = await Engine.create({ workers: 2 });
  try {
    const model = await engine.load(file, { name: 'reciprocal' });
    assert.equal(engine.stats('reciprocal').workerSessions, 2, 'the sessions exist even though the zeros failed');
    const { y } = await model.infer(new Int32Array([4, 50]));
    assert.deepEqual([...(y!.data as Int32Array)], [25, 2]);
    await assert.rejects(model.infer(new Int32Array([0, 1])), /division by zero|divide by zero|zero/i);
  } finally {
    await engine.close();
  }
});

test('config.json takes warmup as a boolean and names a bad value', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inferd-warmup-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ warmup: false }));
  assert.deepEqual(readModelConfig(file), { warmup: false });
  writeFileSync(file, JSON.stringify({ warmup: 'no' }));
  assert.throws(() => readModelConfig(file), (e: unknown) => e instanceof Error && e.message.includes(file) &&
    /'warmup' must be/.test(e.message));
});
