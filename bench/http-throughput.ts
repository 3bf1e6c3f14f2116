// npm run bench:http — inferd's HTTP server against a naive Fastify + onnxruntime-node server, side by
// side, on the bundled digits model (models/digits/model.onnx: 'image' float32 [batch, 784] →
// 'probabilities' float32 [batch, 10]), one image per request.
//
// Servers, each its own child process on 127.0.0.1 (every load targets 127.0.0.1 only):
//   inferd   node dist/src/cli/main.js serve --model-repository models --log-level silent
//            [--workers $WORKERS] (unset: inferd's default, cores ÷ threads)
//            [--processes $INFERD_PROCESSES] (unset: inferd's default); POST /v2/models/digits/infer
//   naive    node dist/bench/naive-server.js (bench/naive-server.ts): Fastify + onnxruntime-node, every
//            request alone through `await session.run()`; POST /infer/json, POST /infer/binary
//   ceilings node dist/bench/ceiling-servers.js (bench/ceiling-servers.ts): Fastify hello world GET /
//            and a Fastify octet-stream echo POST /echo — what any Fastify server is bounded by
//
// Bodies (one [1, 784] image: the 7 in examples/digit.json):
//   json    examples/digit.json as it is, to both servers (OIP v2 JSON in, OIP v2 JSON out)
//   binary  inferd: Triton's binary tensor extension — a JSON header (input binary_data_size 3136,
//           request parameter binary_data_output true), then the 3136 raw float32 bytes, with
//           Inference-Header-Content-Length; naive: the 3136 raw bytes alone, answered with 40 raw bytes
//
// Before any load, every server's answer is checked: argmax of the probabilities must be 7 on both
// servers, JSON and binary, and the four probability vectors must agree within 1e-3 (the echo must
// return its body byte for byte). The same check runs again after the load. Any failure stops the run.
//
// Load: autocannon (programmatic API, in this process, one thread; pipelining 1; closed loop: each
// connection sends its next request when the previous answer arrives) for DURATION seconds at each
// connection count. One autocannon thread saturates near 50k req/s, before a server on many cores
// does: with LOADGEN_PROCESSES K > 1 the load comes from K child processes instead
// (bench/load-processes.ts, bench/load-generator.ts; never more than one per connection), each with
// its share of the connections, started on one signal; their counts are summed, their latencies
// pooled, and req/s and the percentiles computed over the union as for one process.
// For every (connections, body) configuration the servers alternate, inferd, naive, inferd, naive …
// ROUNDS times, so noise hits both; WARMUP seconds of load per server and body kind come first and
// are discarded. The ceilings run once per connection count after inferd and naive have been stopped.
//
// Reported per server and configuration (medians over rounds, each metric on its own):
//   req/s    2xx answers per second (autocannon's 2xx count ÷ its measured duration; with several load
//            processes, their summed 2xx ÷ the longest of their durations)
//   p50/p90/p99  latency in ms of the 2xx answers, exact (nearest rank) over every answer, from the
//            fractional-ms response times autocannon emits per response; autocannon's own latency
//            histogram truncates to whole milliseconds, useless below 1 ms, so it is not used
//   errors   connection errors + timeouts, summed over rounds; non-2xx likewise summed
//   CPU µs/req  the server's CPU time (user + system, Linux /proc, 10 ms ticks) per 2xx answer:
//            its event-loop thread, and all its threads (workers, onnxruntime's pool, GC helpers), over
//            the server process and every process under it (bench/server-cpu.ts). With several
//            processes (inferd --processes N), "loop" is the sum of the worker processes' main threads,
//            the cluster primary counting in "all" only. What a request costs the server, nearly
//            independent of what else the machine runs, where req/s on a shared machine is not
//
// Prints markdown tables to stdout (progress to stderr) and writes .bench/http-throughput.json.
// Environment: DURATION (s, default 5), ROUNDS (default 2), WARMUP (s, default 1),
// CONNECTIONS (default 1,16,64,256), WORKERS (inferd --workers; default: inferd's own default),
// INFERD_PROCESSES (inferd --processes; default: inferd's own default), LOADGEN_PROCESSES (load
// generator processes, default 1: autocannon in this process). Both, and the machine's core count,
// are recorded in the output and in the JSON.
//
// Caveat: the load generator runs on the same machine as the server under test and competes with it
// for cores (on a 2-core machine heavily so); numbers are relative, not absolute capacity. Each run
// records the 1-minute load average: well above (cores) means other work shared the machine, and the
// numbers of that run (the ceilings especially, measured once) are noise more than signal.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLoad } from './load-processes.js';
import { cpuSpent, serverCpu } from './server-cpu.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, '.bench');

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

