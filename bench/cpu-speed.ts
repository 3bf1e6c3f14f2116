// npm run bench:cpu — inferd against onnxruntime-node on the CPU, side by side in one process, at 1
// and 2 threads: SGEMM (one-MatMul models) and the models (cpu-models.ts), each timed in both
// engines on identical inputs with the same thread count, alternating engine by engine and round by
// round (the order flips every round), so machine noise hits both alike.
//
// Per thread count it also asks the native harness (inferd-bench, when built) for the FMA peak at
// that many threads and its own SGEMM sweep (a fresh B each call, and B pre-packed), so SGEMM figures
// read as a fraction of what the cores can do; and, for every model that misses its latency target,
// for a profile (time per op type) on the same inputs.
//
// Environment: THREADS (default "1,2"), ROUNDS (5), MIN_MS (per engine, case and round: 200),
// ONLY (comma-separated substrings of case names, e.g. "BERT,sgemm 1024"), PROFILE=0 (no profiles
// of misses), SWEEP=0 (no harness SGEMM sweep). INFERD_ADDON / INFERD_BENCH point at another build of
// the addon / of the harness.
// Prints Markdown tables and writes .bench/cpu-speed.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import {
  type HarnessPeak, type HarnessRun, InferdRunner, OrtRunner, type Stats, type TimingBudget, benchDir,
  harnessAvailable, harnessPath, median, runHarness, writeInputs,
} from './cpu-compare.js';
import { type BenchCase, benchCases } from './cpu-models.js';

const THREADS = (process.env['THREADS'] ?? '1,2').split(',').map(Number);
const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const MIN_MS = Number(process.env['MIN_MS'] ?? 200);
const ONLY = (process.env['ONLY'] ?? '').split(',').filter((s) => s !== '');
const PROFILE = process.env['PROFILE'] !== '0';
const SWEEP = process.env['SWEEP'] !== '0';
const SWEEP_SIZES = '256,512,1024,2048';

interface CaseResult {
  name: string;
  group: BenchCase['group'];
  batch: number;
  threads: number;
  inferd: { p50: number; p99: number };
  ort: { p50: number; p99: number };
  ratio: number; // median over rounds of inferd p50 ÷ onnxruntime-node p50; < 1: inferd is faster
  cpuRatio?: number; // the same for CPU time per run (see Stats.cpu)
  gflopsInferd?: number;
  gflopsOrt?: number;
  peakFractionInferd?: number;
  peakFractionOrt?: number;
  maxRatio?: number;
  minPeakFraction?: number;
  met?: boolean;
  profile?: HarnessRun['profile'];
  allocationsPerRun?: number;
}

interface ThreadResult {
  threads: number;
  peak?: HarnessPeak;
  cases: CaseResult[];
  loadBefore: number;
  loadAfter: number;
}

function budgetFor(c: BenchCase): TimingBudget {
  return { minRuns: 5, minMs: MIN_MS, maxRuns: c.batch === 1 ? 5000 : 2000 };
}

