// Load from one or several processes, as one sample. A single autocannon thread tops out near 50k
// req/s, below what a many-core server answers, so the load can be split over K child processes
// (bench/load-generator.ts), each with its share of the connections, and their samples merged: the
// caller computes req/s and percentiles over the union exactly as it does for one process.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type LoadSample, type LoadSpec, runAutocannon } from './autocannon-load.js';
import type { FromGenerator, ToGenerator } from './load-generator.js';

const generatorScript = fileURLToPath(new URL('./load-generator.js', import.meta.url));

// connections split as evenly as possible: 10 over 3 is 4, 3, 3.
export function splitConnections(connections: number, processes: number): number[] {
  const base = Math.floor(connections / processes);
  return Array.from({ length: processes }, (_, i) => base + (i < connections % processes ? 1 : 0));
}

// Counts summed, latencies concatenated. The duration is the longest generator's: they start on one
// signal, so that is the span the union of their answers was collected over.
export function mergeSamples(samples: LoadSample[]): LoadSample {
  const latenciesMs = new Float64Array(samples.reduce((n, s) => n + s.latenciesMs.length, 0));
  let offset = 0;
  const statusCodes: Record<string, number> = {};
  for (const s of samples) {
    latenciesMs.set(s.latenciesMs, offset);
    offset += s.latenciesMs.length;
    for (const [code, n] of Object.entries(s.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  }
  const sum = (key: 'ok' | 'non2xx' | 'errors' | 'timeouts') => samples.reduce((n, s) => n + s[key], 0);
  return {
    ok: sum('ok'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    durationS: Math.max(...samples.map((s) => s.durationS)),
    statusCodes,
    latenciesMs,
  };
}

interface Generator {
  proc: ChildProcess;
  ready: Promise<void>;
  sample: Promise<LoadSample>;
}

function startGenerator(label: string): Generator {
  const proc = fork(generatorScript, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let onReady!: () => void;
  let onSample!: (sample: LoadSample) => void;
  let onFailure!: (error: Error) => void;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const sample = new Promise<LoadSample>((resolve, reject) => {
    onSample = resolve;
    onFailure = reject;
  });
  // A failure before readiness must end the wait for readiness too.
  const readyOrFailed = Promise.race([ready, sample.then(() => undefined)]);
  // Whoever awaits these first gets the failure; a generator that fails while others are still
  // being awaited must not become an unhandled rejection.
  sample.catch(() => undefined);
  readyOrFailed.catch(() => undefined);
  proc.on('message', (message: FromGenerator) => {
    if ('ready' in message) onReady();
    else if ('sample' in message) onSample(message.sample);
    else onFailure(new Error(`${label}: ${message.error}`));
  });
  proc.once('error', (error) => onFailure(new Error(`${label}: ${error.message}`)));
  // 'close', not 'exit': by then its stderr has been read, and it is the message that says why.
  proc.once('close', (code, signal) => {
    onFailure(new Error(`${label} exited (code ${code}, signal ${signal}) without a result${stderr === '' ? '' : `:\n${stderr}`}`));
  });
  return { proc, ready: readyOrFailed, sample };
}

// One run of `spec` from `processes` processes (never more than there are connections). With one,
// autocannon runs in this thread, as the benchmark always did. Any generator failing fails the run.
export async function generateLoad(spec: LoadSpec, processes: number): Promise<{ sample: LoadSample; processes: number }> {
  const count = Math.min(processes, spec.connections);
  if (count <= 1) return { sample: await runAutocannon(spec), processes: 1 };
  const shares = splitConnections(spec.connections, count);
  const generators = shares.map((_, i) => startGenerator(`load generator ${i + 1}/${count}`));
  try {
    await Promise.all(generators.map((g) => g.ready));
    generators.forEach((g, i) => g.proc.send({ run: { ...spec, connections: shares[i]! } } satisfies ToGenerator));
    return { sample: mergeSamples(await Promise.all(generators.map((g) => g.sample))), processes: count };
  } catch (error) {
    // The others' numbers would describe a different load than the one asked for: stop them.
    for (const g of generators) if (g.proc.exitCode === null && g.proc.signalCode === null) g.proc.kill('SIGKILL');
    throw error;
  }
}
