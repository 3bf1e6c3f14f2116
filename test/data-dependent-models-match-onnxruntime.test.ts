// Models whose output sizes follow from computed data — NonZero, If on a computed condition, Loop with
// a trip count and a stopping condition, a Reshape whose shape is arithmetic on data — give
// onnxruntime-node's answers, through InferenceSession and through the batching Engine (where each
// such request runs alone, since its output rows do not map back to a batch's requests).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Engine, InferenceSession, type Tensor } from '../src/index.js';
import { buildModel, graph } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';
import { assertClose, runReference } from './helpers/reference.js';
import { writeTempFile } from './helpers/temp-files.js';

// rows of x that are positive somewhere, and where: NonZero(Relu(x)) → [2, count]
const nonZeroModel = buildModel({
  opset: 13,
  inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 6] }],
  outputs: [{ name: 'where', dtype: 'int64', dims: [2, 'count'] }],
  nodes: [
    { op: 'Relu', inputs: ['x'], outputs: ['positive'] },
    { op: 'NonZero', inputs: ['positive'], outputs: ['where'] },
  ],
});

// If sum(x) > 0 then x·2 ([batch, 6]) else the column sums of x ([6]): the branch decides the shape.
const ifModel = buildModel({
  opset: 13,
  inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 6] }],
  outputs: [{ name: 'y', dtype: 'float32' }],
  initializers: [{ name: 'zero', dtype: 'float32', dims: [], data: [0] }],
  nodes: [
    { op: 'ReduceSum', inputs: ['x'], outputs: ['total'], attributes: { keepdims: 0 } },
    { op: 'Greater', inputs: ['total', 'zero'], outputs: ['positive'] },
    {
      op: 'If', inputs: ['positive'], outputs: ['y'], attributes: {
        then_branch: graph({
          inputs: [], outputs: [{ name: 'twice', dtype: 'float32' }],
          initializers: [{ name: 'two', dtype: 'float32', dims: [], data: [2] }],
          nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['twice'] }],
        }),
        else_branch: graph({
          inputs: [], outputs: [{ name: 'columns', dtype: 'float32' }],
          initializers: [{ name: 'axis0', dtype: 'int64', dims: [1], data: [0] }],
          nodes: [{ op: 'ReduceSum', inputs: ['x', 'axis0'], outputs: ['columns'], attributes: { keepdims: 0 } }],
        }),
      },
    },
  ],
});

// Loop(M, cond, s0 = 0): s ← s·0.5 + x (x from outside) while sum(s) < limit; scan output s.
const loopModel = buildModel({
  opset: 13,
  inputs: [
    { name: 'm', dtype: 'int64', dims: [] },
    { name: 'x', dtype: 'float32', dims: [4] },
    { name: 'limit', dtype: 'float32', dims: [] },
  ],
  outputs: [{ name: 'final', dtype: 'float32', dims: [4] }, { name: 'history', dtype: 'float32', dims: ['steps', 4] }],
  initializers: [
    { name: 's0', dtype: 'float32', dims: [4], data: [0, 0, 0, 0] },
    { name: 'go', dtype: 'bool', dims: [], data: [1] },
  ],
  nodes: [{
    op: 'Loop', inputs: ['m', 'go', 's0'], outputs: ['final', 'history'], attributes: {
      body: graph({
        inputs: [{ name: 'i', dtype: 'int64', dims: [] }, { name: 'cond', dtype: 'bool', dims: [] }, { name: 's', dtype: 'float32', dims: [4] }],
        outputs: [{ name: 'again', dtype: 'bool', dims: [] }, { name: 's_next', dtype: 'float32', dims: [4] }, { name: 'seen', dtype: 'float32', dims: [4] }],
        initializers: [{ name: 'half', dtype: 'float32', dims: [], data: [0.5] }],
        nodes: [
          { op: 'Mul', inputs: ['s', 'half'], outputs: ['halved'] },
          { op: 'Add', inputs: ['halved', 'x'], outputs: ['s_next'] },
          { op: 'Identity', inputs: ['s_next'], outputs: ['seen'] },
          { op: 'ReduceSum', inputs: ['s_next'], outputs: ['sum'], attributes: { keepdims: 0 } },
          { op: 'Less', inputs: ['sum', 'limit'], outputs: ['again'] },
        ],
      }),
    },
  }],
});

