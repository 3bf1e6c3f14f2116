// An input's JSON `data` turned into a typed array of its datatype. The data is flat, or nested to
// follow the shape ([[1, 2], [3, 4]] for [2, 2]); nested data must match the shape at every level
// it spells out, and either way the element count must be the shape's.
import { type TypedArray, typedArrayConstructorFor } from '../engine/dtypes.js';
import { badRequest } from './http-error.js';
import { type OipDatatype, dtypeOf } from './oip-datatypes.js';
import { bigIntElement, isBigIntDatatype, numberElement } from './oip-elements.js';
import { decodeNumberRun } from './number-run-decode.js';
import { NumberRun } from './request-json.js';

// A stretch of consecutive elements: unparsed number text, or JSON values (booleans, or numbers when
// the request went through JSON.parse).
type Segment = NumberRun | readonly unknown[];

export function elementCountOf(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function decodeJsonTensorData(data: unknown, shape: readonly number[], datatype: OipDatatype, subject: string): TypedArray {
  if (!(data instanceof NumberRun) && !Array.isArray(data)) throw badRequest(`${subject}: 'data' must be an array`);
  const walk = new DataWalk(shape, subject);
  const count = walk.collect(data, 0, 'data');
  const expected = elementCountOf(shape);
  if (count !== expected) throw badRequest(`${subject}: shape [${shape.join(', ')}] has ${expected} elements, data has ${count}`);

  const out = new (typedArrayConstructorFor(dtypeOf(datatype)))(count);
  let offset = 0;
  for (const segment of walk.segments) {
    if (segment instanceof NumberRun) {
      decodeNumberRun(segment, datatype, out, offset, subject);
      offset += segment.count;
    } else {
      storeJsonValues(segment, datatype, out, offset, subject);
      offset += segment.length;
    }
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

// Collects the flat segments of (possibly nested) data in row-major order, checking the nesting
// against the shape on the way.
class DataWalk {
  readonly segments: Segment[] = [];
  // trailing[axis]: elements in one entry at `axis` (the product of the dims from `axis` on).
  private readonly trailing: number[];

  constructor(
    private readonly shape: readonly number[],
    private readonly subject: string,
  ) {
    this.trailing = new Array<number>(shape.length + 1).fill(1);
    for (let axis = shape.length - 1; axis >= 0; axis--) this.trailing[axis] = (this.trailing[axis + 1] as number) * (shape[axis] as number);
  }

  // Returns the number of elements under `value`, an array standing for dims axis... of the shape.
  collect(value: NumberRun | readonly unknown[], axis: number, path: string): number {
    if (value instanceof NumberRun) return this.leaf(value, value.count, axis, path);
    let arrays = 0;
    for (const entry of value) if (entry instanceof NumberRun || Array.isArray(entry)) arrays++;
    if (arrays === 0) return this.leaf(value, value.length, axis, path);
    if (arrays !== value.length) throw badRequest(`${this.subject}: ${path} mixes arrays and single values`);
    this.checkDepth(axis, path);
    const dim = this.shape[axis] as number;
    if (value.length !== dim) {
      throw badRequest(`${this.subject}: ${path} has ${value.length} entries, but dimension ${axis} of shape ${this.showShape()} is ${dim}`);
    }
    let count = 0;
    for (let k = 0; k < value.length; k++) count += this.collect(value[k] as NumberRun | unknown[], axis + 1, `${path}[${k}]`);
    return count;
  }

  // Flat values standing for dims axis... : any count at the top (checked against the shape's count
  // by the caller), exactly the trailing dims' count inside nested data.
  private leaf(segment: Segment, count: number, axis: number, path: string): number {
    if (axis > 0) {
      this.checkDepth(axis, path);
      const expected = this.trailing[axis] as number;
      if (count !== expected) {
        const dims = axis === this.shape.length - 1 ? `dimension ${axis}` : `dimensions ${axis} to ${this.shape.length - 1}`;
        throw badRequest(`${this.subject}: ${path} has ${count} elements; shape ${this.showShape()} needs ${expected} there (${dims})`);
      }
    }
    this.segments.push(segment);
    return count;
  }

  private checkDepth(axis: number, path: string): void {
    if (axis >= this.shape.length) throw badRequest(`${this.subject}: ${path} is nested deeper than shape ${this.showShape()}`);
  }

  private showShape(): string {
    return `[${this.shape.join(', ')}]`;
  }
}
