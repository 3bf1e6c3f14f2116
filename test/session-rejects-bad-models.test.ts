// Broken and unsupported models fail to load with a clear error (and an INFERD_ERR_* code), by path
// and by bytes, and the process goes on loading and running good models afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InferenceSession, inspectModel } from '../src/index.js';
import { assertThrowsEngineError } from './helpers/errors.js';
import { buildModel, mlp } from './helpers/onnx-builder.js';
import { randomBytes, randomFloats } from './helpers/random.js';
import { writeTempFile } from './helpers/temp-files.js';

const good = mlp([16, 8, 4], 5);

function assertGoodModelStillRuns(): void {
  const session = InferenceSession.load(good);
  const { output } = session.run({ input: randomFloats(16, 1) });
  assert.deepEqual(output?.dims, [1, 4]);
}

// Two nodes of ops no backend implements, in a custom domain, between supported ones.
const unsupported = buildModel({
  opset: 13,
  extraOpsets: { 'com.example': 1 },
  inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [1, 4] }],
  nodes: [
    { op: 'Relu', name: 'first_relu', inputs: ['x'], outputs: ['r'] },
    { op: 'Frobnicate', name: 'frobnicator', domain: 'com.example', inputs: ['r'], outputs: ['f'] },
    { op: 'Twiddle', name: 'twiddler', domain: 'com.example', inputs: ['f'], outputs: ['t'] },
    { op: 'Relu', name: 'last_relu', inputs: ['t'], outputs: ['y'] },
  ],
});

describe('loading bad models', () => {
  it('a truncated file → Error INFERD_ERR_INVALID_MODEL', () => {
    const path = writeTempFile('truncated.onnx', good.subarray(0, Math.floor(good.length / 2)));
    assertThrowsEngineError(() => InferenceSession.load(path), Error, 'INFERD_ERR_INVALID_MODEL');
    assertGoodModelStillRuns();
  });

  it('truncated bytes → Error INFERD_ERR_INVALID_MODEL', () => {
    for (const length of [1, 17, good.length - 1]) {
      assertThrowsEngineError(() => InferenceSession.load(good.slice(0, length)), Error, 'INFERD_ERR_INVALID_MODEL');
    }
    assertGoodModelStillRuns();
  });

  it('random bytes → Error INFERD_ERR_INVALID_MODEL', () => {
    for (const seed of [1, 2, 3]) {
      const path = writeTempFile(`random-${seed}.onnx`, randomBytes(4096, seed));
      assertThrowsEngineError(() => InferenceSession.load(path), Error, 'INFERD_ERR_INVALID_MODEL');
      assertThrowsEngineError(() => InferenceSession.load(randomBytes(4096, seed)), Error, 'INFERD_ERR_INVALID_MODEL');
    }
    assertGoodModelStillRuns();
  });

  it('an empty file → Error INFERD_ERR_INVALID_MODEL', () => {
    const path = writeTempFile('empty.onnx', new Uint8Array(0));
    assertThrowsEngineError(() => InferenceSession.load(path), Error, 'INFERD_ERR_INVALID_MODEL');
    assertGoodModelStillRuns();
  });

  it('a missing file → an Error naming the path', () => {
    const path = writeTempFile('present.onnx', good).replace('present.onnx', 'absent.onnx');
    let caught: unknown;
    try {
      InferenceSession.load(path);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof Error, 'loading a missing file must throw');
    assert.ok(caught.message.includes('absent.onnx'), caught.message);
    assert.match(String((caught as Error & { code?: string }).code), /^INFERD_ERR_/);
    assertGoodModelStillRuns();
  });

  it('unsupported ops → Error INFERD_ERR_UNSUPPORTED listing every one with op type and node name', () => {
    for (const source of [unsupported, writeTempFile('unsupported.onnx', unsupported)]) {
      assertThrowsEngineError(() => InferenceSession.load(source), Error, 'INFERD_ERR_UNSUPPORTED',
        ['Frobnicate', 'frobnicator', 'Twiddle', 'twiddler']);
    }
    assertGoodModelStillRuns();
  });

  it('inspect() lists unsupported ops instead of failing', () => {
    const report = inspectModel(writeTempFile('inspect-unsupported.onnx', unsupported));
    const found = report.unsupported.map(({ opType, nodeName, domain }) => ({ opType, nodeName, domain }));
    assert.deepEqual(found, [
      { opType: 'Frobnicate', nodeName: 'frobnicator', domain: 'com.example' },
      { opType: 'Twiddle', nodeName: 'twiddler', domain: 'com.example' },
    ]);
    assert.equal(report.opCensus['Relu'], 2);
    assert.equal(report.opsets['ai.onnx'], 13);
    assert.equal(report.opsets['com.example'], 1);
    assert.equal(report.producer, 'inferd-tests');
  });

  it('inspect() of a broken file → Error INFERD_ERR_INVALID_MODEL', () => {
    const path = writeTempFile('inspect-random.onnx', randomBytes(1000, 9));
    assertThrowsEngineError(() => inspectModel(path), Error, 'INFERD_ERR_INVALID_MODEL');
  });
});
