// A tensor as JavaScript callers hold it: a dtype, dims, and a typed array of row-major elements.
import { type DType, type TypedArray, carriesDType, typedArrayConstructorFor } from './dtypes.js';
import { invalidArgument, outOfRange } from './errors.js';

export interface Tensor {
  dtype: DType;
  dims: readonly number[];
  data: TypedArray;
}

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}

// A tensor of `dims`, over `data` when given (checked against dtype and dims), else zero-filled.
export function tensor(dtype: DType, dims: readonly number[], data?: TypedArray): Tensor {
  for (const [axis, dim] of dims.entries()) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw outOfRange(`tensor(): dimension ${axis} is ${dim}; dimensions are non-negative integers`);
    }
  }
  const count = elementCount(dims);
  const Constructor = typedArrayConstructorFor(dtype);
  if (data === undefined) return { dtype, dims: [...dims], data: new Constructor(count) };
  if (!carriesDType(data, dtype)) {
    throw invalidArgument(`tensor(): dtype ${dtype} is carried by ${Constructor.name}, got ${data.constructor.name}`);
  }
  if (data.length !== count) {
    throw outOfRange(`tensor(): shape [${dims.join(', ')}] needs ${count} elements, got ${data.length}`);
  }
  return { dtype, dims: [...dims], data };
}

export function isTensor(value: unknown): value is Tensor {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Tensor>;
  return typeof candidate.dtype === 'string' && Array.isArray(candidate.dims) && ArrayBuffer.isView(candidate.data);
}
