// onnxruntime-node as the reference the engine is compared with (tests only).
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';

import { InferenceSession, type Tensor } from '../../src/index.js';

// Warnings about legacy opsets and unused initializers are expected here: the tests build such models.
ort.env.logLevel = 'error';

export async function runReference(model: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, tensor] of Object.entries(feeds)) {
    ortFeeds[name] = new ort.Tensor(tensor.dtype as ort.Tensor.Type, tensor.data as ort.Tensor.DataType, [...tensor.dims]);
  }
  const results = await session.run(ortFeeds);
  const out: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(results)) {
    out[name] = { dtype: value.type as Tensor['dtype'], dims: [...value.dims], data: value.data as Tensor['data'] };
  }
  await session.release();
  return out;
}

export function maxAbsDiff(a: Tensor['data'], b: Tensor['data']): number {
  assert.equal(a.length, b.length, 'element counts differ');
  let max = 0;
  for (let i = 0; i < a.length; ++i) {
    const diff = Math.abs(Number(a[i]) - Number(b[i]));
    if (Number.isNaN(diff)) return Infinity;
    max = Math.max(max, diff);
  }
  return max;
}

export function assertClose(actual: Tensor, expected: Tensor, tolerance: number, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.dims], [...expected.dims], `${what}: dims`);
  const diff = maxAbsDiff(actual.data, expected.data);
  assert.ok(diff <= tolerance, `${what}: max abs error ${diff} > ${tolerance}`);
}

// Runs `model` on inferd and on onnxruntime and checks every output agrees within `tolerance`.
export async function assertMatchesReference(model: Uint8Array, feeds: Record<string, Tensor>, tolerance = 1e-4): Promise<Record<string, Tensor>> {
  const ours = InferenceSession.load(model).run(feeds);
  const reference = await runReference(model, feeds);
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(reference).sort(), 'output names');
  for (const name of Object.keys(reference)) assertClose(ours[name] as Tensor, reference[name] as Tensor, tolerance, `output '${name}'`);
  return ours;
}
