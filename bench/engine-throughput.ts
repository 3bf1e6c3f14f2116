// npm run bench:engine — the in-process Engine (worker threads, dynamic batching) against
// onnxruntime-node called once per request in the same process, on the MLP 784-512-512-10.
//
// Closed-loop load: `concurrency` callers each send a one-row request, await it, send the next, for
// DURATION_MS. Configurations alternate within each round (A B C A B C …):
//   batching     Engine, workers = cores, maxBatchSize 128, maxQueueDelayMs 0 (batches form from what
//                queues while the workers are busy)
//   no batching  Engine, same workers, maxBatchSize 1: every request is its own native run
//   ort          onnxruntime-node, `await session.run()` per request, default session options
// Prints items/s, p50/p99 latency and the event-loop thread's CPU time per item (medians over rounds),
// writes .bench/engine-throughput.json. The CPU column (Linux: /proc/thread-self/stat, 10 ms ticks) is
// what the caller's thread pays per request whatever else runs on the machine, so it compares across
// runs where items/s, on a shared machine, does not.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Engine, type LoadedModel } from '../src/index.js';
import { mlp } from '../test/helpers/onnx-builder.js';
import { randomFloats } from '../test/helpers/random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, '.bench');
const DURATION_MS = Number(process.env['DURATION_MS'] ?? 3000);
const ROUNDS = Number(process.env['ROUNDS'] ?? 2);
const CONCURRENCY = (process.env['CONCURRENCY'] ?? '1,16,256').split(',').map(Number);
const WORKERS = Number(process.env['WORKERS'] ?? cpus().length);
// Only the configurations whose names contain one of these (comma-separated; default: all), e.g. for
// profiling one of them alone: CONFIGS=batching CONCURRENCY=256 node --cpu-prof dist/bench/engine-throughput.js
const CONFIGS = (process.env['CONFIGS'] ?? '').split(',').filter((c) => c !== '');

interface Run { itemsPerSecond: number; p50: number; p99: number; loopCpuUsPerItem: number }

// CPU time (user + system) of the calling thread so far, in µs; NaN where /proc is not available.
function threadCpuUs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;  // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function closedLoop(concurrency: number, call: (input: Float32Array) => Promise<unknown>): Promise<Run> {
  const inputs = Array.from({ length: concurrency }, (_, i) => randomFloats(784, i + 1));
  const latencies: number[] = [];
  const cpuBefore = threadCpuUs();
  const end = performance.now() + DURATION_MS;
  await Promise.all(inputs.map(async (input) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await call(input);
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = DURATION_MS + Math.max(0, performance.now() - end);
  const loopCpuUsPerItem = (threadCpuUs() - cpuBefore) / latencies.length;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.round(p * (latencies.length - 1)))] ?? NaN;
  return { itemsPerSecond: (latencies.length / elapsed) * 1000, p50: at(0.5), p99: at(0.99), loopCpuUsPerItem };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  mkdirSync(outDir, { recursive: true });
  const modelPath = path.join(outDir, 'mlp-784-512-512-10.onnx');
  writeFileSync(modelPath, mlp([784, 512, 512, 10], 7));

  const engine = await Engine.create({ workers: WORKERS, threadsPerWorker: 1 });
  const batching: LoadedModel = await engine.load(modelPath, { name: 'batching', maxBatchSize: 128, queueCapacity: 4096 });
  const alone: LoadedModel = await engine.load(modelPath, { name: 'alone', maxBatchSize: 1, queueCapacity: 4096 });
  const session = await ort.InferenceSession.create(modelPath);

  const configs = ([
    ['inferd batching', (x) => batching.infer({ input: x })],
    ['inferd no batching', (x) => alone.infer({ input: x })],
    ['onnxruntime-node per request', (x) => session.run({ input: new ort.Tensor('float32', x, [1, 784]) })],
  ] as [string, (x: Float32Array) => Promise<unknown>][]).filter(([name]) => CONFIGS.length === 0 || CONFIGS.some((c) => name.includes(c)));
  // Warm every path once.
  for (const [, call] of configs) await closedLoop(4, call).catch(() => undefined);

  const results: Record<string, Record<number, Run[]>> = {};
  for (let round = 0; round < ROUNDS; ++round) {
    for (const concurrency of CONCURRENCY) {
      for (const [name, call] of configs) {
        ((results[name] ??= {})[concurrency] ??= []).push(await closedLoop(concurrency, call));
      }
    }
  }

  const table: { config: string; concurrency: number; itemsPerSecond: number; p50Ms: number; p99Ms: number;
    loopCpuUsPerItem: number }[] = [];
  console.log(`MLP 784-512-512-10, one row per request, ${WORKERS} workers × 1 thread, ${ROUNDS} rounds of ${DURATION_MS} ms; ` +
    `1-min load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
  console.log('| concurrency | configuration | items/s | p50 ms | p99 ms | event-loop CPU µs/item | vs onnxruntime-node |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  for (const concurrency of CONCURRENCY) {
    const ortRuns = results['onnxruntime-node per request']?.[concurrency];
    const ortRate = ortRuns === undefined ? NaN : median(ortRuns.map((r) => r.itemsPerSecond));
    for (const [name] of configs) {
      const runs = results[name]![concurrency]!;
      const row = { config: name, concurrency, itemsPerSecond: median(runs.map((r) => r.itemsPerSecond)),
        p50Ms: median(runs.map((r) => r.p50)), p99Ms: median(runs.map((r) => r.p99)),
        loopCpuUsPerItem: median(runs.map((r) => r.loopCpuUsPerItem)) };
      table.push(row);
      console.log(`| ${concurrency} | ${name} | ${row.itemsPerSecond.toFixed(0)} | ${row.p50Ms.toFixed(3)} | ` +
        `${row.p99Ms.toFixed(3)} | ${row.loopCpuUsPerItem.toFixed(1)} | ${(row.itemsPerSecond / ortRate).toFixed(2)}× |`);
    }
  }
  writeFileSync(path.join(outDir, 'engine-throughput.json'), JSON.stringify(table, null, 2) + '\n');
  await engine.close();
}

await main();
