// The scheduler's contracts: what a queued request is, what a formed batch is, and the one thing the
// scheduler needs from below — something that computes a batch. Semantics follow Triton's dynamic
// batcher: maxBatchSize, preferredBatchSizes, maxQueueDelayMs, priority levels (1 = most urgent).

export interface BatchingConfig {
  // Largest number of rows (batch-dimension entries) in one batch; 0 = the model has no batch
  // dimension and every request runs alone.
  maxBatchSize: number;
  // Batch sizes the batcher dispatches at once when it can form them (ascending).
  preferredBatchSizes: readonly number[];
  // How long the oldest queued request may wait for a batch to fill before it is dispatched anyway.
  maxQueueDelayMs: number;
  // Number of priority levels; requests carry 1..priorityLevels.
  priorityLevels: number;
  // Priority of a request that gives none.
  defaultPriority: number;
  // Queued requests (all levels) beyond which new requests are refused at once.
  queueCapacity: number;
  // Default time a request may spend queued before it fails (0 = no limit); a request may only shorten it.
  defaultTimeoutMs: number;
  // Batches of this model in flight at once.
  instances: number;
}

// One caller's request as the scheduler sees it. The scheduler never looks at tensor data: it
// groups requests whose `signature` (non-batch dims and dtypes of every input) is equal.
export interface QueuedRequest {
  readonly id: number;
  readonly rows: number;            // entries along the batch dimension
  readonly signature: string;
  readonly priority: number;        // 1..priorityLevels
  readonly enqueuedAt: number;      // performance.now() ms
  readonly deadline: number;        // performance.now() ms; Infinity when none
  // True once the request has succeeded or failed (an executor may settle some of a batch's
  // requests before it rejects; the scheduler fails only the rest).
  readonly settled: boolean;
  // Settled exactly once by the scheduler (expiry, cancellation, overload) or by the executor.
  fail(error: Error): void;
}

export interface Batch<R extends QueuedRequest = QueuedRequest> {
  readonly requests: readonly R[];
  readonly rows: number;
  readonly formedAt: number;
}

// Computes a batch and settles each of its requests (resolve with outputs, or fail); resolves when
// the batch's worker is free again. The scheduler counts it in flight until then.
export type BatchExecutor<R extends QueuedRequest = QueuedRequest> = (batch: Batch<R>) => Promise<void>;

// What cancels a queued request: an AbortSignal, or any object with the same three members (the HTTP
// server passes a lighter one per request than an AbortController's signal, which is an EventTarget).
// The scheduler adds one 'abort' listener while the request is queued and removes it when it leaves.
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
