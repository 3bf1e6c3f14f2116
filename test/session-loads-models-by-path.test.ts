// Models loaded by path: sessions describe them from the file's declarations, sessions of one file
// work side by side (they share one cached Model), and a file replaced on disk loads afresh.
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { describe, it } from 'node:test';

import { InferenceSession } from '../src/index.js';
import { mlp } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';
import { writeTempFile } from './helpers/temp-files.js';

describe('loading models by path', () => {
  it('describes inputs and outputs as the model declares them', () => {
    const session = InferenceSession.load(writeTempFile('describe.onnx', mlp([784, 512, 512, 10], 1)));
    assert.deepEqual(session.inputs, [{ name: 'input', dtype: 'float32', dims: [-1, 784], dimNames: ['batch', null], hasShape: true }]);
    assert.deepEqual(session.outputs, [{ name: 'output', dtype: 'float32', dims: [-1, 10], dimNames: ['batch', null], hasShape: true }]);
    assert.equal(session.opset, 13);
    assert.ok(session.nodeCount >= 3, `nodeCount ${session.nodeCount}`);
    const weights = 4 * (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
    assert.ok(session.weightBytes >= weights, `weightBytes ${session.weightBytes} < ${weights}`);
    assert.equal(session.runCount, 0);
  });

  it('sessions of one file run side by side with their own run counts', () => {
    const path = writeTempFile('shared.onnx', mlp([32, 16, 4], 2));
    const first = InferenceSession.load(path);
    const second = InferenceSession.load(path, { threads: 2 });
    const input = randomFloats(2 * 32, 3);
    const a = first.run({ input }).output;
    const b = second.run({ input }).output;
    second.run({ input });
    assert.deepEqual([...(a?.data ?? [])], [...(b?.data ?? [])]);
    assert.equal(first.runCount, 1);
    assert.equal(second.runCount, 2);
  });

  it('sessions of one path share one copy of the weights', () => {
    const path = writeTempFile('big.onnx', mlp([4096, 4096, 10], 8)); // 64 MiB of weights
    const rss = () => process.memoryUsage().rss;
    const first = InferenceSession.load(path);
    const before = rss();
    const second = InferenceSession.load(path);
    const grown = rss() - before;
    assert.ok(grown < first.weightBytes / 4, `a second session of the file took ${grown} bytes more; weights are ${first.weightBytes}`);
    assert.equal(second.weightBytes, first.weightBytes);
  });

  it('a file replaced on disk loads afresh', () => {
    const path = writeTempFile('replaced.onnx', mlp([8, 4], 4));
    const before = InferenceSession.load(path);
    assert.deepEqual(before.outputs[0]?.dims, [-1, 4]);
    writeTempFile('replaced.onnx', mlp([8, 6], 4));
    utimesSync(path, new Date(), new Date(Date.now() + 5000)); // a distinct mtime even on coarse clocks
    const after = InferenceSession.load(path);
    assert.deepEqual(after.outputs[0]?.dims, [-1, 6]);
    assert.deepEqual(before.run({ input: new Float32Array(8) }).output?.dims, [1, 4], 'the old session keeps its model');
  });
});
