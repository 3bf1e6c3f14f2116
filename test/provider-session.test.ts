// The provider option of a session, against the real addon: "cpu" and "auto" load and compute (auto
// on the CPU where no GPU is visible), "cuda" without a GPU fails at load saying so, and a provider
// the engine does not know is refused by name. Where a GPU is visible, "auto" and "cuda" compute there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession } from '../src/index.js';
import { loadAddon } from '../src/engine/native-addon.js';
import { SlotPool } from '../src/pool/slot-pool.js';
import { affineModelFile } from './helpers/engine-models.js';

const gpuVisible = loadAddon().gpuStats() !== null;

function checkAffine(session: InferenceSession): void {
  const { y } = session.run({ x: { dtype: 'float32', dims: [2, 4], data: new Float32Array([0, 1, 2, 3, -1, -2, 0.5, 10]) } });
  assert.deepEqual([...(y!.data as Float32Array)], [1, 3, 5, 7, -1, -3, 2, 21]);
}

test('provider "cpu" (and the default) load, compute and report the CPU', () => {
  for (const options of [{}, { provider: 'cpu' as const }]) {
    const session = InferenceSession.load(affineModelFile(), options);
    assert.equal(session.provider, 'cpu');
    checkAffine(session);
  }
  const native = new (loadAddon().Session)(affineModelFile(), { provider: 'cpu' });
  assert.equal(native.describe().provider, 'cpu');
});

test('provider "auto" loads and computes, on the CPU when no GPU is visible', () => {
  const session = InferenceSession.load(affineModelFile(), { provider: 'auto' });
  assert.equal(session.provider, gpuVisible ? 'cuda' : 'cpu');
  assert.deepEqual(session.modelOptions, { provider: 'auto' });
  checkAffine(session);
});

test('provider "cuda" without a visible GPU fails at load, naming the provider and the reason', { skip: gpuVisible && 'a GPU is visible' }, () => {
  assert.throws(() => InferenceSession.load(affineModelFile(), { provider: 'cuda' }), (error: Error & { code?: string }) => {
    assert.match(error.message, /provider 'cuda'/);
    // A CUDA build says no GPU is visible (and why); a build without CUDA says it has no CUDA backend.
    assert.match(error.message, /no CUDA GPU is visible \(.+\)|this build of inferd has no CUDA backend/);
    assert.equal(error.code, 'INFERD_ERR_INVALID_ARGUMENT');
    return true;
  });
});

test('provider "cuda" computes on the GPU where one is visible', { skip: !gpuVisible && 'no GPU is visible' }, () => {
  const session = InferenceSession.load(affineModelFile(), { provider: 'cuda' });
  assert.equal(session.provider, 'cuda');
  checkAffine(session);
});

test('an unknown provider, or a provider or cpuFallback of the wrong type, is refused by name', () => {
  assert.throws(() => InferenceSession.load(affineModelFile(), { provider: 'tpu' as 'cpu' }),
    /unknown provider 'tpu' \(expected cpu, cuda or auto\)/);
  assert.throws(() => InferenceSession.load(affineModelFile(), { provider: 1 as unknown as 'cpu' }),
    /options\.provider must be a string/);
  assert.throws(() => InferenceSession.load(affineModelFile(), { cpuFallback: 'no' as unknown as boolean }),
    /options\.cpuFallback must be a boolean/);
});

test('cpuFallback is accepted with every provider that loads', () => {
  for (const cpuFallback of [true, false]) {
    const session = InferenceSession.load(affineModelFile(), { provider: 'auto', cpuFallback });
    assert.deepEqual(session.modelOptions, { provider: 'auto', cpuFallback });
    checkAffine(session);
  }
});

test('without a GPU, gpuStats is null and pinning a slot is a refused no-op', { skip: gpuVisible && 'a GPU is visible' }, () => {
  assert.equal(loadAddon().gpuStats(), null);
  assert.equal(loadAddon().registerHostMemory(new Uint8Array(new SharedArrayBuffer(4096))), false);
  const pool = new SlotPool(1, { pinHostMemory: true });
  const slot = pool.acquire(1000, 4096);
  assert.equal(slot.buffer.byteLength, 4096);
  new Uint8Array(slot.buffer).fill(7);  // still ordinary, usable shared memory
  pool.release(slot);
  assert.equal(pool.pinnedBytes, 0);
});

test('where a GPU is visible, slots of a pinning pool are registered with it', { skip: !gpuVisible && 'no GPU is visible' }, () => {
  const stats = loadAddon().gpuStats()!;
  assert.ok(stats.memoryTotalBytes > 0 && stats.utilizationPercent >= 0 && stats.utilizationPercent <= 100);
  const pool = new SlotPool(1, { pinHostMemory: true });
  pool.release(pool.acquire(1 << 20));
  assert.equal(pool.pinnedBytes, 1 << 20);
  const plain = new SlotPool(1);
  plain.release(plain.acquire(1 << 20));
  assert.equal(plain.pinnedBytes, 0);
});
