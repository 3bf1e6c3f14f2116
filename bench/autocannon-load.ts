// One autocannon run in this thread: its counts and the response time of every 2xx answer.
// Shared by the benchmark's in-process load and by each load-generator child process, so the two
// collect exactly the same thing.
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

// What to load and for how long; plain data, so it can cross to a child process over IPC.
export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer | Uint8Array | undefined;
  connections: number;
  durationS: number;
}

export interface LoadSample {
  ok: number;          // 2xx answers
  non2xx: number;
  errors: number;      // connection errors
  timeouts: number;
  durationS: number;   // as autocannon measured it
  statusCodes: Record<string, number>;
  latenciesMs: Float64Array;  // one per 2xx answer, in arrival order
}

// autocannon (CommonJS, no bundled types): the part of its API used here.
interface AutocannonOptions {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  connections: number;
  pipelining: number;
  duration: number;
  timeout: number;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance extends EventEmitter {
  stop(): void;
}

type Autocannon = (opts: AutocannonOptions, cb: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// Closed loop, pipelining 1: each connection sends its next request when the previous answer arrives.
// Latencies come from the fractional-ms time autocannon emits per response; its own histogram
// truncates to whole milliseconds, useless below 1 ms.
export async function runAutocannon(spec: LoadSpec): Promise<LoadSample> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  // A body that crossed IPC arrives as a Uint8Array; autocannon wants a Buffer.
  const body = spec.body === undefined ? undefined
    : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon({
      url: spec.url,
      method: spec.method,
      headers: spec.headers,
      ...(body !== undefined && { body }),
      connections: spec.connections,
      pipelining: 1,
      duration: spec.durationS,
      timeout: 10,
    }, (error, res) => (error ? reject(error) : resolve(res)));
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTimeMs;
    });
  });
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count: n }]) => [code, n])),
    latenciesMs: latencies.subarray(0, count),
  };
}
