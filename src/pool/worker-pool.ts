// The worker threads (Piscina) that run every model compute, so the event loop only does I/O.
import { cpus } from 'node:os';
import { Piscina } from 'piscina';
import { MODEL_EVENTS_CHANNEL, type ModelEvent } from './model-events.js';
import type { BatchFailure, BatchResult, BatchTask } from './types.js';

export interface WorkerPoolOptions {
  // Threads running batches at once (default: cores ÷ threadsPerWorker).
  workers?: number;
  // Intra-op threads each worker's sessions use for one batch (default 1). Never more than
  // cores ÷ workers: every worker may compute at once, and more threads than cores only contend.
  threadsPerWorker?: number;
}

// Workers per process, by default, such that processes × workers × threads ≤ cores (at least 1):
// with several server processes (`inferd serve --processes`) each has a pool of its own.
export function workersWithoutOversubscription(threadsPerWorker: number, cores: number, processes = 1): number {
  return Math.max(1, Math.floor(cores / (threadsPerWorker * processes)));
}

// Intra-op threads per worker such that workers × threads ≤ cores (at least 1).
export function threadsWithoutOversubscription(requested: number, workers: number, cores: number): number {
  return Math.max(1, Math.min(requested, Math.floor(cores / workers)));
}

export class WorkerPool {
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly #piscina: Piscina<BatchTask, BatchResult | BatchFailure>;
  readonly #events = new BroadcastChannel(MODEL_EVENTS_CHANNEL);
  // Each worker session's latest native run count, by thread and model: their sum is every native
  // run so far.
  readonly #runsBySession = new Map<string, number>();

  constructor(options: WorkerPoolOptions = {}) {
    const cores = cpus().length;
    const requested = Math.max(1, Math.floor(options.threadsPerWorker ?? 1));
    this.workers = Math.max(1, Math.floor(options.workers ?? workersWithoutOversubscription(requested, cores)));
    this.threadsPerWorker = threadsWithoutOversubscription(requested, this.workers, cores);
    this.#piscina = new Piscina<BatchTask, BatchResult | BatchFailure>({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      // Workers keep their sessions (and arenas) warm for the life of the pool.
      idleTimeout: Infinity,
    });
  }

  async run(task: BatchTask): Promise<BatchResult> {
    const outcome = await this.#piscina.run(task);
    if ('failed' in outcome) {
      if (outcome.session !== undefined) this.#count(outcome.session, task.modelKey);
      const { name, message, code } = outcome.failed;
      const ErrorClass = name === 'TypeError' ? TypeError : name === 'RangeError' ? RangeError : Error;
      throw Object.assign(new ErrorClass(message), code === undefined ? {} : { code });
    }
    this.#count(outcome, task.modelKey);
    return outcome;
  }

  #count(session: { threadId: number; nativeRuns: number }, modelKey: string): void {
    const key = `${session.threadId}:${modelKey}`;
    this.#runsBySession.set(key, Math.max(this.#runsBySession.get(key) ?? 0, session.nativeRuns));
  }

  // Native runs across all workers (sessions of unloaded models included, as last reported).
  get nativeRuns(): number {
    let total = 0;
    for (const runs of this.#runsBySession.values()) total += runs;
    return total;
  }

  // Worker threads that hold a session of the model: those that have run a batch of it.
  sessionsOf(modelKey: string): number {
    let sessions = 0;
    for (const key of this.#runsBySession.keys()) if (key.endsWith(`:${modelKey}`)) ++sessions;
    return sessions;
  }

  // Utilization since start: the share of worker time spent running tasks.
  get utilization(): number {
    return this.#piscina.utilization;
  }

  unloadModel(modelKey: string): void {
    const event: ModelEvent = { kind: 'unload', modelKey };
    this.#events.postMessage(event);
  }

  async close(): Promise<void> {
    this.#events.close();
    await this.#piscina.destroy();
  }
}
