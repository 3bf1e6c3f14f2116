// Admission and exits: a full queue refuses at once with a retry hint, a cancelled request leaves the
// queue, an executor's failure stays within its batch, and close() finishes the work it has.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';

import { type RejectionReason, Scheduler } from '../src/scheduler/dynamic-batcher.js';
import { ServingError } from '../src/scheduler/errors.js';
import type { Batch } from '../src/scheduler/types.js';
import {
  RecordingExecutor,
  type TestRequest,
  makeRequest,
  nextTurn,
  sleep,
  testConfig,
} from './helpers/scheduler-harness.js';

function overloadError(submit: () => void): ServingError | undefined {
  try {
    submit();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ServingError);
    assert.equal(error.code, 'INFERD_ERR_OVERLOADED');
    return error;
  }
}

describe('scheduler admission', () => {
  it('a full queue refuses at once: accepted + rejected = sent, with a positive whole-ms retry hint', async () => {
    const executor = new RecordingExecutor(40);
    const rejections: RejectionReason[] = [];
    const config = testConfig({ maxBatchSize: 4, maxQueueDelayMs: 0, queueCapacity: 10 });
    const scheduler = new Scheduler(config, executor.execute, { onRejected: (reason) => rejections.push(reason) });

    const accepted: TestRequest[] = [];
    const hints: number[] = [];
    for (let i = 0; i < 100; i++) {
      const request = makeRequest();
      const error = overloadError(() => scheduler.submit(request));
      if (error === undefined) accepted.push(request);
      else hints.push(error.retryAfterMs ?? 0);
    }
    assert.equal(accepted.length, 10, 'in-flight requests do not count against the capacity');
    assert.equal(accepted.length + hints.length, 100);
    assert.equal(rejections.length, hints.length);
    assert.ok(rejections.every((reason) => reason === 'overloaded'));
    // Nothing measured yet: the default, maxQueueDelayMs + 1 s.
    assert.ok(hints.every((ms) => ms === 1000), `hints ${hints.slice(0, 3).join(', ')}`);

    await nextTurn(); // the first batch of four leaves the queue
    const moreAccepted = Array.from({ length: 4 }, () => makeRequest());
    for (const request of moreAccepted) scheduler.submit(request);
    accepted.push(...moreAccepted);
    await sleep(120); // two batches of about 40 ms settle
    while (scheduler.queueDepth < config.queueCapacity) {
      const request = makeRequest();
      scheduler.submit(request);
      accepted.push(request);
    }
    const measured = overloadError(() => scheduler.submit(makeRequest()));
    assert.ok(measured !== undefined);
    const hint = measured.retryAfterMs ?? 0;
    assert.ok(Number.isInteger(hint) && hint > 0, `hint ${hint}`);
    assert.ok(hint < 1000, `a measured hint of ${hint} ms is far above the 40 ms a batch takes`);

    await scheduler.drain();
    for (const request of accepted) assert.equal(request.error, undefined);
    assert.equal(executor.computedIds.length, accepted.length);
  });

  it('a request with more rows than maxBatchSize is a RangeError naming both numbers', () => {
    const rejections: RejectionReason[] = [];
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 8 }), new RecordingExecutor(1).execute, {
      onRejected: (reason) => rejections.push(reason),
    });
    assert.throws(() => scheduler.submit(makeRequest({ rows: 9 })), (error: Error & { code?: string }) => {
      assert.ok(error instanceof RangeError);
      assert.equal(error.code, 'INFERD_ERR_OUT_OF_RANGE');
      assert.match(error.message, /\b9\b/);
      assert.match(error.message, /\b8\b/);
      return true;
    });
    assert.deepEqual(rejections, ['too_large']);
    assert.equal(scheduler.queueDepth, 0);
  });

  it('a config with queueCapacity 0 is refused', () => {
    assert.throws(() => new Scheduler(testConfig({ queueCapacity: 0 }), new RecordingExecutor(1).execute), RangeError);
  });
});

