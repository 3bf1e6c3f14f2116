// The per-model scheduler: priority queues with deadlines, admission control, and a dynamic batcher in
// the manner of Triton's. Callers submit requests; the scheduler groups requests of equal signature into
// batches and hands each to the executor, keeping at most `instances` batches in flight.
//
// Contracts beyond types.ts:
// - submit() never calls the executor on the caller's stack: dispatch runs in a microtask, a timer or a
//   batch's settle callback. So requests submitted in one synchronous burst can share a batch even when
//   maxQueueDelayMs is 0, and an executor's exception never surfaces from submit().
// - submit() throws for what the caller must handle at once (closed, overloaded, too many rows, a
//   priority outside the levels); every other failure of a request — cancelled, timed out, already
//   aborted or already past its deadline at submit — arrives through request.fail(), so a caller
//   handles cancellation and timeout in one place whenever they happen.
// - The scheduler fails a request at most once, and only while it is queued, or when its batch's
//   executor rejects: see failBatch for the second case.
import { performance } from 'node:perf_hooks';

import { outOfRange } from '../engine/errors.js';
import { DrainRate } from './drain-rate.js';
import { ServingError } from './errors.js';
import { PriorityLevelQueue, type RequestQueue } from './request-queue.js';
import type { Batch, BatchExecutor, BatchingConfig, CancelSignal, QueuedRequest } from './types.js';

export type RejectionReason = 'overloaded' | 'closed' | 'too_large';

// Observation points for the metrics layer; all optional. A hook that throws is reported as a process
// warning and otherwise ignored: metrics must not corrupt scheduling.
export interface SchedulerHooks<R extends QueuedRequest = QueuedRequest> {
  onDispatch?(batch: Batch<R>): void;
  onSettled?(batch: Batch<R>, ms: number): void;
  onExpired?(request: R): void;
  onCancelled?(request: R): void;
  onRejected?(reason: RejectionReason): void;
  onQueueDepth?(depth: number): void;
}

// Retry-After before any batch has completed. Nothing is known of the model's speed yet (a full queue
// with no completed batch means the first batches are still running: a cold start or a slow model), so
// the hint covers the batcher's own wait plus one second, which is also the resolution of HTTP's
// Retry-After: a shorter guess would be rounded up to it anyway.
const UNMEASURED_RETRY_EXTRA_MS = 1000;

// setTimeout holds a signed 32-bit delay; longer deadlines are reached in steps.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

// What must be undone when a request leaves the queue, however it leaves.
interface QueueEntry {
  deadlineTimer: NodeJS.Timeout | undefined;
  signal: CancelSignal | undefined;
  onAbort: (() => void) | undefined;
}

// The entry of every request with neither a deadline nor a signal (most of them): nothing to undo, so
// they share one entry rather than each allocating its own.
const NOTHING_TO_UNDO: QueueEntry = Object.freeze({ deadlineTimer: undefined, signal: undefined, onAbort: undefined });

export interface BatchPlan<R extends QueuedRequest> {
  readonly requests: R[];
  readonly rows: number;
  // Full, a preferred size, or a model without a batch dimension: dispatch without waiting.
  readonly ready: boolean;
  // Queued requests met on the way whose deadline has passed (their timers may lag a busy event loop);
  // they must be failed, never batched.
  readonly expired: R[];
}

// The batch the scheduler would dispatch now. Head: the most urgent live request. Then, in the same
// order (level 1 first, earliest deadline first), every request of the head's signature that still fits
// within maxBatchSize; one that does not fit is skipped, not a stop, since a later smaller one may fill
// the gap (the skipped one loses nothing: it is more urgent, so it heads a batch soon). Requests are
// never split, so a preferred size counts only when a prefix of the batch sums to it exactly.
export function planBatch<R extends QueuedRequest>(
  queue: Iterable<R>,
  config: BatchingConfig,
  now: number,
): BatchPlan<R> {
  const requests: R[] = [];
  const expired: R[] = [];
  const limit = config.maxBatchSize;
  let rows = 0;
  let preferredCount = 0;
  let preferredRows = 0;
  for (const request of queue) {
    if (request.deadline <= now) {
      expired.push(request);
      continue;
    }
    const head = requests[0];
    if (head === undefined) {
      if (limit === 0) return { requests: [request], rows: request.rows, ready: true, expired };
    } else if (request.signature !== head.signature || rows + request.rows > limit) {
      continue;
    }
    requests.push(request);
    rows += request.rows;
    if (rows === limit) return { requests, rows, ready: true, expired };
    if (config.preferredBatchSizes.includes(rows)) {
      preferredCount = requests.length;
      preferredRows = rows;
    }
  }
  if (preferredCount > 0) {
    return { requests: requests.slice(0, preferredCount), rows: preferredRows, ready: true, expired };
  }
  return { requests, rows, ready: false, expired };
}

