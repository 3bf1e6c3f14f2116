// Caller mistakes at run time: each is a clear error of the right class (TypeError for a wrong type,
// name or count; RangeError for a wrong shape or size) with an INFERD_ERR_* code, and the session
// keeps working afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InferenceSession, tensor } from '../src/index.js';
import { loadAddon } from '../src/engine/native-addon.js';
import { assertThrowsEngineError } from './helpers/errors.js';
import { buildModel, mlp } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';

const model = mlp([16, 8, 4], 3);
const twoInputs = buildModel({
  opset: 13,
  inputs: [
    { name: 'a', dtype: 'float32', dims: [2, 3] },
    { name: 'b', dtype: 'float32', dims: [2, 3] },
  ],
  outputs: [{ name: 'sum', dtype: 'float32', dims: [2, 3] }],
  nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['sum'] }],
});

// After every rejected call the same session must still compute, and count only real runs.
function assertStillRuns(session: InferenceSession): void {
  const before = session.runCount;
  const { output } = session.run({ input: tensor('float32', [2, 16], randomFloats(32, 9)) });
  assert.deepEqual(output?.dims, [2, 4]);
  assert.equal(session.runCount, before + 1);
}

describe('InferenceSession rejects bad input', () => {
  const session = InferenceSession.load(model);

  it('a wrong inner dimension → RangeError naming the input', () => {
    assertThrowsEngineError(() => session.run({ input: tensor('float32', [2, 15], new Float32Array(30)) }),
      RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['input']);
    assertStillRuns(session);
  });

  it('a wrong rank → RangeError naming the input', () => {
    assertThrowsEngineError(() => session.run({ input: tensor('float32', [2, 4, 4], new Float32Array(32)) }),
      RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['input']);
    assertStillRuns(session);
  });

  it('data shorter than its dims → RangeError naming the input', () => {
    const bad = { dtype: 'float32' as const, dims: [2, 16], data: new Float32Array(31) };
    assertThrowsEngineError(() => session.run({ input: bad }), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['input', '32', '31']);
    assertStillRuns(session);
  });

  it('a negative or fractional dimension → RangeError', () => {
    const bad = { dtype: 'float32' as const, dims: [-2, 16], data: new Float32Array(32) };
    assertThrowsEngineError(() => session.run({ input: bad }), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['input', '-2']);
    const fractional = { dtype: 'float32' as const, dims: [1.5, 16], data: new Float32Array(24) };
    assertThrowsEngineError(() => session.run({ input: fractional }), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['input']);
    assertStillRuns(session);
  });

  it('a bare typed array whose length does not fit the declared dims → RangeError', () => {
    assertThrowsEngineError(() => session.run({ input: new Float32Array(17) }), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['input', '17']);
    assertStillRuns(session);
  });

  it('a bare typed array fills in the dynamic batch dimension', () => {
    const { output } = session.run({ input: randomFloats(3 * 16, 4) });
    assert.deepEqual(output?.dims, [3, 4]);
  });

  it('a tensor of the wrong dtype → TypeError naming the input and both dtypes', () => {
    assertThrowsEngineError(() => session.run({ input: tensor('int32', [2, 16]) }), TypeError, 'INFERD_ERR_INVALID_ARGUMENT',
      ['input', 'float32', 'int32']);
    assertStillRuns(session);
  });

  it('a typed array of the wrong class → TypeError naming the input and both classes', () => {
    assertThrowsEngineError(() => session.run({ input: new Float64Array(32) }), TypeError, 'INFERD_ERR_INVALID_ARGUMENT',
      ['input', 'Float32Array', 'Float64Array']);
    const mislabelled = { dtype: 'float32' as const, dims: [2, 16], data: new Int32Array(32) };
    assertThrowsEngineError(() => session.run({ input: mislabelled }), TypeError, 'INFERD_ERR_INVALID_ARGUMENT',
      ['input', 'Float32Array', 'Int32Array']);
    assertStillRuns(session);
  });

  it('something that is no tensor at all → TypeError', () => {
    assertThrowsEngineError(() => session.run({ input: [1, 2, 3] as unknown as Float32Array }), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ['input']);
    assertThrowsEngineError(() => session.run(null as unknown as Record<string, Float32Array>), TypeError, 'INFERD_ERR_INVALID_ARGUMENT');
    assertStillRuns(session);
  });

  it('an unknown input name → TypeError listing the real names', () => {
    const feeds = { input: new Float32Array(16), inptu: new Float32Array(16) };
    assertThrowsEngineError(() => session.run(feeds), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ["'inptu'", "'input'"]);
    assertStillRuns(session);
  });

  it('a missing input → TypeError naming it', () => {
    const pair = InferenceSession.load(twoInputs);
    assertThrowsEngineError(() => pair.run({ a: new Float32Array(6) }), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ["'b'"]);
    const { sum } = pair.run({ a: new Float32Array(6).fill(1), b: new Float32Array(6).fill(2) });
    assert.deepEqual([...(sum?.data ?? [])], [3, 3, 3, 3, 3, 3]);
  });

  it('an unknown output name in run options → TypeError', () => {
    assertThrowsEngineError(() => session.run({ input: new Float32Array(16) }, { outputs: { logits: new Float32Array(4) } }),
      TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ["'logits'", "'output'"]);
    assertStillRuns(session);
  });
});

