// One caller's inference request on its way through the scheduler: its inputs (the caller's own
// typed arrays, copied once, into the batch slot), where it stands in the batch dimension, and the
// promise the caller awaits.
//
// This object and its promise are all a request allocates between intake and its batch: the
// scheduler and the batch's result loop add nothing per request but the result itself.
import type { QueuedRequest } from '../scheduler/types.js';
import type { TypedArray } from './dtypes.js';
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
  readonly promise: Promise<InferResult>;
  #resolve!: (result: InferResult) => void;
  #reject!: (error: Error) => void;
  #settled = false;

  constructor(
    // Each input's data in the model's input order: the caller's typed array, or raw bytes (a
    // Uint8Array of the tensor's little-endian bytes, possibly unaligned).
    readonly inputs: readonly TypedArray[],
    readonly dims: readonly (readonly number[])[],
    readonly rows: number,
    readonly signature: string,                    // see batchSignature
    readonly priority: number,
    readonly enqueuedAt: number,                   // performance.now() at intake
    readonly deadline: number,
    // Told once if the request fails (a success is counted by the batch that computed it).
    private readonly onFailed?: (request: InferRequest, error: Error) => void,
  ) {
    this.promise = new Promise<InferResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  // False when the request had already settled (its result is dropped).
  succeed(result: InferResult): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#resolve(result);
    return true;
  }

  fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onFailed?.(this, error);
    this.#reject(error);
  }
}

// Requests may share a batch only when every input agrees in dtype and in all dims but the first.
// (The dtypes are the model's, so the dims decide.) A model without a batch dimension never batches:
// each request gets a signature of its own.
export function batchSignature(dims: readonly (readonly number[])[], batched: boolean, id: number): string {
  if (!batched) return `alone:${id}`;
  let signature = '';
  for (let i = 0; i < dims.length; ++i) {
    const d = dims[i]!;
    if (i > 0) signature += '|';
    for (let axis = 1; axis < d.length; ++axis) signature += axis > 1 ? `x${d[axis]}` : String(d[axis]);
  }
  return signature;
}
