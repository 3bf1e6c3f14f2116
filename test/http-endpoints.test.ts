// Every Open Inference Protocol v2 endpoint answers as KServe and Triton clients expect, in process
// (Fastify inject) and over a real socket.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, digitsModel, startServer } from './helpers/http-server.js';

let server: TestServer;
before(async () => {
  server = await startServer([{ file: digitsModel, options: { name: 'digits', maxBatchSize: 16 } }]);
});
after(async () => {
  await server.close();
});

test('GET /v2 gives server metadata with the extensions it speaks', async () => {
  const res = await server.app.inject({ method: 'GET', url: '/v2' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.name, 'inferd');
  assert.ok(body.extensions.includes('binary_tensor_data'));
});

test('health: live and ready', async () => {
  assert.equal((await server.app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200);
  assert.equal((await server.app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 200);
});

test('model metadata, by name and by version, with OIP datatypes and -1 for dynamic dims', async () => {
  for (const url of ['/v2/models/digits', '/v2/models/digits/versions/1']) {
    const res = await server.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    const body = res.json();
    assert.equal(body.name, 'digits');
    assert.deepEqual(body.versions, ['1']);
    assert.deepEqual(body.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, 784] }]);
    assert.deepEqual(body.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }]);
  }
});

test('model readiness, by name and by version', async () => {
  for (const url of ['/v2/models/digits/ready', '/v2/models/digits/versions/1/ready']) {
    const res = await server.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
  }
});

test('an unknown model or version is a 404 naming it', async () => {
  const cases: [string, RegExp][] = [
    ['/v2/models/nope', /unknown model 'nope'/],
    ['/v2/models/digits/versions/7', /no version '7'/],
    ['/v2/models/nope/ready', /unknown model 'nope'/],
  ];
  for (const [url, message] of cases) {
    const res = await server.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.match(res.json().error, message);
  }
  const post = await server.app.inject({ method: 'POST', url: '/v2/models/nope/infer', payload: '{}' });
  assert.equal(post.statusCode, 404);
});

test('the endpoints answer over a real socket too', async () => {
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
  for (const path of ['/v2', '/v2/health/ready', '/v2/models/digits', '/metrics']) {
    const res = await fetch(`${address}${path}`);
    assert.equal(res.status, 200, path);
    await res.text();
  }
});
