// Side-by-side timing of inferd and onnxruntime-node on the same model, the same inputs and the same
// thread count: the pieces `npm run bench:cpu` (cpu-speed.ts) and `npm run bench:native`
// (native-vs-onnxruntime.ts) share.
//
//   InferdRunner   inferd in process through the addon (InferenceSession.run), outputs written into
//                  arrays allocated once, as a caller that reuses its buffers would
//   OrtRunner      onnxruntime-node's InferenceSession.run (await), intraOpNumThreads = the thread
//                  count, interOpNumThreads 1, sequential execution, all graph optimizations, outputs
//                  pre-allocated the same way
//   runHarness     inferd-bench, the native harness (no Node.js), on the same inputs: writeInputs puts
//                  them in a directory as input_<i>.pb (ONNX TensorProto), which `--inputs` reads
//
// Each runner times single runs (µs) and summarizes them as p50/p99. Callers alternate the runners
// round by round, so machine noise hits both alike, and compare medians of per-round p50s.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { InferenceSession, type TypedArray } from '../src/index.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchDir = path.join(root, '.bench');
// The native harness; `npm run build:native` builds it next to the addon.
export const harnessPath = process.env['INFERD_BENCH'] ?? path.join(root, 'build', 'bin', 'inferd-bench');

export interface BenchFeed {
  dtype: 'float32' | 'int64';
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}
export type BenchFeeds = Record<string, BenchFeed>;

export interface Stats {
  p50: number; // µs
  p99: number;
  runs: number;
  // Process CPU time (user + system, all threads) per run, µs: unlike latency, barely moved by other
  // processes taking turns on the cores, so on a busy machine it compares engines more steadily.
  cpu?: number;
}

// How long one timed batch of runs lasts: until both bounds are met, or maxRuns.
export interface TimingBudget {
  minRuns: number;
  minMs: number;
  maxRuns: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))]!;
}

export function summarize(latenciesUs: readonly number[], cpuUs?: number): Stats {
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const stats: Stats = { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), runs: sorted.length };
  if (cpuUs !== undefined && sorted.length > 0) stats.cpu = cpuUs / sorted.length;
  return stats;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function elapsedUs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000;
}

export class InferdRunner {
  readonly session: InferenceSession;
  readonly #feeds: BenchFeeds;
  #outputs: Record<string, TypedArray> | undefined;

  constructor(modelPath: string, feeds: BenchFeeds, threads: number) {
    this.session = InferenceSession.load(modelPath, { threads });
    this.#feeds = feeds;
  }

  run(): void {
    if (this.#outputs === undefined) {
      const first = this.session.run(this.#feeds);
      this.#outputs = Object.fromEntries(Object.entries(first).map(([name, t]) => [name, t.data]));
      return;
    }
    this.session.run(this.#feeds, { outputs: this.#outputs });
  }

  time(budget: TimingBudget): Stats {
    const latencies: number[] = [];
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    while (latencies.length < budget.maxRuns && (latencies.length < budget.minRuns || elapsedUs(start) < budget.minMs * 1000)) {
      const t0 = process.hrtime.bigint();
      this.run();
      latencies.push(elapsedUs(t0));
    }
    return summarize(latencies, cpuSince(cpuStart));
  }
}

export class OrtRunner {
  readonly #session: ort.InferenceSession;
  readonly #feeds: Record<string, ort.Tensor>;
  #fetches: Record<string, ort.Tensor> | undefined;

  private constructor(session: ort.InferenceSession, feeds: BenchFeeds) {
    this.#session = session;
    this.#feeds = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, new ort.Tensor(f.dtype, f.data, f.dims)]));
  }

  static async create(modelPath: string, feeds: BenchFeeds, threads: number): Promise<OrtRunner> {
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    return new OrtRunner(session, feeds);
  }

  async run(): Promise<void> {
    if (this.#fetches === undefined) {
      const first = await this.#session.run(this.#feeds);
      this.#fetches = Object.fromEntries(Object.entries(first).map(([name, value]) => [name, value as ort.Tensor]));
      return;
    }
    await this.#session.run(this.#feeds, this.#fetches);
  }

  async time(budget: TimingBudget): Promise<Stats> {
    const latencies: number[] = [];
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    while (latencies.length < budget.maxRuns && (latencies.length < budget.minRuns || elapsedUs(start) < budget.minMs * 1000)) {
      const t0 = process.hrtime.bigint();
      await this.run();
      latencies.push(elapsedUs(t0));
    }
    return summarize(latencies, cpuSince(cpuStart));
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}

// The feeds as input_<i>.pb in `dir`, in the model's input order, for `inferd-bench --inputs dir`.
export function writeInputs(dir: string, inputNames: readonly string[], feeds: BenchFeeds): void {
  const { onnx } = onnxProto;
  mkdirSync(dir, { recursive: true });
  inputNames.forEach((name, index) => {
    const feed = feeds[name];
    if (feed === undefined) throw new Error(`writeInputs: no feed for input '${name}'`);
    const bytes = new Uint8Array(feed.data.buffer, feed.data.byteOffset, feed.data.byteLength);
    const proto = onnx.TensorProto.create({
      name, dataType: feed.dtype === 'float32' ? 1 : 7, dims: [...feed.dims], rawData: bytes,
    });
    writeFileSync(path.join(dir, `input_${index}.pb`), onnx.TensorProto.encode(proto).finish());
  });
}

export function harnessAvailable(): boolean {
  return existsSync(harnessPath);
}

// Runs inferd-bench with these arguments plus `--json <file>` and returns what it wrote there.
export function runHarness<T>(args: readonly string[]): T {
  mkdirSync(benchDir, { recursive: true });
  const json = path.join(benchDir, `harness-${process.pid}.json`);
  execFileSync(harnessPath, [...args, '--json', json], { stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(json, 'utf8')) as T;
}

export interface HarnessRun {
  p50_us: number;
  p99_us: number;
  gflops: number;
  allocations_per_run: number;
  peak_gflops?: number;
  profile?: {
    runs: number;
    nodes_us: number;
    ops: { op: string; nodes: number; us: number; share: number }[];
    nodes: { op: string; name: string; us: number; share: number }[];
  };
}

export interface HarnessPeak {
  threads: number;
  fma_isa: string;
  peak_gflops: number;
  sgemm_kernel: string;
  sgemm: { m: number; n: number; k: number; gflops: number; gflops_packed: number; peak_fraction: number; peak_fraction_packed: number }[];
}