const DURATION = positive('DURATION', 5);
const ROUNDS = Math.round(positive('ROUNDS', 2));
const WARMUP = Number(process.env['WARMUP'] ?? 1);
const CONNECTIONS = (process.env['CONNECTIONS'] ?? '1,16,64,256').split(',').map((v) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`CONNECTIONS must list positive integers, got '${process.env['CONNECTIONS']}'`);
  return n;
});
const WORKERS = process.env['WORKERS'];
// Passed to inferd as it is: inferd says what it accepts.
const INFERD_PROCESSES = process.env['INFERD_PROCESSES'] || undefined;
const LOADGEN_PROCESSES = Math.round(positive('LOADGEN_PROCESSES', 1));
const EXPECTED_DIGIT = 7;
const TOLERANCE = 1e-3;
const MODEL = 'digits';
const OUTPUT = 'probabilities';

// ---------------------------------------------------------------------------------------------
// Child processes: every one started is stopped at the end, on failure and on SIGINT/SIGTERM.

interface Child {
  name: string;
  proc: ChildProcess;
  output: string;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited: Promise<void>;
}

const children = new Set<Child>();

function startChild(name: string, args: string[]): Child {
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { name, proc, output: '', exit: undefined, exited: Promise.resolve() };
  const keep = (chunk: Buffer) => {
    child.output = (child.output + chunk.toString('utf8')).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  child.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      child.exit = { code, signal };
      resolve();
    });
    proc.once('error', (error) => {
      child.output += `\nspawn error: ${error.message}`;
      child.exit ??= { code: null, signal: null };
      resolve();
    });
  });
  children.add(child);
  return child;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function stopChild(child: Child): Promise<void> {
  if (child.exit === undefined) {
    child.proc.kill('SIGTERM');
    await Promise.race([child.exited, sleep(5000)]);
    if (child.exit === undefined) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }
  children.delete(child);
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild));
}

process.once('exit', () => {
  for (const child of children) if (child.exit === undefined) child.proc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the servers`);
    void stopAll().finally(() => process.exit(130));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswering(child: Child, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exit !== undefined) {
      throw new Error(`${child.name} exited (code ${child.exit.code}, signal ${child.exit.signal}) before answering ${url}:\n${child.output}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s:\n${child.output}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// Request bodies and answer checks.

interface DigitRequest {
  id?: string;
  inputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[];
}

const jsonBody = readFileSync(path.join(root, 'examples', 'digit.json'));
const digitRequest = JSON.parse(jsonBody.toString('utf8')) as DigitRequest;
const image = Float32Array.from(digitRequest.inputs[0]!.data.flat(Infinity) as number[]);
if (image.length !== 784) throw new Error(`examples/digit.json: expected 784 values, got ${image.length}`);
const rawBody = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
const tritonHeader = Buffer.from(JSON.stringify({
  inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: rawBody.length } }],
  parameters: { binary_data_output: true },
}));
const tritonBody = Buffer.concat([tritonHeader, rawBody]);

type Kind = 'json' | 'binary';
type Server = 'inferd' | 'naive';

interface Target {
  name: string;
  pid?: number | undefined;  // the server process, for its CPU time
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer;
}

function inferdTarget(port: number, kind: Kind, pid?: number): Target {
  const url = `http://127.0.0.1:${port}/v2/models/${MODEL}/infer`;
  return kind === 'json'
    ? { name: 'inferd', pid, url, method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody }
    : {
      name: 'inferd', pid, url, method: 'POST', body: tritonBody,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(tritonHeader.length) },
    };
}

