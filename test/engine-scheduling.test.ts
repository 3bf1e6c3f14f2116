// Scheduling with real workers: priorities overtake, deadlines expire on time without being
// computed, cancelled requests are dropped before compute, a full queue refuses at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine, type LoadedModel, ServingError } from '../src/index.js';
import { affineModelFile, matmulModelFile } from './helpers/engine-models.js';

const SIZE = 2048;
const SLOW_ROWS = 2048;

let engine: Engine;
let slow: LoadedModel;
before(async () => {
  // One worker, one batch in flight: whatever is submitted while a slow batch computes must queue.
  engine = await Engine.create({ workers: 1 });
  slow = await engine.load(matmulModelFile(SIZE), { name: 'slow', maxBatchSize: SLOW_ROWS, instances: 1, queueCapacity: 64 });
});
after(async () => {
  await engine.close();
});

// Starts a batch that keeps the only worker busy for a while (a hundred ms or more) and returns once
// it has been dispatched — before anything else is queued, since earlier deadlines would go first.
async function occupyWorker(): Promise<{ done: Promise<unknown> }> {
  const done = slow.infer({ x: { dtype: 'float32', dims: [SLOW_ROWS, SIZE], data: new Float32Array(SLOW_ROWS * SIZE) } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(engine.stats('slow').inFlight, 1);
  return { done };
}

const oneRow = () => ({ x: { dtype: 'float32' as const, dims: [1, SIZE], data: new Float32Array(SIZE) } });

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

test('a priority-1 request overtakes a full queue of lower-priority requests', async () => {
  const model = await engine.load(affineModelFile(), { name: 'prio', maxBatchSize: 1, instances: 1, priorityLevels: 3 });
  const order: string[] = [];
  const busy = (await occupyWorker()).done;
  const low = Array.from({ length: 20 }, (_, i) =>
    model.infer(new Float32Array(4).fill(i), { priority: 3 }).then(() => order.push(`low${i}`)));
  const urgent = model.infer(new Float32Array(4), { priority: 1 }).then(() => order.push('urgent'));
  await Promise.all([busy, ...low, urgent]);
  // The model's own in-flight limit is 1: at most one low request was dispatched before 'urgent'.
  assert.ok(order.indexOf('urgent') <= 1, `completion order: ${order.join(' ')}`);
  await model.unload();
});

test('a request whose deadline passes in the queue fails at its deadline and is never computed', async () => {
  const busy = (await occupyWorker()).done;
  const runsBefore = engine.nativeRuns;
  const started = performance.now();
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => slow.infer(oneRow(), { timeoutMs: 20 })));
  const failedAfter = performance.now() - started;
  await busy;
  for (const o of outcomes) {
    assert.equal(o.status, 'rejected');
    assert.equal(codeOf((o as PromiseRejectedResult).reason), 'INFERD_ERR_TIMEOUT');
  }
  assert.ok(failedAfter < 20 + 60, `timed out after ${failedAfter.toFixed(1)} ms, deadline 20 ms`);
  // Only the occupying batch ran.
  assert.equal(engine.nativeRuns - runsBefore, 1);
});

test('a request cancelled while queued is dropped before compute', async () => {
  const busy = (await occupyWorker()).done;
  const runsBefore = engine.nativeRuns;
  const controller = new AbortController();
  const cancelled = slow.infer(oneRow(), { signal: controller.signal });
  setTimeout(() => controller.abort(), 5);
  await assert.rejects(cancelled, (e: unknown) => codeOf(e) === 'INFERD_ERR_CANCELLED');
  await busy;
  assert.equal(engine.nativeRuns - runsBefore, 1);
});

test('a full queue refuses new requests at once with a retry-after estimate; accepted + rejected = sent', async () => {
  let busyDone = Infinity;
  const busy = (await occupyWorker()).done.then(() => { busyDone = performance.now(); });
  const sent = 200;
  const outcomes = await Promise.allSettled(Array.from({ length: sent }, () => slow.infer(oneRow()).then(
    () => 'ok',
    (error: unknown) => {
      assert.ok(error instanceof ServingError && error.code === 'INFERD_ERR_OVERLOADED', String(error));
      assert.ok((error.retryAfterMs ?? 0) > 0, 'retryAfterMs > 0');
      // Refused at once, not after the queue moved.
      assert.ok(performance.now() < busyDone, 'refused while the worker was still busy');
      return 'refused';
    })));
  await busy;
  const accepted = outcomes.filter((o) => o.status === 'fulfilled' && o.value === 'ok').length;
  const refused = outcomes.filter((o) => o.status === 'fulfilled' && o.value === 'refused').length;
  assert.equal(accepted + refused, sent, `every request either completes or is refused: ${JSON.stringify(outcomes.filter((o) => o.status === 'rejected'))}`);
  assert.ok(refused > 0 && accepted <= 64 + 1, `accepted ${accepted}, refused ${refused}`);
});
