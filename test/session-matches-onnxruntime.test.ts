// Differential tests: inferd and onnxruntime-node run the same models on the same inputs and must
// agree to 1e-4 (max abs error) on every output.
import { describe, it } from 'node:test';

import { type Tensor, tensor } from '../src/index.js';
import { buildModel, mlp } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';
import { assertMatchesReference } from './helpers/reference.js';

const floats = (dims: number[], seed: number, scale = 1): Tensor =>
  tensor('float32', dims, randomFloats(dims.reduce((a, b) => a * b, 1), seed, scale));

describe('inferd matches onnxruntime', () => {
  const mlpModel = mlp([784, 512, 512, 10], 7);
  for (const batch of [1, 64]) {
    it(`MLP 784-512-512-10 at batch ${batch}`, async () => {
      await assertMatchesReference(mlpModel, { input: floats([batch, 784], 100 + batch) });
    });
  }

  const linearSoftmax = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 32] }],
    outputs: [{ name: 'probs', dtype: 'float32', dims: ['batch', 16] }],
    initializers: [
      { name: 'w', dtype: 'float32', dims: [32, 16], data: randomFloats(32 * 16, 11, 0.5) },
      { name: 'b', dtype: 'float32', dims: [16], data: randomFloats(16, 12) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: -1 } },
    ],
  });
  for (const batch of [1, 64]) {
    it(`MatMul + Add + Softmax at batch ${batch}`, async () => {
      await assertMatchesReference(linearSoftmax, { x: floats([batch, 32], 200 + batch, 2) });
    });
  }

  for (const approximate of ['none', 'tanh']) {
    const gelu = buildModel({
      opset: 20,
      inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 8, 16] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 8, 16] }],
      nodes: [{ op: 'Gelu', inputs: ['x'], outputs: ['y'], attributes: { approximate } }],
    });
    for (const batch of [1, 64]) {
      it(`Gelu (approximate='${approximate}') at batch ${batch}`, async () => {
        await assertMatchesReference(gelu, { x: floats([batch, 8, 16], 300 + batch, 4) });
      });
    }
  }

  const reduceMeanAttribute = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 6, 10] }],
    outputs: [
      { name: 'kept', dtype: 'float32', dims: ['batch', 1, 10] },
      { name: 'dropped', dtype: 'float32', dims: ['batch'] },
    ],
    nodes: [
      { op: 'ReduceMean', inputs: ['x'], outputs: ['kept'], attributes: { axes: [1], keepdims: 1 } },
      { op: 'ReduceMean', inputs: ['x'], outputs: ['dropped'], attributes: { axes: [-1, 1], keepdims: 0 } },
    ],
  });
  const reduceMeanInput = buildModel({
    opset: 18,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 6, 10] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 6, 1] }],
    initializers: [{ name: 'axes', dtype: 'int64', dims: [1], data: [2] }],
    nodes: [{ op: 'ReduceMean', inputs: ['x', 'axes'], outputs: ['y'] }],
  });
  for (const batch of [1, 64]) {
    it(`ReduceMean with axes as attribute (opset 13) at batch ${batch}`, async () => {
      await assertMatchesReference(reduceMeanAttribute, { x: floats([batch, 6, 10], 400 + batch) });
    });
    it(`ReduceMean with axes as input (opset 18) at batch ${batch}`, async () => {
      await assertMatchesReference(reduceMeanInput, { x: floats([batch, 6, 10], 450 + batch) });
    });
  }

  // Transpose → Reshape → Concat → Gather: data movement only, so results must match exactly.
  const reshuffle = buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', dims: ['batch', 4, 6] },
      { name: 'extra', dtype: 'float32', dims: ['batch', 8] },
    ],
    outputs: [
      { name: 'picked', dtype: 'float32', dims: ['batch', 5] },
      { name: 'rows', dtype: 'float32', dims: [2, 6, 4] },
    ],
    initializers: [
      { name: 'flat', dtype: 'int64', dims: [2], data: [0, -1] },
      { name: 'columns', dtype: 'int64', dims: [5], data: [5, 0, 31, 7, -1] },
      { name: 'first_rows', dtype: 'int64', dims: [2], data: [0, 0] },
    ],
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attributes: { perm: [0, 2, 1] } },
      { op: 'Reshape', inputs: ['xt', 'flat'], outputs: ['x_flat'] },
      { op: 'Concat', inputs: ['x_flat', 'extra'], outputs: ['joined'], attributes: { axis: 1 } },
      { op: 'Gather', inputs: ['joined', 'columns'], outputs: ['picked'], attributes: { axis: 1 } },
      { op: 'Gather', inputs: ['xt', 'first_rows'], outputs: ['rows'], attributes: { axis: 0 } },
    ],
  });
  for (const batch of [1, 64]) {
    it(`Transpose + Reshape + Concat + Gather at batch ${batch}`, async () => {
      await assertMatchesReference(reshuffle, { x: floats([batch, 4, 6], 500 + batch), extra: floats([batch, 8], 600 + batch) }, 0);
    });
  }

  // Gather on axis 0 of a 2-D table (an embedding lookup) with int64 ids as a graph input, then a Transpose.
  const embedding = buildModel({
    opset: 13,
    inputs: [{ name: 'ids', dtype: 'int64', dims: ['batch', 3] }],
    outputs: [{ name: 'vectors', dtype: 'float32', dims: ['batch', 4, 3] }],
    initializers: [{ name: 'table', dtype: 'float32', dims: [10, 4], data: randomFloats(40, 700) }],
    nodes: [
      { op: 'Gather', inputs: ['table', 'ids'], outputs: ['rows'], attributes: { axis: 0 } },
      { op: 'Transpose', inputs: ['rows'], outputs: ['vectors'], attributes: { perm: [0, 2, 1] } },
    ],
  });
  for (const batch of [1, 64]) {
    it(`Gather (embedding lookup) + Transpose at batch ${batch}`, async () => {
      const ids = new BigInt64Array(batch * 3).map((_, i) => BigInt((i * 7) % 10));
      await assertMatchesReference(embedding, { ids: tensor('int64', [batch, 3], ids) }, 0);
    });
  }
});
