// The dynamic batcher groups concurrent requests into batches: no larger than maxBatchSize, at a
// preferred size when it can form one, after at most maxQueueDelayMs otherwise, only requests of one
// signature together, and never more than `instances` batches at once.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';

import { Scheduler, planBatch } from '../src/scheduler/dynamic-batcher.js';
import { RecordingExecutor, type TestRequest, makeRequest, nextTurn, sleep, testConfig } from './helpers/scheduler-harness.js';

function submitAll(scheduler: Scheduler<TestRequest>, requests: TestRequest[]): void {
  for (const request of requests) scheduler.submit(request);
}

describe('scheduler forms batches', () => {
  it('twenty concurrent single-row requests run in fewer batches of at most maxBatchSize', async () => {
    const executor = new RecordingExecutor(20);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 8, maxQueueDelayMs: 5 }), executor.execute);
    const requests = Array.from({ length: 20 }, () => makeRequest());
    submitAll(scheduler, requests);
    await scheduler.drain();

    assert.ok(executor.batches.length < 20, `${executor.batches.length} batches`);
    assert.ok(executor.batches.length >= 3);
    for (const { batch } of executor.batches) {
      assert.ok(batch.rows <= 8);
      assert.equal(batch.rows, batch.requests.reduce((sum, request) => sum + request.rows, 0));
    }
    assert.deepEqual([...executor.computedIds].sort((a, b) => a - b), requests.map((request) => request.id));
    for (const request of requests) assert.equal(request.error, undefined);
  });

  it('a burst submitted in one tick shares a batch even with maxQueueDelayMs 0', async () => {
    const executor = new RecordingExecutor(5);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 8, maxQueueDelayMs: 0 }), executor.execute);
    submitAll(scheduler, Array.from({ length: 5 }, () => makeRequest()));
    await scheduler.drain();
    assert.deepEqual(executor.batches.map(({ batch }) => batch.rows), [5]);
  });

  it('a full batch is dispatched at once, without waiting for the delay', async () => {
    const executor = new RecordingExecutor(5);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 4, maxQueueDelayMs: 10_000 }), executor.execute);
    const start = performance.now();
    submitAll(scheduler, Array.from({ length: 4 }, () => makeRequest()));
    await scheduler.drain();
    assert.equal(executor.batches.length, 1);
    assert.ok(performance.now() - start < 2000);
  });

  it('a preferred size is dispatched at once and takes only the requests up to it', async () => {
    const executor = new RecordingExecutor(20);
    const config = testConfig({ maxBatchSize: 16, preferredBatchSizes: [4, 8], maxQueueDelayMs: 10_000, instances: 2 });
    const scheduler = new Scheduler(config, executor.execute);
    const start = performance.now();
    submitAll(scheduler, Array.from({ length: 6 }, () => makeRequest()));
    await sleep(100);
    assert.deepEqual(executor.batches.map(({ batch }) => batch.rows), [4]);
    assert.equal(scheduler.queueDepth, 2);

    // The two left over and two more make another preferred batch of 4.
    submitAll(scheduler, [makeRequest(), makeRequest()]);
    await scheduler.drain();
    assert.deepEqual(executor.batches.map(({ batch }) => batch.rows), [4, 4]);
    assert.ok(performance.now() - start < 5000, 'neither batch waited for the 10 s delay');
  });

  it('a partial batch waits maxQueueDelayMs for the oldest request, then goes as it is', async () => {
    const executor = new RecordingExecutor(5);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 8, maxQueueDelayMs: 150 }), executor.execute);
    const requests = [makeRequest(), makeRequest(), makeRequest()];
    submitAll(scheduler, requests);
    await scheduler.drain();

    assert.equal(executor.batches.length, 1);
    const [first] = executor.batches;
    assert.ok(first !== undefined);
    const waited = first.dispatchedAt - (requests[0]?.enqueuedAt ?? 0);
    assert.ok(waited >= 145, `dispatched after ${waited} ms, before the 150 ms delay`);
    assert.ok(waited < 150 + 400, `dispatched after ${waited} ms, long after the 150 ms delay`);
    assert.equal(first.batch.rows, 3);
  });

  it('a later arrival joins the waiting batch without restarting its delay', async () => {
    const executor = new RecordingExecutor(5);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 8, maxQueueDelayMs: 200 }), executor.execute);
    const first = makeRequest();
    scheduler.submit(first);
    await sleep(100);
    scheduler.submit(makeRequest());
    await scheduler.drain();
    assert.deepEqual(executor.batches.map(({ batch }) => batch.rows), [2]);
    const waited = (executor.batches[0]?.dispatchedAt ?? 0) - first.enqueuedAt;
    assert.ok(waited < 200 + 400, `dispatched after ${waited} ms`);
  });

  it('with maxBatchSize 0 every request is its own batch', async () => {
    const executor = new RecordingExecutor(2);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 0, maxQueueDelayMs: 1000 }), executor.execute);
    submitAll(scheduler, Array.from({ length: 4 }, () => makeRequest({ rows: 3 })));
    await scheduler.drain();
    assert.deepEqual(executor.batches.map(({ batch }) => batch.requests.length), [1, 1, 1, 1]);
  });

  it('only requests of equal signature share a batch', async () => {
    const executor = new RecordingExecutor(10);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 8, maxQueueDelayMs: 5 }), executor.execute);
    const requests = Array.from({ length: 24 }, (_, i) => makeRequest({ signature: ['a', 'b', 'c'][i % 3] }));
    submitAll(scheduler, requests);
    await scheduler.drain();

    for (const { batch } of executor.batches) {
      const signatures = new Set(batch.requests.map((request) => request.signature));
      assert.equal(signatures.size, 1, `a batch mixed ${[...signatures].join(', ')}`);
    }
    assert.ok(executor.batches.length < 24);
    assert.equal(executor.computedIds.length, 24);
  });

  it('never has more than `instances` batches in flight', async () => {
    const executor = new RecordingExecutor(30);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 2, maxQueueDelayMs: 0, instances: 2 }), executor.execute);
    let mostInFlight = 0;
    const requests: TestRequest[] = [];
    for (let i = 0; i < 40; i++) {
      const request = makeRequest();
      requests.push(request);
      scheduler.submit(request);
      if (i % 5 === 0) await nextTurn();
      mostInFlight = Math.max(mostInFlight, scheduler.inFlight);
    }
    while (scheduler.queueDepth > 0 || scheduler.inFlight > 0) {
      mostInFlight = Math.max(mostInFlight, scheduler.inFlight);
      await sleep(5);
    }
    assert.equal(executor.mostRunning, 2);
    assert.ok(mostInFlight <= 2);
    for (const request of requests) assert.equal(request.error, undefined);
  });

  it('multi-row requests are never split; a smaller later one fills the gap a larger one leaves', () => {
    const config = testConfig({ maxBatchSize: 8 });
    const five = makeRequest({ rows: 5 });
    const fiveMore = makeRequest({ rows: 5 });
    const three = makeRequest({ rows: 3 });
    const plan = planBatch([five, fiveMore, three], config, performance.now());
    assert.deepEqual(plan.requests, [five, three]);
    assert.equal(plan.rows, 8);
    assert.equal(plan.ready, true);
  });

  it('a preferred size counts only when whole requests add up to it', () => {
    const config = testConfig({ maxBatchSize: 16, preferredBatchSizes: [4] });
    const rows = (...counts: number[]) => counts.map((count) => makeRequest({ rows: count }));
    assert.equal(planBatch(rows(3, 3), config, performance.now()).ready, false);
    const plan = planBatch(rows(1, 3, 2), config, performance.now());
    assert.equal(plan.ready, true);
    assert.equal(plan.rows, 4);
    assert.equal(plan.requests.length, 2);
  });
});
