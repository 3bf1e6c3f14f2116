// An input's JSON `data` turned into a typed array of its datatype. The data is flat, or nested to
// follow the shape ([[1, 2], [3, 4]] for [2, 2]); nested data must match the shape at every level
// it spells out, and either way the element count must be the shape's.
import { type TypedArray, typedArrayConstructorFor } from '../engine/dtypes.js';
import { badRequest } from './http-error.js';
import { type OipDatatype, dtypeOf } from './oip-datatypes.js';
import { bigIntElement, isBigIntDatatype, numberElement } from './oip-elements.js';
import { countNumberRun, decodeNumberRun, maxNumbersIn } from './number-run-decode.js';
import { NumberRun } from './request-json.js';

export function elementCountOf(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

// A stretch of consecutive elements and how many the shape wants there: unparsed number text, or
// JSON values (booleans, or numbers when the request went through JSON.parse).
interface Leaf {
  values: NumberRun | readonly unknown[];
  expected: number;
  path: string;  // where it is, for messages: data, data[1], data[1][0]
  axis: number;  // the first dimension it stands for
}

export function decodeJsonTensorData(data: unknown, shape: readonly number[], datatype: OipDatatype, subject: string): TypedArray {
  if (!(data instanceof NumberRun) && !Array.isArray(data)) throw badRequest(`${subject}: 'data' must be an array`);
  const walk = new DataWalk(shape, subject);
  walk.collect(data, 0, 'data');
  // Check what can be checked before allocating: a shape of 10^12 elements with three numbers of
  // data is a 400, not an attempt at a 4 TB array.
  for (const leaf of walk.leaves) {
    const { values } = leaf;
    if (values instanceof NumberRun ? maxNumbersIn(values) < leaf.expected : values.length !== leaf.expected) {
      walk.countMismatch(leaf, values instanceof NumberRun ? countNumberRun(values) : values.length);
    }
  }

  const out = new (typedArrayConstructorFor(dtypeOf(datatype)))(elementCountOf(shape));
  let offset = 0;
  for (const leaf of walk.leaves) {
    const { values } = leaf;
    if (values instanceof NumberRun) {
      const count = decodeNumberRun(values, datatype, out, offset, leaf.expected, subject);
      if (count !== leaf.expected) walk.countMismatch(leaf, count > leaf.expected ? countNumberRun(values) : count);
    } else {
      storeJsonValues(values, datatype, out, offset, subject);
    }
    offset += leaf.expected;
  }
  return out;
}

function storeJsonValues(values: readonly unknown[], datatype: OipDatatype, out: TypedArray, offset: number, subject: string): void {
  if (isBigIntDatatype(datatype)) {
    const wide = out as BigInt64Array | BigUint64Array;
    for (let k = 0; k < values.length; k++) wide[offset + k] = bigIntElement(values[k], datatype, offset + k, subject);
  } else {
    const narrow = out as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
    for (let k = 0; k < values.length; k++) narrow[offset + k] = numberElement(values[k], datatype, offset + k, subject);
  }
}

// Collects the flat leaves of (possibly nested) data in row-major order, checking the nesting
// against the shape on the way.
class DataWalk {
  readonly leaves: Leaf[] = [];
  // trailing[axis]: elements in one entry at `axis` (the product of the dims from `axis` on).
  private readonly trailing: number[];

  constructor(
    private readonly shape: readonly number[],
    private readonly subject: string,
  ) {
    this.trailing = new Array<number>(shape.length + 1).fill(1);
    for (let axis = shape.length - 1; axis >= 0; axis--) this.trailing[axis] = (this.trailing[axis + 1] as number) * (shape[axis] as number);
  }

  // `value` is an array standing for dims axis... of the shape.
  collect(value: NumberRun | readonly unknown[], axis: number, path: string): void {
    if (value instanceof NumberRun) return this.leaf(value, axis, path);
    let arrays = 0;
    for (const entry of value) if (entry instanceof NumberRun || Array.isArray(entry)) arrays++;
    if (arrays === 0) return this.leaf(value, axis, path);
    if (arrays !== value.length) throw badRequest(`${this.subject}: ${path} mixes arrays and single values`);
    this.checkDepth(axis, path);
    const dim = this.shape[axis] as number;
    if (value.length !== dim) {
      throw badRequest(`${this.subject}: ${path} has ${value.length} entries, but dimension ${axis} of shape ${this.showShape()} is ${dim}`);
    }
    for (let k = 0; k < value.length; k++) this.collect(value[k] as NumberRun | unknown[], axis + 1, `${path}[${k}]`);
  }

  // "input 'x': shape [1, 784] has 784 elements, data has 783" for flat data; for a row of nested
  // data, what that row should hold.
  countMismatch(leaf: Leaf, count: number): never {
    if (leaf.axis === 0) throw badRequest(`${this.subject}: shape ${this.showShape()} has ${leaf.expected} elements, data has ${count}`);
    const last = this.shape.length - 1;
    const dims = leaf.axis === last ? `dimension ${leaf.axis}` : `dimensions ${leaf.axis} to ${last}`;
    throw badRequest(`${this.subject}: ${leaf.path} has ${count} elements; shape ${this.showShape()} needs ${leaf.expected} there (${dims})`);
  }

  // Flat values standing for dims axis... : the whole shape's count at the top, the trailing dims'
  // count inside nested data.
  private leaf(values: NumberRun | readonly unknown[], axis: number, path: string): void {
    if (axis > 0) this.checkDepth(axis, path);
    this.leaves.push({ values, expected: this.trailing[axis] as number, path, axis });
  }

  private checkDepth(axis: number, path: string): void {
    if (axis >= this.shape.length) throw badRequest(`${this.subject}: ${path} is nested deeper than shape ${this.showShape()}`);
  }

  private showShape(): string {
    return `[${this.shape.join(', ')}]`;
  }
}
