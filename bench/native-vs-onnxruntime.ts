// npm run bench:native — the engine against onnxruntime-node on the same model, inputs and thread
// count, measured side by side and alternating (A B C A B C …) so that machine noise hits all alike.
//
//   A  inferd-bench            the native harness: the engine alone, no Node.js
//   B  inferd via the addon    InferenceSession.run from Node, outputs written into preallocated arrays
//   C  onnxruntime-node        InferenceSession.run from Node (await), same thread settings
// All three compute on the same inputs (the harness reads them from files, see cpu-compare.ts).
//
// Model: MLP 784-512-512-10 (Gemm+Relu, seeded weights). Prints a table of median p50/p99 per
// configuration and the ratios, and writes .bench/native-vs-onnxruntime.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mlp } from '../test/helpers/onnx-builder.js';
import { randomFloats } from '../test/helpers/random.js';
import {
  type BenchFeeds, type HarnessRun, InferdRunner, OrtRunner, type Stats, benchDir, median, runHarness, writeInputs,
} from './cpu-compare.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const BATCHES = (process.env['BATCHES'] ?? '1,32').split(',').map(Number);
const THREADS = Number(process.env['THREADS'] ?? 1);

function iterationsFor(batch: number): number {
  return batch >= 32 ? 300 : 2000;
}

// The harness reads the very inputs the two Node runners feed (written once per batch size).
function runNative(modelPath: string, inputsDir: string, batch: number): Stats {
  const r = runHarness<HarnessRun>([modelPath, '--inputs', inputsDir, '--threads', String(THREADS), '--iters',
    String(iterationsFor(batch)), '--warmup', '50']);
  return { p50: r.p50_us, p99: r.p99_us, runs: iterationsFor(batch) };
}

async function main(): Promise<void> {
  mkdirSync(benchDir, { recursive: true });
  const modelPath = path.join(benchDir, 'mlp-784-512-512-10.onnx');
  writeFileSync(modelPath, mlp([784, 512, 512, 10], 7));

  const results = [];
  for (const batch of BATCHES) {
    const feeds: BenchFeeds = { input: { dtype: 'float32', dims: [batch, 784], data: randomFloats(batch * 784, batch) } };
    const inputsDir = path.join(benchDir, 'mlp-inputs', `b${batch}`);
    writeInputs(inputsDir, ['input'], feeds);
    const inferd = new InferdRunner(modelPath, feeds, THREADS);
    const onnxruntime = await OrtRunner.create(modelPath, feeds, THREADS);
    for (let i = 0; i < 50; ++i) { inferd.run(); await onnxruntime.run(); }
    const budget = { minRuns: iterationsFor(batch), minMs: 0, maxRuns: iterationsFor(batch) };
    const rounds: { harness: Stats; addon: Stats; ort: Stats }[] = [];
    for (let r = 0; r < ROUNDS; ++r) {
      rounds.push({ harness: runNative(modelPath, inputsDir, batch), addon: inferd.time(budget), ort: await onnxruntime.time(budget) });
    }
    await onnxruntime.release();
    const med = (pick: (x: (typeof rounds)[number]) => number) => median(rounds.map(pick));
    const row = {
      batch, threads: THREADS, rounds: ROUNDS,
      harness: { p50: med((x) => x.harness.p50), p99: med((x) => x.harness.p99) },
      addon: { p50: med((x) => x.addon.p50), p99: med((x) => x.addon.p99) },
      ort: { p50: med((x) => x.ort.p50), p99: med((x) => x.ort.p99) },
      // Ratio of medians of per-round p50s; < 1 means inferd is faster.
      ratioHarnessToOrt: med((x) => x.harness.p50 / x.ort.p50),
      ratioAddonToOrt: med((x) => x.addon.p50 / x.ort.p50),
    };
    results.push(row);
  }

  console.log(`MLP 784-512-512-10, ${THREADS} thread(s), ${ROUNDS} alternating rounds; latency in µs (median over rounds)`);
  console.log('| batch | inferd-bench p50 / p99 | inferd addon p50 / p99 | onnxruntime-node p50 / p99 | harness ÷ ort | addon ÷ ort |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const f = (s: { p50: number; p99: number }) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`;
    console.log(`| ${r.batch} | ${f(r.harness)} | ${f(r.addon)} | ${f(r.ort)} | ${r.ratioHarnessToOrt.toFixed(2)} | ${r.ratioAddonToOrt.toFixed(2)} |`);
  }
  writeFileSync(path.join(benchDir, 'native-vs-onnxruntime.json'), JSON.stringify(results, null, 2) + '\n');
}

await main();
