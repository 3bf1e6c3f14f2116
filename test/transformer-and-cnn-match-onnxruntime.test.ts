// Differential tests on models built the way exporters write them: a BERT-style encoder (dynamic
// batch and sequence, padding masks, shape arithmetic, LayerNormalization both as the op and as the
// decomposed pattern) and a small ResNet (strided and depthwise convs, BatchNormalization, pooling,
// residual adds). inferd and onnxruntime-node run each on the same inputs; every output element
// must be within 1e-4 + 1e-3·|expected| of onnxruntime's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InferenceSession, type SessionOptions, type Tensor, tensor } from '../src/index.js';
import { bertEncoder, defaultBertConfig } from './helpers/bert-builder.js';
import { randomFloats, seededRandom } from './helpers/random.js';
import { assertElementwiseClose, runReference } from './helpers/reference.js';
import { defaultResnetConfig, smallResnet } from './helpers/resnet-builder.js';



// Each model is loaded three ways: optimized (the default) on the calling thread alone, optimized
// and split across two intra-op threads, and as written (no graph optimizations), so that both a
// fusion that changes the numbers and a kernel that only fails unfused are caught.
const variants: readonly SessionOptions[] = [{ threads: 1 }, { threads: 2 }, { threads: 1, optimize: false }];

interface Variant {
  label: string;
  session: InferenceSession;
}

// Loaded on first use, inside a test, so that a model the engine rejects fails its tests rather
// than the whole file.
function sessionsFor(model: Uint8Array): () => Variant[] {
  let sessions: Variant[] | undefined;
  return () => (sessions ??= variants.map((options) => ({
    label: `${options.threads} thread${options.threads === 1 ? '' : 's'}, ${options.optimize === false ? 'unoptimized' : 'optimized'}`,
    session: InferenceSession.load(model, options),
  })));
}

async function assertMatchesOnnxruntime(sessions: readonly Variant[], model: Uint8Array, feeds: Record<string, Tensor>): Promise<void> {
  const reference = await runReference(model, feeds);
  for (const { label, session } of sessions) {
    const ours = session.run(feeds);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(reference).sort(), 'output names');
    for (const [name, expected] of Object.entries(reference)) assertElementwiseClose(ours[name] as Tensor, expected, `output '${name}' (${label})`);
  }
}

// Token ids in [1, vocab) and a mask of 1s for each row's length then 0s (the tail is padding,
// whose ids are 0 as tokenizers pad).
function bertFeeds(lengths: readonly number[], sequence: number, seed: number): Record<string, Tensor> {
  const next = seededRandom(seed);
  const batch = lengths.length;
  const ids = new BigInt64Array(batch * sequence);
  const mask = new BigInt64Array(batch * sequence);
  lengths.forEach((length, row) => {
    for (let t = 0; t < sequence; ++t) {
      const real = t < length;
      ids[row * sequence + t] = real ? BigInt(1 + Math.floor(next() * (defaultBertConfig.vocabSize - 1))) : 0n;
      mask[row * sequence + t] = real ? 1n : 0n;
    }
  });
  return { input_ids: tensor('int64', [batch, sequence], ids), attention_mask: tensor('int64', [batch, sequence], mask) };
}

describe('a BERT-style encoder matches onnxruntime', () => {
  const model = bertEncoder();
  const sessions = sessionsFor(model);
  const session = (): InferenceSession => (sessions()[0] as Variant).session;

  const cases: { batch: number; sequence: number; lengths: number[] }[] = [
    { batch: 1, sequence: 8, lengths: [8] },
    { batch: 1, sequence: 17, lengths: [12] },
    { batch: 3, sequence: 8, lengths: [8, 5, 2] },
    { batch: 3, sequence: 17, lengths: [17, 9, 1] },
  ];
  for (const { batch, sequence, lengths } of cases) {
    it(`batch ${batch}, sequence ${sequence}, lengths ${lengths.join('/')}`, async () => {
      await assertMatchesOnnxruntime(sessions(), model, bertFeeds(lengths, sequence, 10 * batch + sequence));
    });
  }

  it('reports dynamic batch and sequence dims', () => {
    const ids = session().inputs.find((info) => info.name === 'input_ids');
    assert.deepEqual(ids?.dimNames, ['batch', 'sequence']);
    assert.deepEqual(session().outputDims({ input_ids: [3, 17], attention_mask: [3, 17] }), {
      last_hidden_state: [3, 17, defaultBertConfig.hidden],
      pooler_output: [3, defaultBertConfig.hidden],
    });
  });

  it('padding is masked: changing padded token ids leaves the real tokens\' outputs unchanged', () => {
    const sequence = 17;
    const feeds = bertFeeds([10], sequence, 99);
    const changed = bertFeeds([10], sequence, 99);
    const ids = changed.input_ids?.data as BigInt64Array;
    for (let t = 10; t < sequence; ++t) ids[t] = BigInt(t);
    const before = session().run(feeds).last_hidden_state as Tensor;
    const after = session().run(changed).last_hidden_state as Tensor;
    const real = 10 * defaultBertConfig.hidden;
    assertElementwiseClose(
      { ...after, dims: [real], data: after.data.subarray(0, real) as Tensor['data'] },
      { ...before, dims: [real], data: before.data.subarray(0, real) as Tensor['data'] },
      'real tokens after changing padding',
    );
  });

  it('an opset 14 export (every norm decomposed) matches too', async () => {
    const opset14 = bertEncoder({ opset: 14, layers: 2 });
    await assertMatchesOnnxruntime(sessionsFor(opset14)(), opset14, bertFeeds([17, 6, 11], 17, 5));
  });
});

// Not a requirement on the optimizer, a record of it: how many nodes each model runs as written and
// optimized (the decomposed LayerNorm and GELU, Conv + BatchNormalization are what it can rewrite).
describe('graph optimizations on the exported patterns', () => {
  const models: [string, Uint8Array][] = [
    ['BERT opset 17 (one decomposed layer)', bertEncoder()],
    ['BERT opset 14 (all decomposed)', bertEncoder({ opset: 14, layers: 2 })],
    ['ResNet', smallResnet()],
  ];
  for (const [name, model] of models) {
    it(`${name}: optimizing never adds nodes`, (t) => {
      const written = InferenceSession.load(model, { optimize: false }).nodeCount;
      const optimized = InferenceSession.load(model).nodeCount;
      t.diagnostic(`${name}: ${written} nodes as written, ${optimized} optimized`);
      assert.ok(optimized <= written, `${optimized} nodes optimized > ${written} as written`);
    });
  }
});

describe('a small ResNet matches onnxruntime', () => {
  const model = smallResnet();
  const sessions = sessionsFor(model);
  const { imageSize } = defaultResnetConfig;

  for (const batch of [1, 4]) {
    it(`batch ${batch} at 3×${imageSize}×${imageSize}`, async () => {
      const dims = [batch, 3, imageSize, imageSize];
      const input = tensor('float32', dims, randomFloats(dims.reduce((a, b) => a * b, 1), 500 + batch, 2));
      await assertMatchesOnnxruntime(sessions(), model, { input });
    });
  }
});
