// A worker thread's body for session-runs-on-worker-threads.test.ts: loads the model at
// workerData.path, runs workerData.input through it and posts the output and the addon's own view
// of the session. Does nothing when loaded on the main thread (node --test also runs helper files).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

import { InferenceSession, tensor } from '../../src/index.js';

export interface WorkerRequest {
  path: string;
  input: Float32Array;
  dims: number[];
  runs: number;
}

export interface WorkerReply {
  output: Float32Array;
  dims: readonly number[];
  runCount: number;
}

if (!isMainThread && parentPort) {
  const request = workerData as WorkerRequest;
  const session = InferenceSession.load(request.path);
  let reply: WorkerReply | undefined;
  for (let run = 0; run < request.runs; ++run) {
    const { output } = session.run({ input: tensor('float32', request.dims, request.input) });
    reply = { output: output?.data as Float32Array, dims: output?.dims ?? [], runCount: session.runCount };
  }
  parentPort.postMessage(reply);
}
