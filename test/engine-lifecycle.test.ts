// A failing batch fails only its own requests; unload and close let in-flight work finish and then
// refuse new work; the Engine API describes models and validates requests before queueing them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../src/index.js';
import { affineModelFile, lookupModelFile, matmulModelFile } from './helpers/engine-models.js';

const codeOf = (error: unknown) => (error as { code?: string }).code;

test('a batch that fails in the native run fails only its own requests; later requests succeed', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    const model = await engine.load(lookupModelFile(), { name: 'lookup', maxBatchSize: 8 });
    await assert.rejects(model.infer(new BigInt64Array([3n, 42n])),
      (e: unknown) => codeOf(e) === 'INFERD_ERR_RUNTIME' && /index 42|42/.test(String((e as Error).message)));
    const { rows } = await model.infer(new BigInt64Array([1n, 2n]));
    assert.deepEqual([...(rows!.data as Float32Array)], [4, 5, 6, 7, 8, 9, 10, 11]);
  } finally {
    await engine.close();
  }
});

test('describe() gives inputs, outputs and the resolved configuration', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    const model = await engine.load(affineModelFile(), { name: 'affine', maxBatchSize: 8, preferredBatchSizes: [4, 8] });
    const d = model.describe();
    assert.equal(d.inputs[0]!.name, 'x');
    assert.deepEqual(d.inputs[0]!.dims, [-1, 4]);
    assert.equal(d.outputs[0]!.name, 'y');
    assert.equal(d.config.maxBatchSize, 8);
    assert.deepEqual(d.config.preferredBatchSizes, [4, 8]);
    assert.throws(() => engine.describe('nope'), (e: unknown) => codeOf(e) === 'INFERD_ERR_MODEL_NOT_FOUND');
  } finally {
    await engine.close();
  }
});

test('bad requests fail before they are queued, naming what is wrong', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    const model = await engine.load(affineModelFile(), { name: 'affine', maxBatchSize: 4 });
    const runsAfterLoad = engine.nativeRuns;  // the load's warm-up
    await assert.rejects(model.infer({ x: { dtype: 'float32', dims: [1, 5], data: new Float32Array(5) } }),
      (e: unknown) => e instanceof RangeError && /dimension 1 must be 4, got 5/.test(e.message));
    await assert.rejects(model.infer({ z: new Float32Array(4) }), (e: unknown) => e instanceof TypeError && /unknown input 'z'/.test(e.message));
    await assert.rejects(model.infer(new Float64Array(4)), (e: unknown) => e instanceof TypeError);
    await assert.rejects(model.infer({ x: { dtype: 'float32', dims: [8, 4], data: new Float32Array(32) } }),
      (e: unknown) => codeOf(e) === 'INFERD_ERR_OUT_OF_RANGE' && /8/.test(String(e)) && /4/.test(String(e)));
    await assert.rejects(model.infer(new Float32Array(4), { priority: 9 }), RangeError);
    assert.equal(engine.nativeRuns, runsAfterLoad, 'no bad request reached a worker');
  } finally {
    await engine.close();
  }
});

test('unload finishes in-flight requests first, then the model is gone', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    const model = await engine.load(matmulModelFile(1024), { name: 'mm', maxBatchSize: 64 });
    const inFlight = Array.from({ length: 8 }, () => model.infer(new Float32Array(1024)));
    const unloaded = model.unload();
    await assert.rejects(model.infer(new Float32Array(1024)), (e: unknown) => codeOf(e) === 'INFERD_ERR_MODEL_NOT_FOUND');
    const results = await Promise.all(inFlight);
    assert.equal(results.length, 8);
    await unloaded;
    assert.deepEqual(engine.modelNames, []);
  } finally {
    await engine.close();
  }
});

test('close() finishes in-flight work and refuses new work', async () => {
  const engine = await Engine.create({ workers: 2 });
  const model = await engine.load(matmulModelFile(1024), { name: 'mm', maxBatchSize: 16 });
  const inFlight = Array.from({ length: 20 }, () => model.infer(new Float32Array(1024)));
  const closed = engine.close();
  await assert.rejects(model.infer(new Float32Array(1024)), (e: unknown) => codeOf(e) === 'INFERD_ERR_CLOSED');
  const results = await Promise.allSettled(inFlight);
  assert.ok(results.every((r) => r.status === 'fulfilled'));
  await closed;
});

test('raw little-endian bytes (e.g. from a binary HTTP body) are accepted unaligned and give the same result', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    const model = await engine.load(affineModelFile(), { name: 'affine', maxBatchSize: 4 });
    const values = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    // Copied to an odd byte offset, as tensor bytes after a JSON header would be.
    const body = new Uint8Array(values.byteLength + 3);
    body.set(new Uint8Array(values.buffer), 3);
    const raw = await model.infer({ x: { dtype: 'float32', dims: [2, 4], bytes: body.subarray(3) } });
    const typed = await model.infer({ x: { dtype: 'float32', dims: [2, 4], data: values } });
    assert.deepEqual([...(raw['y']!.data as Float32Array)], [...(typed['y']!.data as Float32Array)]);
    await assert.rejects(model.infer({ x: { dtype: 'float32', dims: [2, 4], bytes: body.subarray(4) } }),
      (e: unknown) => e instanceof RangeError && /needs 8 float32 elements \(32 bytes\), got 31 bytes/.test(e.message));
  } finally {
    await engine.close();
  }
});
