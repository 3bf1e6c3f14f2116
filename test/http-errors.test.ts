// Bad requests get a 4xx whose {"error"} names the problem; a full queue gets 503 with Retry-After;
// a request that times out in the queue gets 504; oversize bodies 413; never a stack trace.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, binaryBody, digitsModel, startServer } from './helpers/http-server.js';
import { matmulModelFile } from './helpers/engine-models.js';

let server: TestServer;
before(async () => {
  server = await startServer([
    { file: digitsModel, options: { name: 'digits', maxBatchSize: 16 } },
    { file: matmulModelFile(2048), options: { name: 'slow', maxBatchSize: 2048, instances: 1, queueCapacity: 4 } },
  ], { bodyLimit: 32 * 1024 * 1024 });
});
after(async () => {
  await server.close();
});

const post = (url: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
  server.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

const image = (overrides: object = {}) =>
  JSON.stringify({ inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0), ...overrides }] });

test('bad requests are 400s that say what is wrong', async () => {
  const cases: [string, RegExp][] = [
    ['{"inputs": [', /not valid JSON/],
    ['{}', /inputs/],
    [image({ datatype: 'FP64', data: new Array(784).fill(0) }), /float32|FP32|FP64/],
    [image({ datatype: 'FP23' }), /FP23/],
    [image({ shape: [1, 783], data: new Array(783).fill(0) }), /dimension 1 must be 784, got 783/],
    [image({ shape: [1, 784], data: new Array(783).fill(0) }), /784.*783|783.*784/],
    [image({ name: 'picture' }), /unknown input 'picture'|missing input 'image'/],
    [image({ data: [...new Array(783).fill(0), 'x'] }), /'x'|not a number/],
  ];
  for (const [payload, message] of cases) {
    const res = await post('/v2/models/digits/infer', payload);
    assert.equal(res.statusCode, 400, `${payload.slice(0, 60)} → ${res.statusCode} ${res.body}`);
    const body = res.json();
    assert.match(body.error, message, payload.slice(0, 80));
    assert.equal(Object.keys(body).join(), 'error');
    assert.doesNotMatch(body.error, /\n\s+at /, 'no stack trace');
  }
});

test('an unknown output is a 400 naming it', async () => {
  const body = JSON.parse(image()) as object;
  const res = await post('/v2/models/digits/infer', JSON.stringify({ ...body, outputs: [{ name: 'logits' }] }));
  assert.equal(res.statusCode, 400);
  assert.match(res.json().error, /unknown output 'logits'/);
});

test('a body over the limit is a 413', async () => {
  const res = await post('/v2/models/digits/infer', Buffer.alloc(33 * 1024 * 1024, 32));
  assert.equal(res.statusCode, 413);
  assert.ok(res.json().error);
});

test('a full queue answers 503 with Retry-After at once; a queue timeout is a 504', async () => {
  // Binary bodies: n rows of 2048 zeros after the JSON header.
  const rows = (n: number, parameters: object = {}) => {
    const { body, headerLength } = binaryBody({ parameters, inputs: [{ name: 'x', shape: [n, 2048], datatype: 'FP32',
      parameters: { binary_data_size: n * 2048 * 4 } }] }, [new Uint8Array(n * 2048 * 4)]);
    return (url: string) => post(url, body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) });
  };
  const big = rows(2048);
  const busy = [big('/v2/models/slow/infer')];
  await new Promise((r) => setTimeout(r, 50));
  const flood = await Promise.all(Array.from({ length: 12 }, () => rows(1)('/v2/models/slow/infer')));
  const refused = flood.filter((r) => r.statusCode === 503);
  assert.ok(refused.length > 0, `statuses: ${flood.map((r) => r.statusCode).join(',')}`);
  for (const r of refused) {
    assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After in seconds');
    assert.match(r.json().error, /queued|capacity|retry/i);
  }
  assert.ok(flood.every((r) => r.statusCode === 200 || r.statusCode === 503));
  await Promise.all(busy);

  const occupying = big('/v2/models/slow/infer');
  await new Promise((r) => setTimeout(r, 50));
  const late = await rows(1, { timeout: 1000 })('/v2/models/slow/infer');
  assert.equal(late.statusCode, 504, late.body);
  await occupying;
});
