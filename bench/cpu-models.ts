// The workloads of `npm run bench:cpu`, each a model file plus the inputs both engines compute on:
//
//   sgemm    one MatMul node, C[M×N] = A[M×K]·B[K×N] with B an initializer (both engines pre-pack
//            it at load): the cubes 256³–2048³ and the shapes inference multiplies (M×K×N)
//            1×768×768, 8×768×768, 32×768×3072 and 128×768×768
//   models   MLP 784-512-512-10 at batch 1, 32, 256; PaddleOCR's text-direction classifier
//            (ch_ppocr_mobile_v2.0_cls_infer.onnx, 3×48×192) at batch 1 and 8; a BERT-style encoder
//            (hidden 256, 4 layers, 4 heads, intermediate 1024, sequence 128) at batch 1 and 8; a
//            ResNet-style CNN (224×224, 64 channels wide, with a depthwise block) at batch 1 and 8
//
// Models are written to .bench/cpu/ on every run (seeded: the same bytes each time); inputs are
// seeded too.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bertEncoder } from '../test/helpers/bert-builder.js';
import { buildModel, mlp } from '../test/helpers/onnx-builder.js';
import { randomFloats, seededRandom } from '../test/helpers/random.js';
import { smallResnet } from '../test/helpers/resnet-builder.js';
import { type BenchFeeds, benchDir, root } from './cpu-compare.js';

export interface BenchCase {
  group: 'sgemm' | 'model';
  name: string; // e.g. "sgemm 1024³", "BERT b8"
  model: string; // the model's short name, for the profile's file names
  modelPath: string;
  feeds: BenchFeeds;
  batch: number;
  flops?: number; // multiply-adds ×2 of a run, for the sgemm cases
  // Targets from the issue: the latency ratio inferd ÷ onnxruntime-node a model must not exceed, or
  // the fraction of the FMA peak an sgemm case must reach at 1 and at 2 threads.
  maxRatio?: number;
  minPeakFraction?: { 1: number; 2: number };
}

export const modelDir = path.join(benchDir, 'cpu');
export const paddleClsPath = path.join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

export const bertConfig = { hidden: 256, heads: 4, intermediate: 1024, layers: 4, sequence: 128, vocabSize: 1000 };
export const resnetConfig = { width: 64, imageSize: 224, classes: 1000 };

function write(name: string, bytes: Uint8Array): string {
  mkdirSync(modelDir, { recursive: true });
  const file = path.join(modelDir, name);
  writeFileSync(file, bytes);
  return file;
}

function floatFeed(dims: readonly number[], seed: number): BenchFeeds[string] {
  return { dtype: 'float32', dims, data: randomFloats(dims.reduce((a, b) => a * b, 1), seed) };
}

export function matmulModel(m: number, k: number, n: number): Uint8Array {
  return buildModel({
    opset: 13,
    inputs: [{ name: 'a', dtype: 'float32', dims: ['m', k] }],
    outputs: [{ name: 'c', dtype: 'float32', dims: ['m', n] }],
    initializers: [{ name: 'b', dtype: 'float32', dims: [k, n], data: randomFloats(k * n, 1000 + k + n, 1 / Math.sqrt(k)) }],
    nodes: [{ op: 'MatMul', name: 'matmul', inputs: ['a', 'b'], outputs: ['c'] }],
  });
}

function sgemmCases(): BenchCase[] {
  const cubes = [256, 512, 1024, 2048].map((s) => ({ m: s, k: s, n: s, name: `sgemm ${s}³` }));
  const inference = [[1, 768, 768], [8, 768, 768], [32, 768, 3072], [128, 768, 768]].map(([m, k, n]) => ({
    m: m!, k: k!, n: n!, name: `matmul ${m}×${k}×${n}`,
  }));
  return [...cubes, ...inference].map(({ m, k, n, name }) => {
    const file = write(`matmul-${m}x${k}x${n}.onnx`, matmulModel(m, k, n));
    const bigTarget = m === k && k === n && m >= 1024;
    return {
      group: 'sgemm' as const, name, model: `matmul-${m}x${k}x${n}`, modelPath: file, batch: m,
      feeds: { a: floatFeed([m, k], m * 7 + k) },
      flops: 2 * m * k * n,
      ...(bigTarget && { minPeakFraction: { 1: 0.9, 2: 0.85 } }),
    };
  });
}

// Latency targets: at most onnxruntime-node's latency, and at batch 1 at most 0.8 of it.
function modelTarget(batch: number): number {
  return batch === 1 ? 0.8 : 1.0;
}

function bertFeeds(batch: number, sequence: number, vocab: number): BenchFeeds {
  const next = seededRandom(4242 + batch);
  const ids = new BigInt64Array(batch * sequence);
  for (let i = 0; i < ids.length; ++i) ids[i] = BigInt(Math.floor(next() * vocab));
  const mask = new BigInt64Array(batch * sequence).fill(1n);
  // The last eighth of every sequence but the first is padding, as a batch of unequal texts has.
  for (let b = 1; b < batch; ++b) mask.fill(0n, b * sequence + Math.floor(sequence * 7 / 8), (b + 1) * sequence);
  return {
    input_ids: { dtype: 'int64', dims: [batch, sequence], data: ids },
    attention_mask: { dtype: 'int64', dims: [batch, sequence], data: mask },
  };
}

function modelCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  const mlpPath = write('mlp-784-512-512-10.onnx', mlp([784, 512, 512, 10], 7));
  for (const batch of [1, 32, 256]) {
    cases.push({ group: 'model', name: `MLP b${batch}`, model: 'mlp', modelPath: mlpPath, batch, feeds: { input: floatFeed([batch, 784], batch) }, maxRatio: modelTarget(batch) });
  }
  if (existsSync(paddleClsPath)) {
    for (const batch of [1, 8]) {
      cases.push({ group: 'model', name: `PaddleOCR cls b${batch}`, model: 'paddle-cls', modelPath: paddleClsPath, batch, feeds: { x: floatFeed([batch, 3, 48, 192], 48 + batch) }, maxRatio: modelTarget(batch) });
    }
  }
  const { hidden, heads, intermediate, layers, sequence, vocabSize } = bertConfig;
  const bertPath = write('bert-h256-l4-s128.onnx', bertEncoder({
    opset: 17, hidden, heads, intermediate, layers, vocabSize, maxPositions: sequence, decomposedLayers: [], seed: 11,
  }));
  for (const batch of [1, 8]) {
    cases.push({ group: 'model', name: `BERT b${batch}`, model: 'bert', modelPath: bertPath, batch, feeds: bertFeeds(batch, sequence, vocabSize), maxRatio: modelTarget(batch) });
  }
  const { width, imageSize, classes } = resnetConfig;
  const resnetPath = write('resnet-w64-224.onnx', smallResnet({ opset: 13, width, imageSize, classes, seed: 77 }));
  for (const batch of [1, 8]) {
    cases.push({ group: 'model', name: `ResNet b${batch}`, model: 'resnet', modelPath: resnetPath, batch, feeds: { input: floatFeed([batch, 3, imageSize, imageSize], 224 + batch) }, maxRatio: modelTarget(batch) });
  }
  return cases;
}

// Every case, or those whose names contain one of `only` (case-insensitive).
export function benchCases(only: readonly string[] = []): BenchCase[] {
  const all = [...sgemmCases(), ...modelCases()];
  if (only.length === 0) return all;
  return all.filter((c) => only.some((o) => c.name.toLowerCase().includes(o.toLowerCase())));
}
