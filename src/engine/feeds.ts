// Feeds as callers write them (by name; a Tensor, or a bare typed array whose shape follows from
// the model's declared dims) turned into the positional arrays the native session takes. Shared by
// InferenceSession.run and the Engine's request intake, so both say the same thing about mistakes.
import { type DType, type TypedArray, carriesDType, isTypedArray, typedArrayConstructorFor } from './dtypes.js';
import { invalidArgument, outOfRange } from './errors.js';
import { isTensor, type Tensor } from './tensor.js';

export type Feed = Tensor | TypedArray;

// A tensor as raw little-endian bytes, e.g. straight out of a binary HTTP body: the engine copies the
// bytes into its batch slot as they are, so they need neither alignment nor conversion first.
export interface RawTensor {
  dtype: DType;
  dims: readonly number[];
  bytes: Uint8Array;
}

export function isRawTensor(value: unknown): value is RawTensor {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<RawTensor>;
  return typeof candidate.dtype === 'string' && Array.isArray(candidate.dims) && candidate.bytes instanceof Uint8Array;
}

// What feeds are checked against: the model's declared inputs.
export interface InputMetadata {
  readonly name: string;
  readonly dtype: Tensor['dtype'];
  readonly dims: readonly number[];
  readonly dimNames: readonly (string | null)[];
  readonly hasShape: boolean;
}

// The feeds in the model's input order, with the dims of each. RawTensors are accepted only where
// the caller copies bytes (the Engine); their data is their bytes.
export function orderFeeds(
  inputs: readonly InputMetadata[],
  feeds: Record<string, Feed | RawTensor>,
  allowRaw = false,
): { data: TypedArray[]; dims: (readonly number[])[] } {
  // Sized up front: push() onto an empty array reserves room for 17, and this runs per request.
  const data = new Array<TypedArray>(inputs.length);
  const dims = new Array<readonly number[]>(inputs.length);
  for (let i = 0; i < inputs.length; ++i) {
    const info = inputs[i]!;
    const feed = feeds[info.name];
    if (feed === undefined) throw invalidArgument(`missing input '${info.name}' (${describeInfo(info)})`);
    if (allowRaw && isRawTensor(feed)) {
      if (feed.dtype !== info.dtype) {
        throw invalidArgument(`input '${info.name}' has dtype ${info.dtype}, got ${withArticle(feed.dtype)} tensor`);
      }
      data[i] = feed.bytes;
      dims[i] = feed.dims;
    } else if (isTypedArray(feed)) {
      data[i] = feed;
      dims[i] = dimsOfBareArray(info, feed);
    } else if (isTensor(feed)) {
      if (feed.dtype !== info.dtype) {
        throw invalidArgument(`input '${info.name}' has dtype ${info.dtype}, got ${withArticle(feed.dtype)} tensor`);
      }
      data[i] = feed.data;
      dims[i] = feed.dims;
    } else {
      throw invalidArgument(`input '${info.name}' must be a Tensor or a typed array`);
    }
  }
  return { data, dims };
}

export function checkNames(record: object, known: ReadonlyMap<string, number>, role: 'input' | 'output'): void {
  // for…in rather than Object.keys: no array per call on the request path.
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue;
    if (!known.has(name)) {
      const names = [...known.keys()].map((n) => `'${n}'`).join(', ');
      throw invalidArgument(`unknown ${role} '${name}'; the model's ${role}s are ${names || 'none'}`);
    }
  }
}

// "float32 [batch, 784]"
export function describeInfo(info: InputMetadata): string {
  if (!info.hasShape) return `${info.dtype}, any shape`;
  const dims = info.dims.map((dim, axis) => (dim >= 0 ? String(dim) : (info.dimNames[axis] ?? '?')));
  return `${info.dtype} [${dims.join(', ')}]`;
}

// A bare typed array takes the declared dims, with at most one dynamic dimension worked out from its
// length; anything more ambiguous needs a Tensor.
function dimsOfBareArray(info: InputMetadata, data: TypedArray): readonly number[] {
  if (!carriesDType(data, info.dtype)) {
    const expected = typedArrayConstructorFor(info.dtype).name;
    throw invalidArgument(`input '${info.name}' has dtype ${info.dtype} and must be ${withArticle(expected)}, got ${withArticle(data.constructor.name)}`);
  }
  let dynamic = 0;
  let known = 1;
  for (const dim of info.dims) {
    if (dim < 0) ++dynamic;
    else known *= dim;
  }
  if (!info.hasShape || dynamic > 1) {
    throw invalidArgument(`input '${info.name}' (${describeInfo(info)}) needs a Tensor with dims, not a bare typed array`);
  }
  if (dynamic === 0) return info.dims;
  if (known === 0 || data.length % known !== 0) {
    throw outOfRange(`input '${info.name}' (${describeInfo(info)}) cannot hold ${data.length} elements`);
  }
  return cachedDims(info, data.length / known);
}

// The dims of a bare array with `dynamic` in its one dynamic dimension; callers send the same few
// sizes over and over, so each input keeps the (frozen) arrays it has made.
const dimsCache = new WeakMap<InputMetadata, Map<number, readonly number[]>>();
function cachedDims(info: InputMetadata, dynamic: number): readonly number[] {
  let bySize = dimsCache.get(info);
  if (bySize === undefined) dimsCache.set(info, (bySize = new Map()));
  let dims = bySize.get(dynamic);
  if (dims === undefined) {
    dims = Object.freeze(info.dims.map((dim) => (dim < 0 ? dynamic : dim)));
    if (bySize.size < 64) bySize.set(dynamic, dims);
  }
  return dims;
}

// "a Float32Array", "an Int32Array", "an int64"
function withArticle(word: string): string {
  return /^[aeio]/i.test(word) ? `an ${word}` : `a ${word}`;
}
