// Workers × intra-op threads never exceed the cores: every worker may compute at once, and threads
// beyond the cores only contend (the native pools spin before they sleep).
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { test } from 'node:test';

import { threadsWithoutOversubscription, WorkerPool, workersWithoutOversubscription } from '../src/pool/worker-pool.js';

test('intra-op threads are capped at cores ÷ workers, and never below 1', () => {
  assert.equal(threadsWithoutOversubscription(4, 2, 8), 4);
  assert.equal(threadsWithoutOversubscription(4, 4, 8), 2);
  assert.equal(threadsWithoutOversubscription(2, 2, 2), 1);
  assert.equal(threadsWithoutOversubscription(3, 8, 4), 1);
});

test('by default workers fill the cores once, across every server process, and never fall below 1', () => {
  assert.equal(workersWithoutOversubscription(1, 16), 16);
  assert.equal(workersWithoutOversubscription(2, 16), 8);
  assert.equal(workersWithoutOversubscription(1, 16, 4), 4);
  assert.equal(workersWithoutOversubscription(2, 16, 3), 2);
  assert.equal(workersWithoutOversubscription(1, 2, 4), 1);
});

test('a pool asked for more threads than its cores hold gets workers × threads ≤ cores', async () => {
  const cores = cpus().length;
  const pool = new WorkerPool({ workers: cores, threadsPerWorker: cores * 2 });
  try {
    assert.equal(pool.workers, cores);
    assert.ok(pool.workers * pool.threadsPerWorker <= Math.max(cores, pool.workers), `${pool.workers} × ${pool.threadsPerWorker} on ${cores} cores`);
    const byDefault = new WorkerPool({ threadsPerWorker: 2 });
    assert.ok(byDefault.workers * byDefault.threadsPerWorker <= Math.max(cores, 2));
    await byDefault.close();
  } finally {
    await pool.close();
  }
});
