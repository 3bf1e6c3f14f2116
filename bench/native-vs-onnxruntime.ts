// npm run bench:native — the engine against onnxruntime-node on the same model, inputs and thread
// count, measured side by side and alternating (A B C A B C …) so that machine noise hits all alike.
//
//   A  inferd-bench            the native harness: the engine alone, no Node.js
//   B  inferd via the addon    InferenceSession.run from Node, outputs written into preallocated arrays
//   C  onnxruntime-node        InferenceSession.run from Node (await), same thread settings
//
// Model: MLP 784-512-512-10 (Gemm+Relu, seeded weights). Prints a table of median p50/p99 per
// configuration and the ratios, and writes .bench/native-vs-onnxruntime.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { InferenceSession } from '../src/index.js';
import { mlp } from '../test/helpers/onnx-builder.js';
import { randomFloats } from '../test/helpers/random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, '.bench');
const harness = process.env['INFERD_BENCH'] ?? path.join(root, 'build', 'bin', 'inferd-bench');
const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const BATCHES = (process.env['BATCHES'] ?? '1,32').split(',').map(Number);
const THREADS = Number(process.env['THREADS'] ?? 1);

interface Stats { p50: number; p99: number }

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))]!;
}

function summarize(latenciesUs: number[]): Stats {
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function iterationsFor(batch: number): number {
  return batch >= 32 ? 300 : 2000;
}

function runHarness(modelPath: string, batch: number): Stats {
  const json = path.join(outDir, 'harness.json');
  execFileSync(harness, [modelPath, '--batch', String(batch), '--threads', String(THREADS), '--iters',
    String(iterationsFor(batch)), '--warmup', '50', '--json', json]);
  const r = JSON.parse(readFileSync(json, 'utf8')) as { p50_us: number; p99_us: number };
  return { p50: r.p50_us, p99: r.p99_us };
}

function runAddon(session: InferenceSession, input: Float32Array, batch: number): Stats {
  const output = new Float32Array(batch * 10);
  const feeds = { input: { dtype: 'float32' as const, dims: [batch, 784], data: input } };
  const options = { outputs: { output } };
  for (let i = 0; i < 50; ++i) session.run(feeds, options);
  const latencies: number[] = [];
  for (let i = 0; i < iterationsFor(batch); ++i) {
    const t0 = process.hrtime.bigint();
    session.run(feeds, options);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return summarize(latencies);
}

async function runOrt(session: ort.InferenceSession, input: Float32Array, batch: number): Promise<Stats> {
  const feeds = { input: new ort.Tensor('float32', input, [batch, 784]) };
  for (let i = 0; i < 50; ++i) await session.run(feeds);
  const latencies: number[] = [];
  for (let i = 0; i < iterationsFor(batch); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return summarize(latencies);
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const modelPath = path.join(outDir, 'mlp-784-512-512-10.onnx');
  writeFileSync(modelPath, mlp([784, 512, 512, 10], 7));
  const inferd = InferenceSession.load(modelPath, { threads: THREADS });
  const onnxruntime = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });

  const results = [];
  for (const batch of BATCHES) {
    const input = randomFloats(batch * 784, batch);
    const rounds: { harness: Stats; addon: Stats; ort: Stats }[] = [];
    for (let r = 0; r < ROUNDS; ++r) {
      rounds.push({ harness: runHarness(modelPath, batch), addon: runAddon(inferd, input, batch), ort: await runOrt(onnxruntime, input, batch) });
    }
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
    const f = (s: Stats) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`;
    console.log(`| ${r.batch} | ${f(r.harness)} | ${f(r.addon)} | ${f(r.ort)} | ${r.ratioHarnessToOrt.toFixed(2)} | ${r.ratioAddonToOrt.toFixed(2)} |`);
  }
  writeFileSync(path.join(outDir, 'native-vs-onnxruntime.json'), JSON.stringify(results, null, 2) + '\n');
}

await main();