async function measureThreads(cases: readonly BenchCase[], threads: number): Promise<ThreadResult> {
  const loadBefore = loadavg()[0]!;
  let peak: HarnessPeak | undefined;
  // The peak loop is timed by the wall clock, so other processes on the machine make it read low:
  // it is measured again between rounds and after them, and the highest reading counts.
  const remeasurePeak = () => {
    if (!peak) return;
    const again = runHarness<HarnessPeak>(['--peak', '--threads', String(threads)]);
    peak.peak_gflops = Math.max(peak.peak_gflops, again.peak_gflops);
  };
  if (harnessAvailable()) {
    peak = runHarness<HarnessPeak>(SWEEP ? ['--sgemm', SWEEP_SIZES, '--threads', String(threads)] : ['--peak', '--threads', String(threads)]);
    console.error(`[${threads} thread(s)] FMA peak ${peak.peak_gflops.toFixed(1)} GFLOP/s (${peak.fma_isa})`);
  }

  const runners = [];
  for (const c of cases) {
    const inferd = new InferdRunner(c.modelPath, c.feeds, threads);
    const ort = await OrtRunner.create(c.modelPath, c.feeds, threads);
    for (let i = 0; i < 3; ++i) { inferd.run(); await ort.run(); }
    runners.push({ c, inferd, ort, rounds: [] as { inferd: Stats; ort: Stats }[] });
  }
  for (let round = 0; round < ROUNDS; ++round) {
    for (const r of runners) {
      const budget = budgetFor(r.c);
      // One untimed run each: the previous case left other data in the caches.
      r.inferd.run();
      await r.ort.run();
      let inferd: Stats, ort: Stats;
      if (round % 2 === 0) {
        inferd = r.inferd.time(budget);
        ort = await r.ort.time(budget);
      } else {
        ort = await r.ort.time(budget);
        inferd = r.inferd.time(budget);
      }
      r.rounds.push({ inferd, ort });
    }
    console.error(`[${threads} thread(s)] round ${round + 1}/${ROUNDS} done`);
    if (round % 2 === 1 || round === ROUNDS - 1) remeasurePeak();
  }
  if (peak) {
    // The sweep's fractions against the best reading of the peak.
    for (const row of peak.sgemm) {
      row.peak_fraction = row.gflops / peak.peak_gflops;
      row.peak_fraction_packed = row.gflops_packed / peak.peak_gflops;
    }
    console.error(`[${threads} thread(s)] FMA peak, best reading: ${peak.peak_gflops.toFixed(1)} GFLOP/s`);
  }

  const results: CaseResult[] = [];
  for (const r of runners) {
    const { c, rounds } = r;
    const med = (pick: (x: (typeof rounds)[number]) => number) => median(rounds.map(pick));
    const result: CaseResult = {
      name: c.name, group: c.group, batch: c.batch, threads,
      inferd: { p50: med((x) => x.inferd.p50), p99: med((x) => x.inferd.p99) },
      ort: { p50: med((x) => x.ort.p50), p99: med((x) => x.ort.p99) },
      ratio: med((x) => x.inferd.p50 / x.ort.p50),
    };
    if (rounds.every((x) => x.inferd.cpu !== undefined && x.ort.cpu !== undefined)) {
      result.cpuRatio = med((x) => x.inferd.cpu! / x.ort.cpu!);
    }
    if (c.flops !== undefined) {
      result.gflopsInferd = c.flops / result.inferd.p50 / 1e3;
      result.gflopsOrt = c.flops / result.ort.p50 / 1e3;
      if (peak) {
        result.peakFractionInferd = result.gflopsInferd / peak.peak_gflops;
        result.peakFractionOrt = result.gflopsOrt / peak.peak_gflops;
      }
    }
    if (c.maxRatio !== undefined) {
      result.maxRatio = c.maxRatio;
      result.met = result.ratio <= c.maxRatio;
    }
    if (c.minPeakFraction !== undefined && result.peakFractionInferd !== undefined) {
      result.minPeakFraction = threads === 1 ? c.minPeakFraction[1] : c.minPeakFraction[2];
      result.met = result.peakFractionInferd >= result.minPeakFraction;
    }
    results.push(result);
    await r.ort.release();
  }

  // The harness on the same inputs: allocations per steady-state run for every model, and where a
  // model misses its target, where its time goes.
  if (harnessAvailable()) {
    for (const r of runners) {
      const { c } = r;
      if (c.group !== 'model') continue;
      const result = results.find((x) => x.name === c.name)!;
      const dir = path.join(benchDir, 'cpu', 'inputs', c.name.replace(/[^A-Za-z0-9]+/g, '-'));
      writeInputs(dir, r.inferd.session.inputNames, c.feeds);
      const profile = PROFILE && result.met === false;
      const iters = Math.max(5, Math.min(200, Math.round(200_000 / Math.max(result.inferd.p50, 1))));
      // Enough warm-up for every pool thread to have grown its scratch at these shapes.
      const warmup = Math.max(5, Math.round(iters / 4));
      const run = runHarness<HarnessRun>([c.modelPath, '--inputs', dir, '--threads', String(threads), '--iters', String(iters),
        '--warmup', String(warmup), ...(profile ? ['--profile'] : [])]);
      result.allocationsPerRun = run.allocations_per_run;
      if (run.profile) result.profile = run.profile;
    }
  }
  return { threads, ...(peak && { peak }), cases: results, loadBefore, loadAfter: loadavg()[0]! };
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const us = (s: { p50: number; p99: number }) => (s.p50 >= 10_000 ? `${(s.p50 / 1000).toFixed(2)} ms` : `${s.p50.toFixed(1)} µs`);
const cpu = (r: CaseResult) => (r.cpuRatio === undefined ? '–' : r.cpuRatio.toFixed(2));
const verdict = (r: CaseResult) => (r.met === undefined ? '' : r.met ? 'met' : 'missed');

function printTables(t: ThreadResult): void {
  console.log(`\n### ${t.threads} thread(s)  (1-min load average ${t.loadBefore.toFixed(2)} before, ${t.loadAfter.toFixed(2)} after)`);
  if (t.peak) {
    console.log(`\nFMA peak (inferd-bench --peak --threads ${t.threads}, the best of several readings): ${t.peak.peak_gflops.toFixed(1)} GFLOP/s, ${t.peak.fma_isa}; sgemm micro-kernel ${t.peak.sgemm_kernel}`);
  }
  const sgemm = t.cases.filter((r) => r.group === 'sgemm');
  if (sgemm.length > 0) {
    console.log('\n| MatMul (M×K×N) | inferd p50 | ort p50 | inferd ÷ ort | CPU time ÷ | inferd GFLOP/s | % of peak | ort GFLOP/s | % of peak | target |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of sgemm) {
      const target = r.minPeakFraction === undefined ? '' : `≥ ${pct(r.minPeakFraction)}: ${verdict(r)}`;
      console.log(`| ${r.name} | ${us(r.inferd)} | ${us(r.ort)} | ${r.ratio.toFixed(2)} | ${cpu(r)} | ${r.gflopsInferd!.toFixed(1)} | ${pct(r.peakFractionInferd)} | ${r.gflopsOrt!.toFixed(1)} | ${pct(r.peakFractionOrt)} | ${target} |`);
    }
  }
  if (t.peak && t.peak.sgemm.length > 0) {
    console.log(`\ninferd-bench --sgemm ${SWEEP_SIZES} --threads ${t.threads} (the kernel alone, no model):`);
    console.log('\n| M=N=K | sgemm GFLOP/s | % of peak | pre-packed B GFLOP/s | % of peak |');
    console.log('|---:|---:|---:|---:|---:|');
    for (const s of t.peak.sgemm) {
      console.log(`| ${s.m} | ${s.gflops.toFixed(1)} | ${pct(s.peak_fraction)} | ${s.gflops_packed.toFixed(1)} | ${pct(s.peak_fraction_packed)} |`);
    }
  }
  const models = t.cases.filter((r) => r.group === 'model');
  if (models.length > 0) {
    console.log('\n| model | batch | inferd p50 | ort p50 | inferd ÷ ort | target | CPU time ÷ | allocations/run |');
    console.log('|---|---:|---:|---:|---:|---|---:|---:|');
    for (const r of models) {
      const alloc = r.allocationsPerRun === undefined ? '–' : r.allocationsPerRun.toFixed(2);
      console.log(`| ${r.name.replace(/ b\d+$/, '')} | ${r.batch} | ${us(r.inferd)} | ${us(r.ort)} | ${r.ratio.toFixed(2)} | ≤ ${r.maxRatio!.toFixed(1)}: ${verdict(r)} | ${cpu(r)} | ${alloc} |`);
    }
    for (const r of models.filter((m) => m.profile)) {
      const top = r.profile!.ops.slice(0, 6).map((o) => `${o.op} ${pct(o.share)} (${o.us.toFixed(0)} µs)`).join(', ');
      console.log(`\n- ${r.name} at ${t.threads} thread(s) missed (${r.ratio.toFixed(2)}): inferd-bench --profile: ${top}`);
    }
  }
}

async function main(): Promise<void> {
  mkdirSync(benchDir, { recursive: true });
  const cases = benchCases(ONLY);
  if (!harnessAvailable()) console.error(`inferd-bench not found at ${harnessPath}: no FMA peak, allocation counts or profiles (set INFERD_BENCH)`);
  console.log(`bench:cpu — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; ${ROUNDS} alternating rounds, ≥ ${MIN_MS} ms per engine, case and round; latency p50 is the median over rounds, the ratio the median of per-round ratios`);
  const results: ThreadResult[] = [];
  for (const threads of THREADS) {
    const t = await measureThreads(cases, threads);
    results.push(t);
    printTables(t);
  }
  writeFileSync(path.join(benchDir, 'cpu-speed.json'), JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, minMs: MIN_MS, results }, null, 2) + '\n');
  console.log(`\nwrote ${path.join(benchDir, 'cpu-speed.json')}`);
}

await main();
