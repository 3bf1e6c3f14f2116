// The worker threads (Piscina) that run every model compute, so the event loop only does I/O.
import { cpus } from 'node:os';
import { Piscina } from 'piscina';
import { MODEL_EVENTS_CHANNEL, type ModelEvent } from './model-events.js';
import type { BatchFailure, BatchResult, BatchTask } from './types.js';

export interface WorkerPoolOptions {
  // Threads running batches at once (default: cores ÷ threadsPerWorker).
  workers?: number;
  // Intra-op threads each worker's sessions use for one batch (default 1).
  threadsPerWorker?: number;
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
    this.threadsPerWorker = Math.max(1, Math.floor(options.threadsPerWorker ?? 1));
    this.workers = Math.max(1, Math.floor(options.workers ?? Math.max(1, Math.floor(cpus().length / this.threadsPerWorker))));
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
      const { name, message, code } = outcome.failed;
      const ErrorClass = name === 'TypeError' ? TypeError : name === 'RangeError' ? RangeError : Error;
      throw Object.assign(new ErrorClass(message), code === undefined ? {} : { code });
    }
    const result = outcome;
    const key = `${result.threadId}:${task.modelKey}`;
    this.#runsBySession.set(key, Math.max(this.#runsBySession.get(key) ?? 0, result.nativeRuns));
    return result;
  }

  // Native runs across all workers (sessions of unloaded models included, as last reported).
  get nativeRuns(): number {
    let total = 0;
    for (const runs of this.#runsBySession.values()) total += runs;
    return total;
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
