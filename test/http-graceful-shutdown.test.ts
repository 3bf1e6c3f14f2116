// `inferd serve` end to end, as a process: it starts on the bundled repository, answers, and on
// SIGTERM turns unready, refuses new requests, finishes the one in flight and exits 0. A bad model
// repository stops start-up with a message naming the file and the field.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { binaryBody, digitsModel, until } from './helpers/http-server.js';
import { serveProcess } from './helpers/serve-process.js';
import { matmulModelFile } from './helpers/engine-models.js';

test('SIGTERM: readiness turns false, new requests get 503, in-flight ones finish, exit 0', async () => {
  const repository = path.join(tmpdir(), `inferd-shutdown-${process.pid}`);
  mkdirSync(path.join(repository, 'slow'), { recursive: true });
  copyFileSync(matmulModelFile(2048), path.join(repository, 'slow', 'model.onnx'));
  writeFileSync(path.join(repository, 'slow', 'config.json'), JSON.stringify({ maxBatchSize: 4096, instances: 1 }));
  const server = serveProcess(['--model-repository', repository, '--workers', '1']);
  const address = await server.address;

  const rows = 4096;
  const { body, headerLength } = binaryBody({ inputs: [{ name: 'x', shape: [rows, 2048], datatype: 'FP32',
    parameters: { binary_data_size: rows * 2048 * 4 } }] }, [new Uint8Array(rows * 2048 * 4)]);
  const inFlight = fetch(`${address}/v2/models/slow/infer`, { method: 'POST', body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) } });
  await until(async () => /inferd_inflight_batches\{model="slow"\} 1/.test(await (await fetch(`${address}/metrics`)).text()),
    'the request is being computed');
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  const refused = await fetch(`${address}/v2/health/ready`).then((r) => r.status, () => 'connection refused');
  assert.ok(refused === 503 || refused === 'connection refused', `readiness during drain: ${refused}`);
  const response = await inFlight;
  assert.equal(response.status, 200, 'the in-flight request finishes');
  await response.arrayBuffer();
  assert.equal(await server.exit, 0, server.output());
});

test('a bad config.json stops start-up naming the file and the field', async () => {
  const repository = path.join(tmpdir(), `inferd-badconfig-${process.pid}`);
  mkdirSync(path.join(repository, 'digits'), { recursive: true });
  copyFileSync(digitsModel, path.join(repository, 'digits', 'model.onnx'));
  writeFileSync(path.join(repository, 'digits', 'config.json'), JSON.stringify({ maxBatchSize: 'lots' }));
  const server = serveProcess(['--model-repository', repository]);
  await assert.rejects(server.address);
  assert.notEqual(await server.exit, 0);
  assert.match(server.output(), /digits[/\\]config\.json: field 'maxBatchSize' must be a finite integer/);
});

test('npm start\'s repository serves the digit model on the port it is given', async () => {
  const server = serveProcess(['--log-level', 'info']);
  const address = await server.address;
  const res = await fetch(`${address}/v2/models/digits`);
  assert.equal(res.status, 200);
  await res.json();
  server.child.kill('SIGINT');
  assert.equal(await server.exit, 0);
});
