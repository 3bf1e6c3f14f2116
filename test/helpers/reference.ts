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

// The differential tests' bound for real models: |inferd − onnxruntime| ≤ 1e-4 + 1e-3·|onnxruntime|.
const ELEMENT_ABSOLUTE = 1e-4;
const ELEMENT_RELATIVE = 1e-3;

// Checks every element, and on failure names the worst one: its index, both values, the bound.
export function assertElementwiseClose(actual: Tensor, expected: Tensor, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.dims], [...expected.dims], `${what}: dims`);
  assert.equal(actual.data.length, expected.data.length, `${what}: element count`);
  let worst = -1;
  let worstExcess = 0;
  let failures = 0;
  for (let i = 0; i < expected.data.length; ++i) {
    const got = Number(actual.data[i]);
    const want = Number(expected.data[i]);
    const bound = ELEMENT_ABSOLUTE + ELEMENT_RELATIVE * Math.abs(want);
    const error = Math.abs(got - want);
    const excess = Number.isNaN(error) ? (Number.isNaN(got) && Number.isNaN(want) ? 0 : Infinity) : error / bound;
    if (excess > 1) ++failures;
    if (excess > worstExcess || worst < 0) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (failures === 0) return;
  const got = Number(actual.data[worst]);
  const want = Number(expected.data[worst]);
  assert.fail(
    `${what}: ${failures} of ${expected.data.length} elements outside 1e-4 + 1e-3·|expected|; worst at ` +
      `[${unravel(worst, expected.dims).join(', ')}] (flat ${worst}): inferd ${got}, onnxruntime ${want}, ` +
      `|error| ${Math.abs(got - want)} > bound ${ELEMENT_ABSOLUTE + ELEMENT_RELATIVE * Math.abs(want)}`,
  );
}

function unravel(flat: number, dims: readonly number[]): number[] {
  const index = new Array<number>(dims.length).fill(0);
  for (let axis = dims.length - 1; axis >= 0; --axis) {
    const size = dims[axis] as number;
    index[axis] = flat % size;
    flat = Math.floor(flat / size);
  }
  return index;
}
