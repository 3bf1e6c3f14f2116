// node dist/bench/oip-json-decode.js — decoding a JSON inference request with a 784-float input:
// JSON.parse and a flatten into a Float32Array, against the request decoder's own parser, which reads
// the `data` numbers straight from the body's bytes into the Float32Array.
//
//   JSON.parse + Float32Array.from   the least a server must do with JSON.parse, no checks at all
//   JSON.parse + checked flatten     JSON.parse, then the decoder's element checks on the JS array
//                                    (what decodeInferRequest does when its parser steps aside)
//   decodeInferRequest               the whole decode: parse, every check, typed array out
//
// Bodies: numpy-style (float32 values printed as doubles, 17 digits: `tensor.tolist()`), short
// decimals (pixels / 255 to 4 places), and a batch of 32 rows nested as [32, 784].
// Prints µs per request: the best and the median of ROUNDS rounds of ITERATIONS decodes each (on a
// shared machine the best round is the least disturbed one), methods interleaved round by round.
import { decodeInferRequest } from '../src/http/oip-request.js';
import { decodeJsonTensorData } from '../src/http/oip-tensor-data.js';
import { randomFloats, seededRandom } from '../test/helpers/random.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 30);
const ITERATIONS = Number(process.env['ITERATIONS'] ?? 300);

interface Body {
  label: string;
  body: Buffer;
  shape: number[];
}

function requestBody(data: string, shape: number[]): Buffer {
  return Buffer.from(`{"id":"42","inputs":[{"name":"image","shape":[${shape.join(',')}],"datatype":"FP32","data":${data}}],` +
    '"outputs":[{"name":"probabilities"}]}');
}

function bodies(): Body[] {
  const numpy = Array.from(randomFloats(784, 1).map(Math.abs), String).join(',');
  const next = seededRandom(2);
  // MNIST-like: most pixels 0, the rest k / 255 to four decimals.
  const pixels = Array.from({ length: 784 }, () => (next() < 0.8 ? '0' : (Math.floor(next() * 256) / 255).toFixed(4))).join(',');
  const rows = Array.from({ length: 32 }, (_, r) => `[${Array.from(randomFloats(784, 10 + r).map(Math.abs), String).join(',')}]`);
  return [
    { label: '[1, 784] numpy-style', body: requestBody(`[${numpy}]`, [1, 784]), shape: [1, 784] },
    { label: '[1, 784] short decimals', body: requestBody(`[${pixels}]`, [1, 784]), shape: [1, 784] },
    { label: '[32, 784] numpy-style', body: requestBody(`[${rows.join(',')}]`, [32, 784]), shape: [32, 784] },
  ];
}

interface Parsed {
  inputs: { data: unknown }[];
}

const methods: Record<string, (body: Buffer, shape: number[]) => unknown> = {
  'JSON.parse + Float32Array.from': (body) => {
    const request = JSON.parse(body.toString('utf8')) as Parsed;
    const data = request.inputs[0]?.data as unknown[];
    return Float32Array.from((Array.isArray(data[0]) ? data.flat(Infinity) : data) as number[]);
  },
  'JSON.parse + checked flatten': (body, shape) => {
    const request = JSON.parse(body.toString('utf8')) as Parsed;
    return decodeJsonTensorData(request.inputs[0]?.data, shape, 'FP32', "input 'image'");
  },
  decodeInferRequest: (body) => decodeInferRequest(body, undefined),
};

function microsecondsPerCall(run: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let k = 0; k < ITERATIONS; k++) run();
  return Number(process.hrtime.bigint() - start) / 1000 / ITERATIONS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function main(): void {
  console.log(`node ${process.version}, ${ROUNDS} rounds × ${ITERATIONS} decodes; µs per request, best and median round`);
  for (const { label, body, shape } of bodies()) {
    // Same values from every method, or the comparison means nothing.
    const reference = methods['JSON.parse + Float32Array.from']?.(body, shape) as Float32Array;
    const ours = (decodeInferRequest(body, undefined).inputs[0]?.data ?? new Float32Array()) as Float32Array;
    for (let k = 0; k < 200; k++) for (const method of Object.values(methods)) method(body, shape);  // warm up
    if (Buffer.compare(Buffer.from(reference.buffer), Buffer.from(ours.buffer)) !== 0) throw new Error(`${label}: results differ`);

    const times: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      // Interleaved, so that a slow moment of the machine hurts every method alike.
      for (const [name, method] of Object.entries(methods)) (times[name] ??= []).push(microsecondsPerCall(() => method(body, shape)));
    }
    console.log(`\n${label} (${body.length} bytes)`);
    const baseline = Math.min(...(times['JSON.parse + Float32Array.from'] ?? []));
    for (const [name, samples] of Object.entries(times)) {
      const best = Math.min(...samples);
      const speedup = `${(baseline / best).toFixed(2)}×`;
      console.log(`  ${name.padEnd(32)} ${best.toFixed(1).padStart(8)} µs best ${median(samples).toFixed(1).padStart(8)} µs median  ${speedup}`);
    }
  }
}

main();
