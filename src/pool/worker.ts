// A Piscina worker thread: computes batches whose tensors live in SharedArrayBuffer slots. Each
// thread loads the addon once and holds one native session per model; sessions of a model path share
// the process's single copy of its weights (the addon's model cache), so a thread costs only its
// activation arena.
import { threadId } from 'node:worker_threads';
import { type DType, typedArrayConstructorFor } from '../engine/dtypes.js';
import { type NativeSession, loadAddon } from '../engine/native-addon.js';
import { elementCount } from '../engine/tensor.js';
import type { BatchFailure, BatchResult, BatchTask, TensorPlacement } from './types.js';
import { MODEL_EVENTS_CHANNEL, type ModelEvent } from './model-events.js';

const sessions = new Map<string, NativeSession>();

// Unloading a model drops this thread's session for it (its arena, and its hold on the weights).
const events = new BroadcastChannel(MODEL_EVENTS_CHANNEL);
events.onmessage = (message: MessageEvent<ModelEvent>) => {
  if (message.data.kind === 'unload') sessions.delete(message.data.modelKey);
};
// The channel must not keep an idle worker alive.
(events as unknown as { unref(): void }).unref();

function sessionFor(task: BatchTask): NativeSession {
  let session = sessions.get(task.modelKey);
  if (session === undefined) {
    const { Session } = loadAddon();
    session = new Session(task.modelPath, { ...task.modelOptions, threads: task.threads });
    sessions.set(task.modelKey, session);
  }
  return session;
}

function view(buffer: SharedArrayBuffer, placement: TensorPlacement) {
  const Constructor = typedArrayConstructorFor(placement.dtype as DType);
  return new Constructor(buffer, placement.byteOffset, elementCount(placement.dims));
}

export default function runBatch(task: BatchTask): BatchResult | BatchFailure {
  try {
    const session = sessionFor(task);
    const inputs = task.inputs.map((p) => view(task.buffer, p));
    if (task.outputsDependOnData) {
      // Sizes known only once computed: the session allocates the outputs, which travel back in the
      // result (structured cloning copies them once more; such models are rare and small-output).
      const started = performance.now();
      const produced = session.run(inputs, task.inputs.map((p) => p.dims));
      const computeMs = performance.now() - started;
      const dims = session.lastOutputShapes;
      return {
        threadId, nativeRuns: session.runCount, computeMs,
        outputs: produced.map((data, j) => ({ dims: dims[j] ?? [], data })),
      };
    }
    const outputs = task.outputs.map((p) => view(task.buffer, p));
    const started = performance.now();
    session.run(inputs, task.inputs.map((p) => p.dims), outputs);
    return { threadId, nativeRuns: session.runCount, computeMs: performance.now() - started };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const session = sessions.get(task.modelKey);
    return {
      failed: { name: e.name, message: e.message, code: (e as { code?: string }).code },
      ...(session !== undefined && { session: { threadId, nativeRuns: session.runCount } }),
    };
  }
}
