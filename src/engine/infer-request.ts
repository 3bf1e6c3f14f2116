// One caller's inference request on its way through the scheduler: its inputs (the caller's own
// typed arrays, copied once, into the batch slot), where it stands in the batch dimension, and the
// promise the caller awaits.
import type { QueuedRequest } from '../scheduler/types.js';
import type { Tensor } from './tensor.js';

export interface InferTiming {
  queueMs: number;    // intake → batch dispatched
  computeMs: number;  // the batch's native run
  batchSize: number;  // rows in the batch this request was part of
}

export interface InferResult {
  outputs: Record<string, Tensor>;
  timing: InferTiming;
}

let nextId = 1;

export class InferRequest implements QueuedRequest {
  readonly id = nextId++;
  readonly enqueuedAt = performance.now();
  readonly signature: string;
  readonly promise: Promise<InferResult>;
  #resolve!: (result: InferResult) => void;
  #reject!: (error: Error) => void;
  #settled = false;

  constructor(
    readonly inputs: readonly Uint8Array[],        // bytes of each input, in the model's input order
    readonly dims: readonly (readonly number[])[],
    readonly rows: number,
    batched: boolean,
    readonly priority: number,
    readonly deadline: number,
    // Told once when the request settles (error undefined on success): the owner's metrics.
    private readonly onSettled?: (request: InferRequest, error?: Error) => void,
  ) {
    this.signature = batchSignature(dims, batched, this.id);
    this.promise = new Promise<InferResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  succeed(result: InferResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled?.(this);
    this.#resolve(result);
  }

  fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled?.(this, error);
    this.#reject(error);
  }
}

// Requests may share a batch only when every input agrees in dtype and in all dims but the first.
export function batchSignature(dims: readonly (readonly number[])[], batched: boolean, id: number): string {
  if (!batched) return `alone:${id}`;
  return dims.map((d) => d.slice(1).join('x')).join('|');
}
