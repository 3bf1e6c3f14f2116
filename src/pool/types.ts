import type { ModelOptions } from '../engine/session.js';

// The message a worker thread gets for one batch, and what it answers. No tensor bytes travel: the
// inputs and outputs live in a SharedArrayBuffer slot that both sides map; the message says where.

export interface TensorPlacement {
  readonly dtype: string;          // 'float32', 'int64', …
  readonly dims: readonly number[];
  readonly byteOffset: number;     // into the slot's buffer; a multiple of 64
}

export interface BatchTask {
  readonly modelKey: string;       // identifies the model (and its load generation) across threads
  readonly modelPath: string;      // the ONNX file; every thread's session shares its weights
  readonly modelOptions: ModelOptions;  // as the model was loaded (provider, optimize…), for the same weights
  readonly threads: number;        // intra-op threads for this worker's session
  readonly buffer: SharedArrayBuffer;
  readonly inputs: readonly TensorPlacement[];   // in the model's input order
  readonly outputs: readonly TensorPlacement[];  // in the model's output order
  // Set for a model whose output sizes follow from computed data (NonZero, If, Loop…): nothing is
  // placed for the outputs, which come back in the result instead.
  readonly outputsDependOnData?: boolean;
}

// An output the worker computed into memory of its own (outputsDependOnData).
export interface ProducedTensor {
  readonly dims: readonly number[];
  readonly data: ArrayBufferView;
}

export interface BatchResult {
  readonly threadId: number;
  readonly nativeRuns: number;     // the worker session's run count after this batch
  readonly computeMs: number;      // time inside the native run
  readonly outputs?: readonly ProducedTensor[];  // when the task's outputsDependOnData
}

// A native failure, carried as data: structured cloning keeps an Error's message but drops its code.
export interface BatchFailure {
  readonly failed: { readonly name: string; readonly message: string; readonly code: string | undefined };
  // Where the worker had a session for the model (the run failed, not the session's creation).
  readonly session?: { readonly threadId: number; readonly nativeRuns: number };
}