function naiveTarget(port: number, kind: Kind, pid?: number): Target {
  return kind === 'json'
    ? { name: 'naive', pid, url: `http://127.0.0.1:${port}/infer/json`, method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody }
    : { name: 'naive', pid, url: `http://127.0.0.1:${port}/infer/binary`, method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: rawBody };
}

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function send(target: Target): Promise<Answer> {
  const response = await fetch(target.url, {
    method: target.method,
    headers: target.headers,
    ...(target.body !== undefined && { body: new Uint8Array(target.body.buffer, target.body.byteOffset, target.body.length) as Uint8Array<ArrayBuffer> }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

function floats(bytes: Buffer): Float32Array {
  if (bytes.length % 4 !== 0) throw new Error(`${bytes.length} bytes is not a whole number of float32`);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

interface OipOutput {
  name: string;
  datatype?: string;
  shape?: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

function oipJsonOutput(answer: Answer): Float32Array {
  const parsed = JSON.parse(answer.body.toString('utf8')) as { outputs?: OipOutput[] };
  const output = parsed.outputs?.find((o) => o.name === OUTPUT);
  if (output?.data === undefined) throw new Error(`no JSON output '${OUTPUT}' in ${answer.body.toString('utf8').slice(0, 300)}`);
  return Float32Array.from(output.data.flat(Infinity) as number[]);
}

function tritonBinaryOutput(answer: Answer): Float32Array {
  const headerValue = answer.headers.get('inference-header-content-length');
  if (headerValue === null) throw new Error(`no Inference-Header-Content-Length in the answer: not a binary answer (${answer.body.toString('utf8').slice(0, 300)})`);
  const headerLength = Number(headerValue);
  const header = JSON.parse(answer.body.subarray(0, headerLength).toString('utf8')) as { outputs?: OipOutput[] };
  let offset = headerLength;
  for (const output of header.outputs ?? []) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (output.name === OUTPUT) {
      if (offset + size > answer.body.length) throw new Error(`binary output '${OUTPUT}' runs past the body (${offset}+${size} > ${answer.body.length})`);
      return floats(answer.body.subarray(offset, offset + size));
    }
    offset += size;
  }
  throw new Error(`no binary output '${OUTPUT}' in ${JSON.stringify(header)}`);
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; ++i) if (values[i]! > values[best]!) best = i;
  return best;
}

// Checks every inference path; returns the probability vectors by path.
async function verifyInference(inferdPort: number, naivePort: number): Promise<Record<string, number[]>> {
  const paths: [string, Target, (a: Answer) => Float32Array][] = [
    ['inferd json', inferdTarget(inferdPort, 'json'), oipJsonOutput],
    ['inferd binary', inferdTarget(inferdPort, 'binary'), tritonBinaryOutput],
    ['naive json', naiveTarget(naivePort, 'json'), oipJsonOutput],
    ['naive binary', naiveTarget(naivePort, 'binary'), (a) => floats(a.body)],
  ];
  const found: Record<string, number[]> = {};
  for (const [label, target, decode] of paths) {
    const answer = await send(target);
    if (answer.status !== 200) throw new Error(`${label}: HTTP ${answer.status}: ${answer.body.toString('utf8').slice(0, 500)}`);
    const probabilities = decode(answer);
    if (probabilities.length !== 10) throw new Error(`${label}: expected 10 probabilities, got ${probabilities.length}`);
    const digit = argmax(probabilities);
    if (digit !== EXPECTED_DIGIT) throw new Error(`${label}: argmax ${digit}, expected ${EXPECTED_DIGIT} (${Array.from(probabilities).join(', ')})`);
    found[label] = Array.from(probabilities);
  }
  const reference = found['naive json']!;
  for (const [label, values] of Object.entries(found)) {
    const diff = Math.max(...values.map((v, i) => Math.abs(v - reference[i]!)));
    if (!(diff <= TOLERANCE)) throw new Error(`${label} differs from naive json by ${diff} (> ${TOLERANCE}): ${values.join(', ')} vs ${reference.join(', ')}`);
  }
  return found;
}

async function verifyCeilings(port: number): Promise<void> {
  const hello = await send({ name: 'hello-world', url: `http://127.0.0.1:${port}/`, method: 'GET', headers: {} });
  if (hello.status !== 200 || hello.body.toString('utf8') !== '{"hello":"world"}') throw new Error(`hello world answered ${hello.status} ${hello.body.toString('utf8')}`);
  const echo = await send(echoTarget(port));
  if (echo.status !== 200 || !echo.body.equals(rawBody)) throw new Error(`echo answered ${echo.status} with ${echo.body.length} bytes that are not its body`);
}

function echoTarget(port: number, pid?: number): Target {
  return { name: 'echo', pid, url: `http://127.0.0.1:${port}/echo`, method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: rawBody };
}

// ---------------------------------------------------------------------------------------------
// Load.

interface Run {
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
  statusCodes: Record<string, number>;
  loadAvg1: number;  // the machine's 1-minute load average when the run ended (this benchmark's own load included)
  loopCpuUsPerReq: number;   // the server's event-loop thread (several processes: their workers' main threads)
  totalCpuUsPerReq: number;  // all the server's threads, in all its processes
  serverProcesses: number;   // the server's processes seen at the end of the run
  loadgenProcesses: number;  // the load generator's processes (at most one per connection)
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function load(target: Target, connections: number, duration: number): Promise<Run> {
  const cpuBefore = serverCpu(target.pid);
  const { sample, processes } = await generateLoad({
    url: target.url,
    method: target.method,
    headers: target.headers,
    body: target.body,
    connections,
    durationS: duration,
  }, LOADGEN_PROCESSES);
  const sorted = sample.latenciesMs.sort();
  const cpu = cpuSpent(cpuBefore, serverCpu(target.pid));
  return {
    reqPerSec: sample.ok / sample.durationS,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    ok: sample.ok,
    errors: sample.errors,
    timeouts: sample.timeouts,
    non2xx: sample.non2xx,
    durationS: sample.durationS,
    statusCodes: sample.statusCodes,
    loadAvg1: loadavg()[0]!,
    loopCpuUsPerReq: cpu.loop / sample.ok,
    totalCpuUsPerReq: cpu.total / sample.ok,
    serverProcesses: cpu.processes,
    loadgenProcesses: processes,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Summary {
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  loopCpuUsPerReq: number;
  totalCpuUsPerReq: number;
  rounds: Run[];
}

function summarize(runs: Run[]): Summary {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p90Ms: median(runs.map((r) => r.p90Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    loopCpuUsPerReq: median(runs.map((r) => r.loopCpuUsPerReq)),
    totalCpuUsPerReq: median(runs.map((r) => r.totalCpuUsPerReq)),
    rounds: runs,
  };
}

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const describe = (r: Run) =>
  `${fmt(r.reqPerSec, 0)} req/s, p50 ${fmt(r.p50Ms, 3)} p90 ${fmt(r.p90Ms, 3)} p99 ${fmt(r.p99Ms, 3)} ms, ` +
  `${r.errors} errors, ${r.non2xx} non-2xx, server CPU ${fmt(r.loopCpuUsPerReq, 1)} / ${fmt(r.totalCpuUsPerReq, 1)} µs/req, ` +
  `load average ${fmt(r.loadAvg1, 2)}`;

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const kinds: Kind[] = ['json', 'binary'];
  const servers: Server[] = ['inferd', 'naive'];
  const started = new Date();
  const loadBefore = loadavg()[0]!;
  console.error(`bench:http — DURATION ${DURATION} s, ROUNDS ${ROUNDS}, WARMUP ${WARMUP} s, connections ${CONNECTIONS.join(', ')}, ` +
    `inferd workers ${WORKERS ?? 'default'}, inferd processes ${INFERD_PROCESSES ?? 'default'}, ` +
    `load generator processes ${LOADGEN_PROCESSES}, ${cpus().length} CPUs, load average ${fmt(loadBefore, 2)}`);

  // inferd and the naive server.
  const [inferdPort, naivePort] = [await freePort(), await freePort()];
  const inferd = startChild('inferd', [
    'dist/src/cli/main.js', 'serve', '--model-repository', 'models', '--port', String(inferdPort), '--log-level', 'silent',
    ...(WORKERS !== undefined ? ['--workers', WORKERS] : []),
    ...(INFERD_PROCESSES !== undefined ? ['--processes', INFERD_PROCESSES] : []),
  ]);
  const naive = startChild('naive', ['dist/bench/naive-server.js', '--port', String(naivePort)]);
  await Promise.all([
    waitUntilAnswering(inferd, `http://127.0.0.1:${inferdPort}/v2/health/ready`),
    waitUntilAnswering(naive, `http://127.0.0.1:${naivePort}/health`),
  ]);
  const before = await verifyInference(inferdPort, naivePort);
  console.error(`answers checked: argmax ${EXPECTED_DIGIT} on inferd json/binary and naive json/binary, within ${TOLERANCE} of each other`);

  const targets = (kind: Kind): Record<Server, Target> => ({
    inferd: inferdTarget(inferdPort, kind, inferd.proc.pid), naive: naiveTarget(naivePort, kind, naive.proc.pid),
  });
  if (WARMUP > 0) {
    for (const kind of kinds) for (const server of servers) await load(targets(kind)[server], 16, WARMUP);
  }

  const runs: Record<string, Run[]> = {};
  for (const connections of CONNECTIONS) {
    for (const kind of kinds) {
      for (let round = 0; round < ROUNDS; ++round) {
        for (const server of servers) {
          const run = await load(targets(kind)[server], connections, DURATION);
          (runs[`${kind}/${connections}/${server}`] ??= []).push(run);
          console.error(`[${kind} ${connections} conns, round ${round + 1}/${ROUNDS}] ${server.padEnd(6)} ${describe(run)}`);
        }
      }
    }
  }
  const after = await verifyInference(inferdPort, naivePort);
  console.error('answers checked again after the load: still correct');
  await stopChild(inferd);
  await stopChild(naive);

  // The ceilings, once per connection count.
  const ceilingPort = await freePort();
  const ceiling = startChild('ceilings', ['dist/bench/ceiling-servers.js', '--port', String(ceilingPort)]);
  await waitUntilAnswering(ceiling, `http://127.0.0.1:${ceilingPort}/`);
  await verifyCeilings(ceilingPort);
  const ceilingTargets: Target[] = [
    { name: 'hello-world', pid: ceiling.proc.pid, url: `http://127.0.0.1:${ceilingPort}/`, method: 'GET', headers: {} },
    echoTarget(ceilingPort, ceiling.proc.pid),
  ];
  if (WARMUP > 0) for (const target of ceilingTargets) await load(target, 16, WARMUP);
  const ceilings: { name: string; connections: number; run: Run }[] = [];
  for (const connections of CONNECTIONS) {
    for (const target of ceilingTargets) {
      const run = await load(target, connections, DURATION);
      ceilings.push({ name: target.name, connections, run });
      console.error(`[ceiling ${connections} conns] ${target.name.padEnd(11)} ${describe(run)}`);
    }
  }
  await stopChild(ceiling);

  // Report.
  const results: ({ kind: Kind; connections: number; server: Server } & Summary)[] = [];
  const lines: string[] = [];
  lines.push(`### inferd vs naive (Fastify + onnxruntime-node), digits MLP, one image per request`);
  lines.push('');
  lines.push(`${DURATION} s per run, medians of ${ROUNDS} alternating rounds; errors and non-2xx summed over rounds; ` +
    `inferd workers: ${WORKERS ?? 'default'}; inferd processes: ${INFERD_PROCESSES ?? 'default'}; ` +
    `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ` +
    `autocannon on the same machine in ${LOADGEN_PROCESSES === 1 ? 'this process' : `up to ${LOADGEN_PROCESSES} processes (one per connection at most)`}, ` +
    `pipelining 1; 1-min load average ${fmt(loadBefore, 2)} before, ` +
    `${fmt(Math.max(...Object.values(runs).flat().map((r) => r.loadAvg1), ...ceilings.map((c) => c.run.loadAvg1)), 2)} at most during the runs`);
  lines.push('');
  lines.push('| body | conns | server | req/s | p50 ms | p90 ms | p99 ms | errors | non-2xx | server CPU µs/req (loop / all) | req/s vs naive |');
  lines.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const kind of kinds) {
    for (const connections of CONNECTIONS) {
      const naiveSummary = summarize(runs[`${kind}/${connections}/naive`]!);
      for (const server of servers) {
        const s = server === 'naive' ? naiveSummary : summarize(runs[`${kind}/${connections}/${server}`]!);
        results.push({ kind, connections, server, ...s });
        lines.push(`| ${kind} | ${connections} | ${server} | ${fmt(s.reqPerSec, 0)} | ${fmt(s.p50Ms, 3)} | ${fmt(s.p90Ms, 3)} | ` +
          `${fmt(s.p99Ms, 3)} | ${s.errors} | ${s.non2xx} | ${fmt(s.loopCpuUsPerReq, 1)} / ${fmt(s.totalCpuUsPerReq, 1)} | ` +
          `${fmt(s.reqPerSec / naiveSummary.reqPerSec, 2)}× |`);
      }
    }
  }
  const inferdProcessesSeen = Math.max(...Object.entries(runs).filter(([key]) => key.endsWith('/inferd')).flatMap(([, r]) => r.map((run) => run.serverProcesses)));
  if (inferdProcessesSeen > 1) {
    lines.push('');
    lines.push(`inferd ran as ${inferdProcessesSeen} processes: its "loop" CPU is the sum of the worker processes' main threads ` +
      '(the primary that hands them connections is left out), "all" every thread of the primary and its workers.');
  }
  lines.push('');
  lines.push(`### Ceilings: Fastify hello world (GET /) and binary echo (POST /echo, ${rawBody.length} bytes), once`);
  lines.push('');
  lines.push('| ceiling | conns | req/s | p50 ms | p90 ms | p99 ms | errors | non-2xx | server CPU µs/req (loop / all) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { name, connections, run } of ceilings) {
    lines.push(`| ${name} | ${connections} | ${fmt(run.reqPerSec, 0)} | ${fmt(run.p50Ms, 3)} | ${fmt(run.p90Ms, 3)} | ` +
      `${fmt(run.p99Ms, 3)} | ${run.errors} | ${run.non2xx} | ${fmt(run.loopCpuUsPerReq, 1)} / ${fmt(run.totalCpuUsPerReq, 1)} |`);
  }

  // The target: binary at 64 and 256 connections, inferd ≥ 3× naive req/s with a lower p99; JSON, at least
  // naive's req/s (checked at every connection count measured). A configuration with errors or non-2xx fails.
  const find = (kind: Kind, connections: number, server: Server) =>
    results.find((r) => r.kind === kind && r.connections === connections && r.server === server);
  const checks: { check: string; met: boolean; detail: string }[] = [];
  for (const connections of [64, 256]) {
    const i = find('binary', connections, 'inferd');
    const n = find('binary', connections, 'naive');
    if (i === undefined || n === undefined) continue;
    const clean = i.errors + i.non2xx === 0;
    checks.push({
      check: `binary, ${connections} conns: inferd ≥ 3× naive req/s and lower p99`,
      met: clean && i.reqPerSec >= 3 * n.reqPerSec && i.p99Ms < n.p99Ms,
      detail: `${fmt(i.reqPerSec / n.reqPerSec, 2)}× req/s, p99 ${fmt(i.p99Ms, 3)} vs ${fmt(n.p99Ms, 3)} ms${clean ? '' : ', inferd had errors/non-2xx'}`,
    });
  }
  for (const connections of CONNECTIONS) {
    const i = find('json', connections, 'inferd');
    const n = find('json', connections, 'naive');
    if (i === undefined || n === undefined) continue;
    const clean = i.errors + i.non2xx === 0;
    checks.push({
      check: `json, ${connections} conns: inferd ≥ naive req/s`,
      met: clean && i.reqPerSec >= n.reqPerSec,
      detail: `${fmt(i.reqPerSec / n.reqPerSec, 2)}× req/s${clean ? '' : ', inferd had errors/non-2xx'}`,
    });
  }
  lines.push('');
  lines.push('### Target');
  lines.push('');
  for (const c of checks) lines.push(`- ${c.met ? 'met' : 'NOT met'}: ${c.check} (${c.detail})`);
  console.log(lines.join('\n'));

  writeFileSync(path.join(outDir, 'http-throughput.json'), JSON.stringify({
    started: started.toISOString(),
    finished: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform, loadAvg1Before: loadBefore },
    settings: {
      durationS: DURATION, rounds: ROUNDS, warmupS: WARMUP, connections: CONNECTIONS, pipelining: 1,
      inferdWorkers: WORKERS ?? 'default', inferdProcesses: INFERD_PROCESSES ?? 'default', loadgenProcesses: LOADGEN_PROCESSES,
    },
    bodies: { jsonBytes: jsonBody.length, tritonBinaryBytes: tritonBody.length, tritonHeaderBytes: tritonHeader.length, rawBytes: rawBody.length },
    verification: { expectedDigit: EXPECTED_DIGIT, tolerance: TOLERANCE, before, after },
    results,
    ceilings: ceilings.map(({ name, connections, run }) => ({ name, connections, ...run })),
    target: checks,
  }, null, 2) + '\n');
  console.error(`wrote ${path.relative(root, path.join(outDir, 'http-throughput.json'))}`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
