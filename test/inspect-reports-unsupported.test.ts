// inspectModel() on a model the engine cannot run: instead of failing it reports every node whose
// op is missing (a made-up op in a custom domain, and real ONNX ops inferd does not implement) by op
// type, node name, domain and opset, next to the model's inputs, outputs, opsets and op census.
// Loading the same model fails, naming the same nodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InferenceSession, inspectModel } from '../src/index.js';
import { assertThrowsEngineError } from './helpers/errors.js';
import { buildModel } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';
import { writeTempFile } from './helpers/temp-files.js';

// A batch of 3×3 matrices: their determinants (Det, which inferd lacks), the distinct values of
// a MatMul of them (Unique, which it lacks too), and a custom-domain op on a Relu of the input.
// Supported ops on either side, so the report must pick out just the three.
const model = buildModel({
  opset: 13,
  extraOpsets: { 'com.example.vision': 2 },
  inputs: [
    { name: 'matrices', dtype: 'float32', dims: ['batch', 3, 3] },
    { name: 'scale', dtype: 'float32', dims: [1] },
  ],
  outputs: [
    { name: 'determinants', dtype: 'float32', dims: ['batch'] },
    { name: 'distinct', dtype: 'float32', dims: ['count'] },
    { name: 'warped', dtype: 'float32' },
  ],
  initializers: [{ name: 'mixer', dtype: 'float32', dims: [3, 3], data: randomFloats(9, 3) }],
  nodes: [
    { op: 'Mul', name: 'scale_matrices', inputs: ['matrices', 'scale'], outputs: ['scaled'] },
    { op: 'Det', name: 'determinant', inputs: ['scaled'], outputs: ['raw_determinants'] },
    { op: 'Abs', name: 'abs_determinant', inputs: ['raw_determinants'], outputs: ['determinants'] },
    { op: 'MatMul', name: 'mix', inputs: ['scaled', 'mixer'], outputs: ['mixed'] },
    { op: 'Flatten', name: 'flatten_mixed', inputs: ['mixed'], outputs: ['flat'], attributes: { axis: 0 } },
    { op: 'Unique', name: 'unique_values', inputs: ['flat'], outputs: ['distinct'], attributes: { sorted: 1 } },
    { op: 'Relu', name: 'relu_matrices', inputs: ['mixed'], outputs: ['rectified'] },
    { op: 'WarpPerspective', name: 'warp', domain: 'com.example.vision', inputs: ['rectified', 'mixer'], outputs: ['warped_raw'] },
    { op: 'Relu', name: 'relu_warped', inputs: ['warped_raw'], outputs: ['warped'] },
  ],
});

describe('inspectModel() reports unsupported ops', () => {
  const file = writeTempFile('inspect-unsupported-ops.onnx', model);

  it('lists each unsupported node with its op type, node name, domain and opset, in graph order', () => {
    const report = inspectModel(file);
    assert.deepEqual(report.unsupported, [
      { opType: 'Det', nodeName: 'determinant', domain: 'ai.onnx', opset: 13 },
      { opType: 'Unique', nodeName: 'unique_values', domain: 'ai.onnx', opset: 13 },
      { opType: 'WarpPerspective', nodeName: 'warp', domain: 'com.example.vision', opset: 2 },
    ]);
  });

  it('describes inputs and outputs, with dynamic and missing shapes', () => {
    const report = inspectModel(file);
    assert.deepEqual(report.inputs.map(({ name, dtype, dims, dimNames, hasShape }) => ({ name, dtype, dims, dimNames, hasShape })), [
      { name: 'matrices', dtype: 'float32', dims: [-1, 3, 3], dimNames: ['batch', null, null], hasShape: true },
      { name: 'scale', dtype: 'float32', dims: [1], dimNames: [null], hasShape: true },
    ]);
    assert.deepEqual(report.outputs.map(({ name, dtype, dims, dimNames, hasShape }) => ({ name, dtype, dims, dimNames, hasShape })), [
      { name: 'determinants', dtype: 'float32', dims: [-1], dimNames: ['batch'], hasShape: true },
      { name: 'distinct', dtype: 'float32', dims: [-1], dimNames: ['count'], hasShape: true },
      { name: 'warped', dtype: 'float32', dims: [], dimNames: [], hasShape: false },
    ]);
  });

  it('reports opsets per domain and counts every op type, supported or not', () => {
    const report = inspectModel(file);
    assert.deepEqual({ ...report.opsets }, { 'ai.onnx': 13, 'com.example.vision': 2 });
    assert.deepEqual({ ...report.opCensus }, {
      Abs: 1, Det: 1, Flatten: 1, MatMul: 1, Mul: 1, Relu: 2, Unique: 1, WarpPerspective: 1,
    });
    assert.equal(report.irVersion, 8); // what the builder writes for opset 13
    assert.equal(report.producer, 'inferd-tests');
    assert.equal(report.weightBytes, 9 * 4);
  });

  it('loading the model fails naming the same nodes', () => {
    for (const source of [model, file]) {
      assertThrowsEngineError(() => InferenceSession.load(source), Error, 'INFERD_ERR_UNSUPPORTED',
        ['Det', 'determinant', 'Unique', 'unique_values', 'WarpPerspective', 'warp']);
    }
  });

  it('reports nothing unsupported for a model of supported ops only', () => {
    const supported = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 3, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 3, 3] }],
      initializers: [{ name: 'mixer', dtype: 'float32', dims: [3, 3], data: randomFloats(9, 3) }],
      nodes: [
        { op: 'MatMul', name: 'mix', inputs: ['x', 'mixer'], outputs: ['m'] },
        { op: 'Relu', name: 'relu', inputs: ['m'], outputs: ['y'] },
      ],
    });
    const report = inspectModel(writeTempFile('inspect-supported.onnx', supported));
    assert.deepEqual(report.unsupported, []);
    assert.deepEqual({ ...report.opCensus }, { MatMul: 1, Relu: 1 });
  });
});
