// The addon loads and computes on worker threads (it is context-aware), several workers can share
// one model file at once, and each gets the same answer as the main thread.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

import { InferenceSession, tensor } from '../src/index.js';
import { mlp } from './helpers/onnx-builder.js';
import { randomFloats } from './helpers/random.js';
import type { WorkerReply, WorkerRequest } from './helpers/run-in-worker.js';
import { writeTempFile } from './helpers/temp-files.js';

const workerScript = new URL('./helpers/run-in-worker.js', import.meta.url);

async function runInWorker(request: WorkerRequest): Promise<WorkerReply> {
  const worker = new Worker(workerScript, { workerData: request });
  // Both listeners before either event: a worker's last message can be delivered in the same turn as
  // its exit, and a listener added after the message would then miss the exit and wait forever.
  const exited = once(worker, 'exit');
  const [reply] = (await once(worker, 'message')) as [WorkerReply];
  await exited;
  return reply;
}

describe('sessions on worker threads', () => {
  it('four workers sharing one model file agree with the main thread', async () => {
    const path = writeTempFile('workers-mlp.onnx', mlp([128, 256, 10], 61));
    const input = randomFloats(4 * 128, 62);
    const expected = InferenceSession.load(path).run({ input: tensor('float32', [4, 128], input) }).output;

    const replies = await Promise.all([0, 1, 2, 3].map(() => runInWorker({ path, input, dims: [4, 128], runs: 3 })));
    for (const reply of replies) {
      assert.deepEqual([...reply.dims], [4, 10]);
      assert.equal(reply.runCount, 3);
      assert.deepEqual([...reply.output], [...(expected?.data ?? [])]);
    }
  });
});
