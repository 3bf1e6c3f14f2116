// Test doubles for the scheduler's unit tests: requests that record how they were settled (and
// complain if settled twice), and an executor that records batches and finishes them after a real
// timer, as a worker would.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Batch, BatchingConfig, QueuedRequest } from '../../src/scheduler/types.js';

export { sleep };

export interface TestRequest extends QueuedRequest {
  readonly settled: boolean;
  readonly settleCount: number;
  readonly settledAt: number | undefined;
  readonly error: Error | undefined;
  // Resolves with undefined when computed, with the error when failed.
  readonly outcome: Promise<Error | undefined>;
  succeed(): void;
}

let nextId = 1;

export interface RequestOptions {
  rows?: number;
  signature?: string;
  priority?: number;
  // Milliseconds from now; omitted = no deadline.
  deadlineInMs?: number;
  // An absolute performance.now() deadline instead.
  deadline?: number;
}

export function makeRequest(options: RequestOptions = {}): TestRequest {
  const enqueuedAt = performance.now();
  let settle!: (error: Error | undefined) => void;
  const outcome = new Promise<Error | undefined>((resolve) => (settle = resolve));
  const request = {
    id: nextId++,
    rows: options.rows ?? 1,
    signature: options.signature ?? 'f32[4]',
    priority: options.priority ?? 2,
    enqueuedAt,
    deadline: options.deadline ?? (options.deadlineInMs === undefined ? Infinity : enqueuedAt + options.deadlineInMs),
    settled: false,
    settleCount: 0,
    settledAt: undefined as number | undefined,
    error: undefined as Error | undefined,
    outcome,
    fail(error: Error) {
      record(error);
    },
    succeed() {
      record(undefined);
    },
  };
  function record(error: Error | undefined): void {
    request.settleCount++;
    if (request.settled) return;
    request.settled = true;
    request.settledAt = performance.now();
    request.error = error;
    settle(error);
  }
  return request;
}

export function testConfig(overrides: Partial<BatchingConfig> = {}): BatchingConfig {
  return {
    maxBatchSize: 8,
    preferredBatchSizes: [],
    maxQueueDelayMs: 10,
    priorityLevels: 3,
    defaultPriority: 2,
    queueCapacity: 1000,
    defaultTimeoutMs: 0,
    instances: 1,
    ...overrides,
  };
}

export interface DispatchedBatch {
  readonly batch: Batch<TestRequest>;
  readonly dispatchedAt: number;
}

// Records each batch, waits computeMs on a real timer, then succeeds every request of it.
export class RecordingExecutor {
  readonly batches: DispatchedBatch[] = [];
  running = 0;
  mostRunning = 0;

  constructor(private readonly computeMs: number) {}

  readonly execute = async (batch: Batch<TestRequest>): Promise<void> => {
    this.batches.push({ batch, dispatchedAt: performance.now() });
    this.running++;
    this.mostRunning = Math.max(this.mostRunning, this.running);
    await sleep(this.computeMs);
    for (const request of batch.requests) request.succeed();
    this.running--;
  };

  get computedIds(): number[] {
    return this.batches.flatMap(({ batch }) => batch.requests.map((request) => request.id));
  }
}

// Lets pending microtasks (where the scheduler dispatches) and immediate callbacks run.
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