// y = Reshape(x, Cast(Abs(shape_f))): the target shape is arithmetic on data, known only at run time.
const computedReshapeModel = buildModel({
  opset: 13,
  inputs: [{ name: 'x', dtype: 'float32', dims: [12] }, { name: 'shape_f', dtype: 'float32', dims: [2] }],
  outputs: [{ name: 'y', dtype: 'float32' }],
  nodes: [
    { op: 'Abs', inputs: ['shape_f'], outputs: ['shape_abs'] },
    { op: 'Cast', inputs: ['shape_abs'], outputs: ['shape'], attributes: { to: 7 } },
    { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
  ],
});

const f32 = (dims: number[], data: number[] | Float32Array): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });
const i64 = (dims: number[], data: number[]): Tensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(data.map(BigInt)) });

// Inputs with some zeros (so NonZero's count varies) and both signs (so If takes both branches).
function sparseRows(rows: number, seed: number, bias: number): Tensor {
  const data = randomFloats(rows * 6, seed, 1).map((v, i) => (i % 3 === 0 ? 0 : v + bias));
  return f32([rows, 6], data);
}

async function compare(model: Uint8Array, feeds: Record<string, Tensor>, what: string): Promise<void> {
  const expected = await runReference(model, feeds);
  for (const optimize of [true, false]) {
    const session = InferenceSession.load(model, { optimize });
    const actual = session.run(feeds);
    for (const name of Object.keys(expected)) assertClose(actual[name]!, expected[name]!, 1e-5, `${what} ${name} (optimize ${optimize})`);
  }
}

test('NonZero gives onnxruntime-node\'s indices, for counts that vary run to run', async () => {
  for (const [rows, seed, bias] of [[1, 1, 0], [3, 2, 0.3], [5, 3, -0.4], [3, 4, 0.3]] as const) {
    await compare(nonZeroModel, { x: sparseRows(rows, seed, bias) }, `NonZero rows ${rows}`);
  }
});

test('If picks its branch from a computed condition, output shape included', async () => {
  await compare(ifModel, { x: sparseRows(2, 5, 0.5) }, 'If (then)');
  await compare(ifModel, { x: sparseRows(3, 6, -0.5) }, 'If (else)');
});

test('Loop stops on its trip count or its condition and stacks its scan output', async () => {
  const x = f32([4], [0.5, 1, -0.25, 2]);
  for (const [m, limit] of [[6, 1000], [50, 9], [0, 5]] as const) {
    await compare(loopModel, { m: i64([], [m]), x, limit: f32([], [limit]) }, `Loop m=${m} limit=${limit}`);
  }
});

test('a Reshape whose shape is computed from data is planned when the data exists', async () => {
  const x = f32([12], Array.from({ length: 12 }, (_, i) => i));
  for (const shape of [[-3, 4], [6, -2], [3, 4]]) await compare(computedReshapeModel, { x, shape_f: f32([2], shape) }, `Reshape ${shape}`);
});

let engine: Engine;
before(async () => {
  engine = await Engine.create({ workers: 2 });
});
after(async () => {
  await engine.close();
});

test('the Engine serves data-dependent models, each request computed alone and answered whole', async () => {
  // NonZero's output has no batch dimension: the model is served unbatched.
  const nonZero = await engine.load(writeTempFile('nonzero.onnx', nonZeroModel), { name: 'nonzero' });
  const inputs = Array.from({ length: 12 }, (_, i) => sparseRows(1 + (i % 3), 10 + i, i % 2 === 0 ? 0.4 : -0.2));
  const results = await Promise.all(inputs.map((x) => nonZero.infer({ x })));
  for (let i = 0; i < inputs.length; ++i) {
    const expected = await runReference(nonZeroModel, { x: inputs[i]! });
    assertClose(results[i]!['where']!, expected['where']!, 0, `NonZero request ${i}`);
  }
  await nonZero.unload();

  // The If model looks batchable (a batch input, an output of undeclared shape): requests queued
  // together still each get their own branch and shape.
  const branching = await engine.load(writeTempFile('if.onnx', ifModel), { name: 'if', maxBatchSize: 8, maxQueueDelayMs: 20 });
  const runsBefore = engine.nativeRuns;
  const xs = Array.from({ length: 8 }, (_, i) => sparseRows(1 + (i % 2), 30 + i, i % 2 === 0 ? 0.6 : -0.6));
  const answers = await Promise.all(xs.map((x) => branching.inferDetailed({ x })));
  assert.equal(engine.nativeRuns - runsBefore, xs.length, 'one native run per request');
  for (let i = 0; i < xs.length; ++i) {
    const expected = await runReference(ifModel, { x: xs[i]! });
    assertClose(answers[i]!.outputs['y']!, expected['y']!, 1e-5, `If request ${i}`);
  }
  await branching.unload();
});
