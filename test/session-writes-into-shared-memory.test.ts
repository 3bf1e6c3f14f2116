// Inputs read from and outputs written into caller-owned typed arrays that are views into a
// SharedArrayBuffer at a nonzero byteOffset, as the worker pool's slots are: the engine must honour
// the offset, write exactly the view, and return the very arrays it was given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InferenceSession, tensor } from '../src/index.js';
import { loadAddon } from '../src/engine/native-addon.js';
import { assertThrowsEngineError } from './helpers/errors.js';
import { mlp } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';

const model = mlp([64, 32, 10], 21);
const SENTINEL = -12345;

describe('runs over SharedArrayBuffer views', () => {
  for (const batch of [1, 8]) {
    it(`writes outputs in place at a nonzero byteOffset (batch ${batch})`, () => {
      const session = InferenceSession.load(model);
      const input = randomFloats(batch * 64, batch);
      const expected = session.run({ input: tensor('float32', [batch, 64], input) }).output;

      // One shared slot: [pad | input | pad | output | pad], every region a view at its own offset.
      const shared = new SharedArrayBuffer(4 * (16 + batch * 64 + 16 + batch * 10 + 16));
      new Float32Array(shared).fill(SENTINEL);
      const inputView = new Float32Array(shared, 4 * 16, batch * 64);
      inputView.set(input);
      const outputOffset = 4 * (16 + batch * 64 + 16);
      const outputView = new Float32Array(shared, outputOffset, batch * 10);

      const { output } = session.run({ input: tensor('float32', [batch, 64], inputView) }, { outputs: { output: outputView } });
      assert.equal(output?.data, outputView, 'the caller\'s array is returned');
      assert.deepEqual(output?.dims, [batch, 10]);
      assert.deepEqual([...outputView], [...(expected?.data ?? [])]);

      const whole = new Float32Array(shared);
      const before = whole.subarray(16 + batch * 64, outputOffset / 4);
      const after = whole.subarray(outputOffset / 4 + batch * 10);
      assert.ok(before.every((v) => v === SENTINEL), 'bytes before the output view are untouched');
      assert.ok(after.every((v) => v === SENTINEL), 'bytes after the output view are untouched');
    });
  }

  it('the native run returns the outputs array it was given', () => {
    const session = new (loadAddon().Session)(model);
    const shared = new SharedArrayBuffer(4 * (64 + 10 + 3));
    const input = new Float32Array(shared, 4, 64);
    input.set(randomFloats(64, 77));
    const outputs = [new Float32Array(shared, 4 * (64 + 2), 10)];
    const returned = session.run([input], [[1, 64]], outputs);
    assert.equal(returned, outputs);
    const fresh = session.run([input.slice()], [[1, 64]]);
    assert.deepEqual([...(outputs[0] as Float32Array)], [...(fresh[0] as Float32Array)]);
  });

  it('an output view of the wrong length → RangeError naming the output', () => {
    const session = InferenceSession.load(model);
    const shared = new SharedArrayBuffer(4 * 64);
    assertThrowsEngineError(
      () => session.run({ input: randomFloats(64, 3) }, { outputs: { output: new Float32Array(shared, 8, 11) } }),
      RangeError, 'INFERD_ERR_OUT_OF_RANGE', ["'output'", '10', '11']);
  });
});
