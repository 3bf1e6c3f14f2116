// Priority levels and deadlines: a more urgent level goes first, earliest deadline first within a
// level, and a request whose deadline passes while queued fails at that moment and is never computed.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';

import { Scheduler } from '../src/scheduler/dynamic-batcher.js';
import { ServingError } from '../src/scheduler/errors.js';
import type { QueuedRequest } from '../src/scheduler/types.js';
import { RecordingExecutor, makeRequest, nextTurn, testConfig } from './helpers/scheduler-harness.js';

function assertServingError(error: Error | undefined, code: string): void {
  assert.ok(error instanceof ServingError, `expected a ServingError, got ${String(error)}`);
  assert.equal(error.code, code);
}

describe('scheduler priorities', () => {
  it('a priority-1 request overtakes a full queue of priority-3 requests', async () => {
    const executor = new RecordingExecutor(30);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 2, maxQueueDelayMs: 0 }), executor.execute);
    const background = Array.from({ length: 10 }, () => makeRequest({ priority: 3 }));
    for (const request of background) scheduler.submit(request);
    await nextTurn(); // the first batch of two is now running
    const urgent = makeRequest({ priority: 1 });
    scheduler.submit(urgent);
    await scheduler.drain();

    assert.equal(executor.batches[1]?.batch.requests[0], urgent, 'the urgent request heads the next batch');
    assert.equal(urgent.error, undefined);
  });

  it('a batch is filled across levels, most urgent first', async () => {
    const executor = new RecordingExecutor(30);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 3, maxQueueDelayMs: 0 }), executor.execute);
    scheduler.submit(makeRequest({ priority: 2 })); // runs alone while the rest queue
    await nextTurn();
    const low = makeRequest({ priority: 3 });
    const mid = makeRequest({ priority: 2 });
    const high = makeRequest({ priority: 1 });
    const lowest = makeRequest({ priority: 3 });
    for (const request of [low, mid, high, lowest]) scheduler.submit(request);
    await scheduler.drain();
    assert.deepEqual(executor.batches[1]?.batch.requests, [high, mid, low]);
    assert.deepEqual(executor.batches[2]?.batch.requests, [lowest]);
  });

  it('within a level the earliest deadline goes first, ties by arrival', async () => {
    const executor = new RecordingExecutor(20);
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 1, maxQueueDelayMs: 0 }), executor.execute);
    scheduler.submit(makeRequest());
    await nextTurn();
    const far = makeRequest({ deadlineInMs: 30_000 });
    const none = makeRequest();
    const near = makeRequest({ deadlineInMs: 10_000 });
    const tieA = makeRequest({ deadlineInMs: 20_000 });
    const tieB = makeRequest({ deadline: tieA.deadline });
    for (const request of [far, none, near, tieB, tieA]) scheduler.submit(request);
    await scheduler.drain();
    const order = executor.batches.slice(1).map(({ batch }) => batch.requests[0]?.id);
    assert.deepEqual(order, [near.id, tieA.id, tieB.id, far.id, none.id]);
  });

  it('a priority outside the levels is a RangeError', () => {
    const scheduler = new Scheduler(testConfig({ priorityLevels: 3 }), new RecordingExecutor(1).execute);
    assert.throws(() => scheduler.submit(makeRequest({ priority: 4 })), { name: 'RangeError', code: 'INFERD_ERR_OUT_OF_RANGE' });
    assert.equal(scheduler.queueDepth, 0);
  });
});

describe('scheduler deadlines', () => {
  it('a queued request fails at its deadline while the executor is busy, and is never computed', async () => {
    const executor = new RecordingExecutor(400);
    const expired: QueuedRequest[] = [];
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 1, maxQueueDelayMs: 0 }), executor.execute, {
      onExpired: (request) => expired.push(request),
    });
    scheduler.submit(makeRequest());
    await nextTurn();
    const doomed = makeRequest({ deadlineInMs: 80 });
    scheduler.submit(doomed);

    const error = await doomed.outcome;
    assertServingError(error, 'INFERD_ERR_TIMEOUT');
    assert.match(error?.message ?? '', /waiting \d+ ms/);
    const lateBy = (doomed.settledAt ?? Infinity) - doomed.deadline;
    assert.ok(lateBy > -5 && lateBy < 100, `failed ${lateBy} ms after its deadline`);
    assert.equal(executor.running, 1, 'the first batch was still computing');
    assert.equal(scheduler.queueDepth, 0);
    assert.deepEqual(expired, [doomed]);

    await scheduler.drain();
    assert.ok(!executor.computedIds.includes(doomed.id));
    assert.equal(doomed.settleCount, 1);
  });

  it('a request already dispatched is not affected by its deadline', async () => {
    const executor = new RecordingExecutor(150);
    const scheduler = new Scheduler(testConfig({ maxQueueDelayMs: 0 }), executor.execute);
    const request = makeRequest({ deadlineInMs: 50 });
    scheduler.submit(request);
    await scheduler.drain();
    assert.equal(request.error, undefined);
    assert.equal(request.settleCount, 1);
  });

  it('a request past its deadline at submit fails at once', async () => {
    const executor = new RecordingExecutor(1);
    const scheduler = new Scheduler(testConfig(), executor.execute);
    const request = makeRequest({ deadline: 0 });
    scheduler.submit(request);
    assert.equal(scheduler.queueDepth, 0);
    assertServingError(request.error, 'INFERD_ERR_TIMEOUT');
    await scheduler.drain();
    assert.equal(executor.batches.length, 0);
  });

  it('thousands of requests leave no timers or abort listeners behind', async () => {
    const executor = new RecordingExecutor(1);
    const config = testConfig({ maxBatchSize: 64, maxQueueDelayMs: 0, instances: 2, queueCapacity: Infinity });
    const scheduler = new Scheduler(config, executor.execute);
    const requests = Array.from({ length: 5000 }, () => makeRequest({ deadlineInMs: 60_000 }));
    const signals = requests.map(() => new AbortController().signal);
    requests.forEach((request, i) => scheduler.submit(request, signals[i]));
    assert.equal(getEventListeners(signals[4999] as AbortSignal, 'abort').length, 1);
    await scheduler.drain();

    assert.ok(signals.every((signal) => getEventListeners(signal, 'abort').length === 0));
    for (const request of requests) assert.equal(request.error, undefined);
    // A deadline timer left armed would keep the event loop alive for a minute: node:test would hang.
    // The resource list shows it directly.
    const timers = process.getActiveResourcesInfo().filter((name) => name === 'Timeout');
    assert.ok(timers.length < 10, `${timers.length} timers still armed`);
  });
});
