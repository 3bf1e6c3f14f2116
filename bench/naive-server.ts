// The "naive" baseline for `npm run bench:http`: what one would write without inferd. Fastify plus
// onnxruntime-node (default session options), every request run alone with `await session.run(...)`
// (no batching, no worker threads).
//
//   POST /infer/json    an Open Inference Protocol v2 JSON request body (as inferd takes it), answered
//                       with an OIP v2 JSON response (every model output, FP32)
//   POST /infer/binary  the raw little-endian float32 bytes of one input row (application/octet-stream),
//                       fed as [1, n] to the model's first input; answered with the raw float32 bytes
//                       of its first output
//   GET  /health        200 once the model is loaded
//
// node dist/bench/naive-server.js [--port 8001] [--host 127.0.0.1] [--model models/digits/model.onnx]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface OipInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

interface OipRequest {
  id?: string;
  inputs: OipInput[];
}

class BadRequest extends Error {
  readonly statusCode = 400;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8001' },
    host: { type: 'string', default: '127.0.0.1' },
    model: { type: 'string', default: path.join(root, 'models', 'digits', 'model.onnx') },
  },
  strict: true,
});

const session = await ort.InferenceSession.create(path.resolve(values.model));
const firstInput = session.inputNames[0]!;
const firstOutput = session.outputNames[0]!;

const app = Fastify({ logger: false });
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

app.get('/health', async () => ({ ready: true }));

app.post<{ Body: OipRequest }>('/infer/json', async (request) => {
  const body = request.body;
  if (body === null || typeof body !== 'object' || !Array.isArray(body.inputs)) throw new BadRequest('expected an OIP v2 request with inputs');
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of body.inputs) {
    if (input.datatype !== 'FP32') throw new BadRequest(`input '${input.name}': only FP32 is supported, got ${input.datatype}`);
    const data = Float32Array.from((input.data as unknown[]).flat(Infinity) as number[]);
    feeds[input.name] = new ort.Tensor('float32', data, input.shape);
  }
  const results = await session.run(feeds);
  return {
    model_name: 'digits',
    model_version: '1',
    ...(body.id !== undefined && { id: body.id }),
    outputs: Object.entries(results).map(([name, tensor]) => ({
      name,
      datatype: 'FP32',
      shape: tensor.dims,
      data: Array.from(tensor.data as Float32Array),
    })),
  };
});

app.post('/infer/binary', async (request, reply) => {
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0 || body.length % 4 !== 0) throw new BadRequest('expected raw float32 bytes');
  // Copy into an aligned Float32Array: a Buffer's byteOffset need not be a multiple of 4.
  const data = new Float32Array(body.length / 4);
  new Uint8Array(data.buffer).set(body);
  const results = await session.run({ [firstInput]: new ort.Tensor('float32', data, [1, data.length]) });
  const out = results[firstOutput]!.data as Float32Array;
  return reply.header('content-type', 'application/octet-stream').send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
});

await app.listen({ host: values.host, port: Number(values.port) });

const stop = () => {
  void app.close().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
