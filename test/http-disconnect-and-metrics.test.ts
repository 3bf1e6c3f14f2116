// A client that disconnects has its queued request dropped before compute; /metrics moves with the
// traffic (requests by status, latencies, batch sizes, rejections, queue depth, process metrics).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type TestServer, binaryBody, digitsModel, startServer, until } from './helpers/http-server.js';
import { matmulModelFile } from './helpers/engine-models.js';

let server: TestServer;
let address: URL;
before(async () => {
  server = await startServer([
    { file: digitsModel, options: { name: 'digits', maxBatchSize: 16 } },
    { file: matmulModelFile(2048), options: { name: 'slow', maxBatchSize: 2048, instances: 1 } },
  ], { bodyLimit: 32 * 1024 * 1024 });
  address = new URL(await server.app.listen({ host: '127.0.0.1', port: 0 }));
});
after(async () => {
  await server.close();
});

function send(model: string, rows: number, width: number): { done: Promise<number>; request: http.ClientRequest } {
  const { body, headerLength } = binaryBody({ inputs: [{ name: model === 'digits' ? 'image' : 'x', shape: [rows, width], datatype: 'FP32',
    parameters: { binary_data_size: rows * width * 4 } }] }, [new Uint8Array(rows * width * 4)]);
  const request = http.request({ host: address.hostname, port: address.port, method: 'POST', path: `/v2/models/${model}/infer`,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength, 'content-length': body.length } });
  const done = new Promise<number>((resolve) => {
    request.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    request.on('error', () => resolve(-1));
  });
  request.end(body);
  return { done, request };
}

test('a client that disconnects while queued is dropped before compute', async () => {
  const runsBefore = server.engine.nativeRuns;
  const busy = send('slow', 2048, 2048);
  await until(() => server.engine.stats('slow').inFlight === 1, 'the first request computes');
  const leaving = send('slow', 1, 2048);
  await until(() => server.engine.stats('slow').queueDepth === 1, 'the second request is queued');
  leaving.request.destroy();
  await leaving.done;
  await until(() => server.engine.stats('slow').queueDepth === 0, 'the second request is dropped once its client has gone');
  assert.equal(server.engine.stats('slow').inFlight, 1, 'while the first still computes');
  assert.equal(await busy.done, 200);
  assert.equal(server.engine.nativeRuns - runsBefore, 1, 'only the first request was computed');
  const metrics = await (await fetch(new URL('/metrics', address))).text();
  assert.match(metrics, /inferd_rejections_total\{model="slow",reason="cancelled"\} 1/);
});

test('/metrics moves as expected with traffic', async () => {
  const scrape = async () => (await fetch(new URL('/metrics', address))).text();
  const value = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  const before = await scrape();
  const okBefore = value(before, /inferd_requests_total\{model="digits",status="ok"\} (\d+)/);
  const statuses = await Promise.all(Array.from({ length: 20 }, () => send('digits', 1, 784).done));
  assert.ok(statuses.every((s) => s === 200));
  const after = await scrape();
  assert.equal(value(after, /inferd_requests_total\{model="digits",status="ok"\} (\d+)/), okBefore + 20);
  assert.ok(value(after, /inferd_request_duration_seconds_count\{model="digits"\} (\d+)/) >= 20);
  assert.ok(value(after, /inferd_compute_duration_seconds_count\{model="digits"\} (\d+)/) >= 20);
  assert.ok(value(after, /inferd_batch_size_count\{model="digits"\} (\d+)/) >= 1);
  assert.match(after, /inferd_batch_fill_ratio_bucket/);
  assert.match(after, /inferd_queue_depth\{model="digits"\} 0/);
  assert.match(after, /inferd_inflight_batches\{model="digits"\} 0/);
  assert.match(after, /inferd_worker_busy_ratio \d/);
  assert.match(after, /nodejs_eventloop_lag_seconds/);
  assert.match(after, /process_resident_memory_bytes/);
});