describe('scheduler cancellation', () => {
  it('an abort while queued removes the request, fails it as cancelled, and it is never computed', async () => {
    const executor = new RecordingExecutor(100);
    const cancelled: TestRequest[] = [];
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 1, maxQueueDelayMs: 0 }), executor.execute, {
      onCancelled: (request) => cancelled.push(request),
    });
    scheduler.submit(makeRequest());
    await nextTurn();
    const controller = new AbortController();
    const request = makeRequest();
    scheduler.submit(request, controller.signal);
    assert.equal(scheduler.queueDepth, 1);

    controller.abort();
    assert.ok(request.error instanceof ServingError);
    assert.equal(request.error.code, 'INFERD_ERR_CANCELLED');
    assert.equal(scheduler.queueDepth, 0);
    assert.deepEqual(cancelled, [request]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);

    await scheduler.drain();
    assert.ok(!executor.computedIds.includes(request.id));
    assert.equal(request.settleCount, 1);
  });

  it('an already-aborted signal fails the request through fail(), not a throw', async () => {
    const executor = new RecordingExecutor(1);
    const scheduler = new Scheduler(testConfig(), executor.execute);
    const request = makeRequest();
    scheduler.submit(request, AbortSignal.abort());
    assert.ok(request.error instanceof ServingError);
    assert.equal(request.error.code, 'INFERD_ERR_CANCELLED');
    assert.equal(scheduler.queueDepth, 0);
    await scheduler.drain();
    assert.equal(executor.batches.length, 0);
  });

  it('an abort after dispatch changes nothing', async () => {
    const executor = new RecordingExecutor(50);
    const scheduler = new Scheduler(testConfig({ maxQueueDelayMs: 0 }), executor.execute);
    const controller = new AbortController();
    const request = makeRequest();
    scheduler.submit(request, controller.signal);
    await nextTurn();
    controller.abort();
    await scheduler.drain();
    assert.equal(request.error, undefined);
    assert.equal(request.settleCount, 1);
  });
});

describe('scheduler executor failures', () => {
  it('a rejecting executor fails only its own batch, with its error, and later batches run', async () => {
    const failure = new Error('worker crashed');
    const executor = new RecordingExecutor(10);
    let calls = 0;
    const execute = async (batch: Batch<TestRequest>): Promise<void> => {
      calls++;
      if (calls === 1) {
        batch.requests[0]?.succeed(); // settled by the executor before it gave up on the rest
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw failure;
      }
      if (calls === 2) throw 'not an Error'; // a rejection with something other than an Error
      return executor.execute(batch);
    };
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 3, maxQueueDelayMs: 0 }), execute);
    const first = [makeRequest(), makeRequest(), makeRequest()];
    for (const request of first) scheduler.submit(request);
    await nextTurn();
    const second = [makeRequest({ signature: 'other' })];
    const third = [makeRequest(), makeRequest()];
    for (const request of [...second, ...third]) scheduler.submit(request);
    await scheduler.drain();

    assert.equal(first[0]?.error, undefined, 'the request the executor settled is not failed');
    assert.equal(first[1]?.error, failure);
    assert.equal(first[2]?.error, failure);
    assert.ok(second[0]?.error instanceof Error);
    assert.match(second[0]?.error?.message ?? '', /not an Error/);
    for (const request of third) assert.equal(request.error, undefined);
    for (const request of [...first, ...second, ...third]) assert.equal(request.settleCount, 1);
    assert.equal(scheduler.inFlight, 0);
  });

  it('an executor that throws synchronously fails its batch and frees its instance', async () => {
    const scheduler = new Scheduler<TestRequest>(testConfig({ maxBatchSize: 1, maxQueueDelayMs: 0 }), () => {
      throw new Error('no worker');
    });
    const requests = [makeRequest(), makeRequest()];
    for (const request of requests) scheduler.submit(request);
    await scheduler.drain();
    for (const request of requests) assert.match(request.error?.message ?? '', /no worker/);
  });
});

describe('scheduler close', () => {
  it('close() dispatches queued work without waiting for the delay, refuses new requests, then resolves', async () => {
    const executor = new RecordingExecutor(20);
    const rejections: RejectionReason[] = [];
    const scheduler = new Scheduler(testConfig({ maxBatchSize: 4, maxQueueDelayMs: 60_000 }), executor.execute, {
      onRejected: (reason) => rejections.push(reason),
    });
    const requests = Array.from({ length: 6 }, () => makeRequest());
    for (const request of requests) scheduler.submit(request);
    await nextTurn();
    assert.equal(executor.batches.length, 1, 'the full batch of four went at once');

    const closed = scheduler.close();
    assert.throws(() => scheduler.submit(makeRequest()), { name: 'ServingError', code: 'INFERD_ERR_CLOSED' });
    assert.deepEqual(rejections, ['closed']);
    await closed;

    assert.deepEqual(executor.batches.map(({ batch }) => batch.rows), [4, 2]);
    for (const request of requests) assert.equal(request.error, undefined);
    assert.equal(scheduler.queueDepth, 0);
    assert.equal(scheduler.inFlight, 0);
    assert.equal(scheduler.close(), closed, 'closing twice gives the same promise');
  });

  it('drain() resolves at once when idle', async () => {
    const scheduler = new Scheduler(testConfig(), new RecordingExecutor(1).execute);
    await scheduler.drain();
    await scheduler.close();
  });
});
