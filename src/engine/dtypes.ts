// Element types as ONNX and the Open Inference Protocol spell them, and the typed array class that
// carries each. JavaScript has no float16, bfloat16 or bool arrays: those travel as Uint16Array /
// Uint8Array holding the raw bits, and the model's declared dtype says how to read them.

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface TypedArrayConstructor<T extends TypedArray = TypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

const constructors: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

export const DTYPES: readonly DType[] = Object.freeze(Object.keys(constructors) as DType[]);

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(constructors, value);
}

export function typedArrayConstructorFor(dtype: DType): TypedArrayConstructor {
  return constructors[dtype];
}

export function elementSize(dtype: DType): number {
  return constructors[dtype].BYTES_PER_ELEMENT;
}

export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof Uint8ClampedArray);
}

// The dtype a bare typed array most plausibly holds. Uint8Array and Uint16Array are ambiguous (bool,
// float16, bfloat16); they read as uint8 and uint16 unless the model says otherwise.
export function dtypeOfTypedArray(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int8Array) return 'int8';
  if (array instanceof Int16Array) return 'int16';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof Uint8Array) return 'uint8';
  if (array instanceof Uint16Array) return 'uint16';
  if (array instanceof Uint32Array) return 'uint32';
  return 'uint64';
}

// True when `array` is of the class that carries `dtype` (a Uint16Array carries float16, for one; a
// Node.js Buffer, being a Uint8Array, carries uint8 and bool).
export function carriesDType(array: TypedArray, dtype: DType): boolean {
  return array instanceof constructors[dtype];
}