export class Scheduler<R extends QueuedRequest> {
  private readonly queue: RequestQueue<R>;
  // Every queued request with what to undo when it leaves. A Map keeps insertion order, so its first
  // key is the longest-waiting request, which the batching delay is measured from.
  private readonly entries = new Map<R, QueueEntry>();
  private readonly drainRate = new DrainRate();
  private batchesInFlight = 0;
  private delayTimer: NodeJS.Timeout | undefined;
  private delayTimerDueAt = Infinity;
  private dispatchPending = false;
  private closing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly config: BatchingConfig,
    private readonly execute: BatchExecutor<R>,
    private readonly hooks: SchedulerHooks<R> = {},
  ) {
    validateConfig(config);
    this.queue = new PriorityLevelQueue<R>(config.priorityLevels);
  }

  get queueDepth(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.batchesInFlight;
  }

  submit(request: R, signal?: CancelSignal): void {
    const { config } = this;
    if (this.closing !== undefined) {
      this.notify(this.hooks.onRejected, 'closed');
      throw new ServingError('INFERD_ERR_CLOSED', `request ${request.id} refused: the scheduler is closed`);
    }
    if (config.maxBatchSize > 0 && request.rows > config.maxBatchSize) {
      this.notify(this.hooks.onRejected, 'too_large');
      throw outOfRange(
        `request ${request.id} has ${request.rows} rows, more than the model's maxBatchSize of ${config.maxBatchSize}`,
      );
    }
    if (!Number.isInteger(request.priority) || request.priority < 1 || request.priority > config.priorityLevels) {
      throw outOfRange(
        `request ${request.id} has priority ${request.priority}; this model's levels are 1..${config.priorityLevels}`,
      );
    }
    if (signal?.aborted) {
      request.fail(new ServingError('INFERD_ERR_CANCELLED', `request ${request.id} was cancelled before it was queued`));
      this.notify(this.hooks.onCancelled, request);
      return;
    }
    if (request.deadline <= performance.now()) {
      request.fail(timedOut(request));
      this.notify(this.hooks.onExpired, request);
      return;
    }
    if (this.queue.size >= config.queueCapacity) {
      const retryAfterMs = this.retryAfterMs();
      this.notify(this.hooks.onRejected, 'overloaded');
      throw new ServingError(
        'INFERD_ERR_OVERLOADED',
        `request ${request.id} refused: ${this.queue.size} requests are queued, the model's capacity; ` +
          `retry in about ${retryAfterMs} ms`,
        retryAfterMs,
      );
    }

    const deadlined = Number.isFinite(request.deadline);
    const entry: QueueEntry = deadlined || signal !== undefined
      ? { deadlineTimer: undefined, signal: undefined, onAbort: undefined }
      : NOTHING_TO_UNDO;
    this.queue.push(request);
    this.entries.set(request, entry);
    if (deadlined) this.armDeadline(request, entry);
    if (signal !== undefined) {
      entry.signal = signal;
      entry.onAbort = () => this.cancel(request);
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.notify(this.hooks.onQueueDepth, this.queue.size);
    this.scheduleDispatch();
  }

  // Resolves when nothing is queued or in flight.
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // Refuses new requests; queued and in-flight ones run to completion, then it resolves. Queued
  // requests no longer wait for their batch to fill: nothing more can join it.
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = this.drain();
      this.scheduleDispatch();
    }
    return this.closing;
  }

  // Time for the queue to drain below its capacity, from the measured drain rate; whole ms, never 0.
  private retryAfterMs(): number {
    const { config } = this;
    const excess = this.queue.size - config.queueCapacity + 1;
    const estimate =
      this.drainRate.msToDrain(excess, config.instances) ?? config.maxQueueDelayMs + UNMEASURED_RETRY_EXTRA_MS;
    return Math.max(1, Math.ceil(estimate));
  }

  private armDeadline(request: R, entry: QueueEntry): void {
    const remaining = request.deadline - performance.now();
    entry.deadlineTimer =
      remaining > LONGEST_TIMER_MS
        ? setTimeout(() => this.armDeadline(request, entry), LONGEST_TIMER_MS)
        : setTimeout(() => this.expire(request), Math.max(0, Math.ceil(remaining)));
  }

  // Takes a request out of the queue and undoes its timer and listener; false when it was not queued.
  private leave(request: R): boolean {
    const entry = this.entries.get(request);
    if (entry === undefined) return false;
    this.entries.delete(request);
    this.queue.remove(request);
    if (entry.deadlineTimer !== undefined) clearTimeout(entry.deadlineTimer);
    if (entry.signal !== undefined && entry.onAbort !== undefined) {
      entry.signal.removeEventListener('abort', entry.onAbort);
    }
    return true;
  }

  private expire(request: R): void {
    if (!this.leave(request)) return;
    request.fail(timedOut(request));
    this.notify(this.hooks.onExpired, request);
    this.afterLeaving();
  }

  private cancel(request: R): void {
    if (!this.leave(request)) return;
    const waitedMs = Math.round(performance.now() - request.enqueuedAt);
    request.fail(
      new ServingError('INFERD_ERR_CANCELLED', `request ${request.id} was cancelled after ${waitedMs} ms in the queue`),
    );
    this.notify(this.hooks.onCancelled, request);
    this.afterLeaving();
  }

  // A request left the queue without being dispatched: the oldest request, and so the batching
  // delay, may have changed, and the scheduler may have become idle.
  private afterLeaving(): void {
    this.notify(this.hooks.onQueueDepth, this.queue.size);
    this.scheduleDispatch();
    this.resolveIdleWaiters();
  }

  // Coalesces the dispatch attempts of one synchronous burst of submits into one.
  private scheduleDispatch(): void {
    if (this.dispatchPending) return;
    this.dispatchPending = true;
    queueMicrotask(() => {
      this.dispatchPending = false;
      this.dispatchReady();
    });
  }

  // Dispatches batches while an instance is free and a batch is due; otherwise arms the one delay timer
  // for when the longest-waiting request will have waited maxQueueDelayMs. The delay is measured from
  // the longest-waiting request rather than the head so that no request waits past it (slots allowing)
  // because more urgent arrivals keep taking the head. `timerDueAt` is the due time of the delay timer
  // that called: timers may fire a fraction of a millisecond early by performance.now().
  private dispatchReady(timerDueAt = -Infinity): void {
    while (this.batchesInFlight < this.config.instances && this.queue.size > 0) {
      const now = performance.now();
      const plan = planBatch(this.queue, this.config, now);
      for (const request of plan.expired) this.expire(request);
      if (plan.requests.length === 0) continue; // all it met had expired; the queue is shorter now
      const delayDueAt = this.oldestEnqueuedAt() + this.config.maxQueueDelayMs;
      const delayPassed = now >= delayDueAt || delayDueAt <= timerDueAt;
      if (!plan.ready && !delayPassed && this.closing === undefined) {
        this.armDelayTimer(delayDueAt);
        return;
      }
      this.dispatch(plan);
    }
    this.clearDelayTimer();
  }

  private oldestEnqueuedAt(): number {
    for (const request of this.entries.keys()) return request.enqueuedAt;
    return Infinity;
  }

  private armDelayTimer(dueAt: number): void {
    if (this.delayTimer !== undefined && this.delayTimerDueAt === dueAt) return;
    this.clearDelayTimer();
    this.delayTimerDueAt = dueAt;
    this.delayTimer = setTimeout(
      () => {
        this.delayTimer = undefined;
        this.delayTimerDueAt = Infinity;
        this.dispatchReady(dueAt);
      },
      Math.max(0, Math.ceil(dueAt - performance.now())),
    );
  }

  private clearDelayTimer(): void {
    clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.delayTimerDueAt = Infinity;
  }

  private dispatch(plan: BatchPlan<R>): void {
    for (const request of plan.requests) this.leave(request);
    const batch: Batch<R> = { requests: plan.requests, rows: plan.rows, formedAt: performance.now() };
    this.batchesInFlight++;
    this.notify(this.hooks.onDispatch, batch);
    this.notify(this.hooks.onQueueDepth, this.queue.size);
    let running: Promise<void>;
    try {
      running = Promise.resolve(this.execute(batch));
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      () => this.settle(batch, undefined),
      (error: unknown) => this.settle(batch, asError(error)),
    );
  }

  private settle(batch: Batch<R>, error: Error | undefined): void {
    const ms = performance.now() - batch.formedAt;
    this.batchesInFlight--;
    this.drainRate.record(batch.requests.length, ms);
    try {
      if (error !== undefined) failBatch(batch, error);
    } finally {
      // Even if a request's fail() throws, the freed instance must take the next batch.
      this.notify(this.hooks.onSettled, batch, ms);
      this.dispatchReady();
      this.resolveIdleWaiters();
    }
  }

  private isIdle(): boolean {
    return this.queue.size === 0 && this.batchesInFlight === 0;
  }

  private resolveIdleWaiters(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // Calls a hook as a method of the hooks object. The hook and its arguments are passed rather than
  // wrapped in a closure: this runs several times per request.
  private notify<A, B>(hook: ((a: A, b: B) => void) | undefined, a: A, b?: B): void {
    if (hook === undefined) return;
    try {
      hook.call(this.hooks, a, b as B);
    } catch (error) {
      process.emitWarning(asError(error), { code: 'INFERD_SCHEDULER_HOOK_FAILED' });
    }
  }
}

