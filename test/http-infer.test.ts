// Inference over HTTP: JSON and binary tensor bodies give identical results, outputs can be asked
// for by name and in binary, the request id is echoed, Server-Timing reports queue and compute.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type TestServer, argmax, binaryBody, digitsModel, root, startServer } from './helpers/http-server.js';

const example = JSON.parse(readFileSync(path.join(root, 'examples', 'digit.json'), 'utf8')) as {
  id: string; inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
};
const pixels = Float32Array.from(example.inputs[0]!.data);

let server: TestServer;
before(async () => {
  server = await startServer([{ file: digitsModel, options: { name: 'digits', maxBatchSize: 16, priorityLevels: 3 } }]);
});
after(async () => {
  await server.close();
});

function binaryRequest(outputBinary: boolean) {
  return binaryBody({
    id: 'b1',
    inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: 784 * 4 } }],
    outputs: [{ name: 'probabilities', parameters: { binary_data: outputBinary } }],
  }, [new Uint8Array(pixels.buffer)]);
}

// The probabilities of a binary response: the JSON header, then the raw floats.
function binaryOutput(body: Buffer, headerLength: number): { header: { outputs: { name: string; parameters?: { binary_data_size?: number } }[] }; values: Float32Array } {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  const bytes = body.subarray(headerLength);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return { header, values: new Float32Array(copy.buffer) };
}

test('the README example classifies its digit (a 7), echoing the id', async () => {
  const res = await server.app.inject({ method: 'POST', url: '/v2/models/digits/infer', payload: JSON.stringify(example),
    headers: { 'content-type': 'application/json' } });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.id, 'digit-7');
  assert.equal(body.model_name, 'digits');
  assert.equal(body.outputs[0].name, 'probabilities');
  assert.equal(body.outputs[0].datatype, 'FP32');
  assert.deepEqual(body.outputs[0].shape, [1, 10]);
  assert.equal(argmax(body.outputs[0].data), 7);
  assert.match(String(res.headers['server-timing']), /queue;dur=[\d.]+, compute;dur=[\d.]+/);
});

test('JSON and binary inputs give identical outputs, in JSON and in binary', async () => {
  const json = await server.app.inject({ method: 'POST', url: '/v2/models/digits/versions/1/infer', payload: JSON.stringify(example) });
  const fromJson = Float32Array.from(json.json().outputs[0].data as number[]);

  const asJson = binaryRequest(false);
  const res1 = await server.app.inject({ method: 'POST', url: '/v2/models/digits/infer', payload: asJson.body,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(asJson.headerLength) } });
  assert.equal(res1.statusCode, 200, res1.body);
  assert.deepEqual(Float32Array.from(res1.json().outputs[0].data as number[]), fromJson);

  const asBinary = binaryRequest(true);
  const res2 = await server.app.inject({ method: 'POST', url: '/v2/models/digits/infer', payload: asBinary.body,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(asBinary.headerLength) } });
  assert.equal(res2.statusCode, 200);
  const headerLength = Number(res2.headers['inference-header-content-length']);
  const { header, values } = binaryOutput(res2.rawPayload, headerLength);
  assert.equal(header.outputs[0]!.parameters?.binary_data_size, 40);
  assert.deepEqual(values, fromJson);
});

test('priority and timeout come as request parameters', async () => {
  const body = { ...example, parameters: { priority: 1, timeout: 5_000_000 } };
  const res = await server.app.inject({ method: 'POST', url: '/v2/models/digits/infer', payload: JSON.stringify(body) });
  assert.equal(res.statusCode, 200, res.body);
  const bad = await server.app.inject({ method: 'POST', url: '/v2/models/digits/infer',
    payload: JSON.stringify({ ...example, parameters: { priority: 9 } }) });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error, /priority/);
});

test('a batch of several rows in one request', async () => {
  const rows = 5;
  const data = Array.from({ length: rows }, () => example.inputs[0]!.data).flat();
  const res = await server.app.inject({ method: 'POST', url: '/v2/models/digits/infer',
    payload: JSON.stringify({ inputs: [{ name: 'image', shape: [rows, 784], datatype: 'FP32', data }] }) });
  assert.equal(res.statusCode, 200, res.body);
  const out = res.json().outputs[0];
  assert.deepEqual(out.shape, [rows, 10]);
  for (let r = 0; r < rows; ++r) assert.equal(argmax(out.data.slice(r * 10, r * 10 + 10)), 7);
});
