// Ops whose meaning changed between opsets run by the rules of the opset the model imports; each
// variant is compared with onnxruntime-node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { type Tensor, tensor } from '../src/index.js';
import { buildModel, float } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';
import { assertMatchesReference, maxAbsDiff } from './helpers/reference.js';

describe('opset semantics', () => {
  it('Softmax: opset 11 normalises over the flattened trailing axes, opset 13 over one axis', async () => {
    const softmax = (opset: number) =>
      buildModel({
        opset,
        inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [2, 3, 4] }],
        nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'] }], // default axis: 1 before 13, -1 from 13
      });
    const feeds = { x: tensor('float32', [2, 3, 4], randomFloats(24, 31, 3)) };
    const old = (await assertMatchesReference(softmax(11), feeds))['y'] as Tensor;
    const current = (await assertMatchesReference(softmax(13), feeds))['y'] as Tensor;
    assert.ok(maxAbsDiff(old.data, current.data) > 1e-3, 'opset 11 and 13 results must differ');
    // Opset 11: each batch row of 12 sums to 1. Opset 13: each row of 4 does.
    const sum = (t: Tensor, start: number, count: number): number => {
      let total = 0;
      for (let i = start; i < start + count; ++i) total += Number(t.data[i]);
      return total;
    };
    assert.ok(Math.abs(sum(old, 0, 12) - 1) < 1e-5);
    assert.ok(Math.abs(sum(current, 0, 4) - 1) < 1e-5);
  });

  it('LogSoftmax: opset 11 over the flattened trailing axes, opset 13 over one axis (no conformance data covers it)', async () => {
    const logSoftmax = (opset: number, axis: number) =>
      buildModel({
        opset,
        inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [2, 3, 4] }],
        nodes: [{ op: 'LogSoftmax', inputs: ['x'], outputs: ['y'], attributes: { axis } }],
      });
    const feeds = { x: tensor('float32', [2, 3, 4], randomFloats(24, 37, 4)) };
    const old = (await assertMatchesReference(logSoftmax(11, 1), feeds))['y'] as Tensor;
    const current = (await assertMatchesReference(logSoftmax(13, 1), feeds))['y'] as Tensor;
    await assertMatchesReference(logSoftmax(13, -1), feeds);
    await assertMatchesReference(logSoftmax(11, 0), feeds);
    assert.ok(maxAbsDiff(old.data, current.data) > 1e-3, 'opset 11 and 13 results must differ');
  });

  it('Squeeze / Unsqueeze: axes as an attribute (opset 11) and as an input (opset 13)', async () => {
    const x = { x: tensor('float32', [3, 1, 4], randomFloats(12, 41)) };
    const attribute = buildModel({
      opset: 11,
      inputs: [{ name: 'x', dtype: 'float32', dims: [3, 1, 4] }],
      outputs: [
        { name: 'squeezed', dtype: 'float32', dims: [3, 4] },
        { name: 'unsqueezed', dtype: 'float32', dims: [1, 3, 4, 1] },
      ],
      nodes: [
        { op: 'Squeeze', inputs: ['x'], outputs: ['squeezed'], attributes: { axes: [1] } },
        { op: 'Unsqueeze', inputs: ['squeezed'], outputs: ['unsqueezed'], attributes: { axes: [0, -1] } },
      ],
    });
    const input = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', dims: [3, 1, 4] }],
      outputs: [
        { name: 'squeezed', dtype: 'float32', dims: [3, 4] },
        { name: 'unsqueezed', dtype: 'float32', dims: [1, 3, 4, 1] },
      ],
      initializers: [
        { name: 'squeeze_axes', dtype: 'int64', dims: [1], data: [-2] },
        { name: 'unsqueeze_axes', dtype: 'int64', dims: [2], data: [0, 3] },
      ],
      nodes: [
        { op: 'Squeeze', inputs: ['x', 'squeeze_axes'], outputs: ['squeezed'] },
        { op: 'Unsqueeze', inputs: ['squeezed', 'unsqueeze_axes'], outputs: ['unsqueezed'] },
      ],
    });
    for (const model of [attribute, input]) {
      const out = await assertMatchesReference(model, x, 0);
      assert.deepEqual(out['squeezed']?.dims, [3, 4]);
      assert.deepEqual(out['unsqueezed']?.dims, [1, 3, 4, 1]);
    }
  });

  it('Squeeze with no axes (opset 13) drops every 1', async () => {
    const model = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [3, 2] }],
      nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['y'] }],
    });
    const out = await assertMatchesReference(model, { x: tensor('float32', [1, 3, 1, 2], randomFloats(6, 43)) }, 0);
    assert.deepEqual(out['y']?.dims, [3, 2]);
  });

  describe('Clip: min/max as attributes (opset 6) vs inputs (opset 11, 13)', () => {
    const x = { x: tensor('float32', [4, 5], randomFloats(20, 51, 3)) };
    it('opset 6 attributes', async () => {
      const model = buildModel({
        opset: 6,
        inputs: [{ name: 'x', dtype: 'float32', dims: [4, 5] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [4, 5] }],
        nodes: [{ op: 'Clip', inputs: ['x'], outputs: ['y'], attributes: { min: float(-1), max: 0.5 } }],
      });
      const out = await assertMatchesReference(model, x, 0);
      assert.ok([...(out['y']?.data ?? [])].every((v) => Number(v) >= -1 && Number(v) <= 0.5));
    });
    for (const opset of [11, 13]) {
      it(`opset ${opset} inputs (both, only max, neither)`, async () => {
        const clip = (inputs: string[]) =>
          buildModel({
            opset,
            inputs: [{ name: 'x', dtype: 'float32', dims: [4, 5] }],
            outputs: [{ name: 'y', dtype: 'float32', dims: [4, 5] }],
            initializers: [
              { name: 'lo', dtype: 'float32', dims: [], data: [-1] },
              { name: 'hi', dtype: 'float32', dims: [], data: [0.5] },
            ],
            nodes: [{ op: 'Clip', inputs, outputs: ['y'] }],
          });
        const both = await assertMatchesReference(clip(['x', 'lo', 'hi']), x, 0);
        assert.ok([...(both['y']?.data ?? [])].every((v) => Number(v) >= -1 && Number(v) <= 0.5));
        await assertMatchesReference(clip(['x', '', 'hi']), x, 0); // an empty name skips an optional input
        await assertMatchesReference(clip(['x']), x, 0);
      });
    }
    it('opset 11 min/max as graph inputs, given at run time', async () => {
      const model = buildModel({
        opset: 11,
        inputs: [
          { name: 'x', dtype: 'float32', dims: [4, 5] },
          { name: 'lo', dtype: 'float32', dims: [] },
          { name: 'hi', dtype: 'float32', dims: [] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', dims: [4, 5] }],
        nodes: [{ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }],
      });
      await assertMatchesReference(model, {
        ...x,
        lo: tensor('float32', [], new Float32Array([-0.25])),
        hi: tensor('float32', [], new Float32Array([2])),
      }, 0);
    });
  });
});