// An executor that rejects has failed its whole batch: every request it had not settled yet fails
// with the rejection's error.
function failBatch<R extends QueuedRequest>(batch: Batch<R>, error: Error): void {
  for (const request of batch.requests) if (!request.settled) request.fail(error);
}

function timedOut(request: QueuedRequest): ServingError {
  const waitedMs = Math.max(0, Math.round(performance.now() - request.enqueuedAt));
  return new ServingError(
    'INFERD_ERR_TIMEOUT',
    `request ${request.id} timed out after waiting ${waitedMs} ms in the queue: its deadline passed before a batch took it`,
  );
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(`batch executor failed: ${String(error)}`);
}

function validateConfig(config: BatchingConfig): void {
  const isCount = (value: number, min: number) => Number.isInteger(value) && value >= min;
  if (!isCount(config.maxBatchSize, 0)) {
    throw outOfRange(`maxBatchSize must be an integer ≥ 0, not ${config.maxBatchSize}`);
  }
  for (const size of config.preferredBatchSizes) {
    if (!isCount(size, 1) || (config.maxBatchSize > 0 && size > config.maxBatchSize)) {
      throw outOfRange(`preferred batch size ${size} is outside 1..maxBatchSize (${config.maxBatchSize})`);
    }
  }
  if (!(config.maxQueueDelayMs >= 0 && Number.isFinite(config.maxQueueDelayMs))) {
    throw outOfRange(`maxQueueDelayMs must be a finite number ≥ 0, not ${config.maxQueueDelayMs}`);
  }
  if (!isCount(config.priorityLevels, 1)) {
    throw outOfRange(`priorityLevels must be an integer ≥ 1, not ${config.priorityLevels}`);
  }
  if (!isCount(config.instances, 1)) {
    throw outOfRange(`instances must be an integer ≥ 1, not ${config.instances}`);
  }
  // 0 would refuse every request; Infinity is how to say "no limit".
  if (!(isCount(config.queueCapacity, 1) || config.queueCapacity === Infinity)) {
    throw outOfRange(`queueCapacity must be an integer ≥ 1 or Infinity, not ${config.queueCapacity}`);
  }
}