describe('the native Session rejects bad arguments', () => {
  const { Session } = loadAddon();
  const native = new Session(twoInputs);
  const a = new Float32Array(6).fill(1);
  const b = new Float32Array(6).fill(2);
  const dims = [[2, 3], [2, 3]];

  function assertStillRunsNative(): void {
    const before = native.runCount;
    const [sum] = native.run([a, b], dims);
    assert.deepEqual([...(sum as Float32Array)], [3, 3, 3, 3, 3, 3]);
    assert.equal(native.runCount, before + 1);
  }

  it('too few or too many inputs → TypeError naming the model inputs', () => {
    assertThrowsEngineError(() => native.run([a], [[2, 3]]), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ['1', "'a'", "'b'"]);
    assertThrowsEngineError(() => native.run([a, b, a], dims), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ['3']);
    assertThrowsEngineError(() => native.run([a, b], [[2, 3]]), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ['inputDims']);
    assertStillRunsNative();
  });

  it('a wrong number of output buffers → TypeError', () => {
    assertThrowsEngineError(() => native.run([a, b], dims, []), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ["'sum'"]);
    assertStillRunsNative();
  });

  it('non-arrays and non-numbers → TypeError', () => {
    assertThrowsEngineError(() => native.run('a' as unknown as Float32Array[], dims), TypeError, 'INFERD_ERR_INVALID_ARGUMENT');
    assertThrowsEngineError(() => native.run([a, b], [[2, '3'], [2, 3]] as unknown as number[][]), TypeError,
      'INFERD_ERR_INVALID_ARGUMENT', ["'a'", 'dimension 1']);
    assertThrowsEngineError(() => native.run([a, [1, 2, 3, 4, 5, 6]] as unknown as Float32Array[], dims), TypeError,
      'INFERD_ERR_INVALID_ARGUMENT', ["'b'", 'Float32Array']);
    assertStillRunsNative();
  });

  it('a typed array of the wrong class → TypeError naming input and both classes', () => {
    assertThrowsEngineError(() => native.run([a, new Uint8Array(6)], dims), TypeError, 'INFERD_ERR_INVALID_ARGUMENT',
      ["'b'", 'Float32Array', 'Uint8Array']);
    assertStillRunsNative();
  });

  it('a wrong shape or length → RangeError naming the input', () => {
    assertThrowsEngineError(() => native.run([a, b], [[3, 2], [2, 3]]), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ["'a'"]);
    assertThrowsEngineError(() => native.run([a, new Float32Array(5)], dims), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ["'b'", '5']);
    assertStillRunsNative();
  });

  it('an output buffer of the wrong size or class → RangeError / TypeError naming the output', () => {
    assertThrowsEngineError(() => native.run([a, b], dims, [new Float32Array(5)]), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ["'sum'"]);
    assertThrowsEngineError(() => native.run([a, b], dims, [new Float64Array(6)]), TypeError, 'INFERD_ERR_INVALID_ARGUMENT',
      ["'sum'", 'Float64Array']);
    assertStillRunsNative();
  });

  it('an output buffer that aliases an input → TypeError', () => {
    assertThrowsEngineError(() => native.run([a, b], dims, [a]), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ["'sum'", "'a'"]);
    assertStillRunsNative();
  });

  it('bad constructor arguments → TypeError / RangeError', () => {
    assertThrowsEngineError(() => new Session(42 as unknown as string), TypeError, 'INFERD_ERR_INVALID_ARGUMENT', ['source']);
    assertThrowsEngineError(() => new Session(twoInputs, { threads: 0 }), RangeError, 'INFERD_ERR_OUT_OF_RANGE', ['threads']);
    assertThrowsEngineError(() => new Session(twoInputs, { threads: '2' as unknown as number }), TypeError,
      'INFERD_ERR_INVALID_ARGUMENT', ['threads']);
  });
});
