// Weights are loaded once per process and shared by every worker thread: with a model of 64 MB of
// weights, a process with 4 workers (each holding a session of the model) uses far less than
// 3 × 64 MB more memory than a process with 1 worker.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { matmulModelFile } from './helpers/engine-models.js';

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'rss-probe.js');

function rssWith(modelPath: string, workers: number): number {
  const out = execFileSync(process.execPath, [probe, modelPath, String(workers)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { rss: number }).rss;
}

test('4 workers hold one copy of a 64 MB model, not four', () => {
  const modelPath = matmulModelFile(4096, 'shared-weights.onnx');
  const weights = 4096 * 4096 * 4;
  const one = rssWith(modelPath, 1);
  const four = rssWith(modelPath, 4);
  const extra = four - one;
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  assert.ok(one > weights, `the 1-worker process holds the weights (${mb(one)})`);
  assert.ok(extra < weights / 2, `4 workers use ${mb(extra)} more than 1 worker; the weights are ${mb(weights)}`);
});
