// One tensor element as a JSON request writes it, checked against its datatype and turned into the
// value its typed array stores: 0/1 for BOOL, the bit pattern for FP16/BF16, a bigint for INT64 and
// UINT64. Nothing is wrapped, truncated or saturated silently: a value the datatype cannot hold is
// a 400 that names the element.
import { bfloat16Bits, float16Bits } from './half-float.js';
import { badRequest, type HttpError } from './http-error.js';
import type { OipDatatype } from './oip-datatypes.js';

export type BigIntDatatype = 'INT64' | 'UINT64';
export type NumberDatatype = Exclude<OipDatatype, BigIntDatatype>;

export function isBigIntDatatype(datatype: OipDatatype): datatype is BigIntDatatype {
  return datatype === 'INT64' || datatype === 'UINT64';
}

// Inclusive ranges of the integer datatypes that a JS number holds exactly.
export const INTEGER_RANGES: Readonly<Partial<Record<NumberDatatype, readonly [number, number]>>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

const BIGINT_RANGES: Readonly<Record<BigIntDatatype, readonly [bigint, bigint]>> = {
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};

const FLOAT_LIMITS: Readonly<Record<'FP16' | 'BF16' | 'FP32' | 'FP64', string>> = {
  FP16: '±65504',
  BF16: '±3.3895314e38',
  FP32: '±3.4028235e38',
  FP64: '±1.7976931348623157e308',
};

// "input 'x': element 17 is 'abc', not a number"
export function elementError(subject: string, index: number, shown: string, problem: string): HttpError {
  return badRequest(`${subject}: element ${index} is ${shown}, ${problem}`);
}

// A JSON value as a message shows it.
export function showJsonValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

// The stored value of a BOOL, integer (up to 32 bits) or floating-point element. `shown` is how a
// message writes the value (the token's own text, when the caller has it).
export function numberElement(value: unknown, datatype: NumberDatatype, index: number, subject: string, shown?: string): number {
  if (datatype === 'BOOL') {
    if (value === true || value === 1) return 1;
    if (value === false || value === 0) return 0;
    throw elementError(subject, index, shown ?? showJsonValue(value), 'not a boolean (true, false, 0 or 1)');
  }
  if (typeof value !== 'number') throw elementError(subject, index, shown ?? showJsonValue(value), 'not a number');
  const range = INTEGER_RANGES[datatype];
  if (range !== undefined) {
    if (!(value >= range[0] && value <= range[1])) {
      throw elementError(subject, index, shown ?? String(value), `outside ${datatype}'s range [${range[0]}, ${range[1]}]`);
    }
    if (!Number.isInteger(value)) throw elementError(subject, index, shown ?? String(value), `not an integer (${datatype})`);
    return value;
  }
  let stored: number;
  let overflowed: boolean;
  switch (datatype) {
    case 'FP32':
      stored = Math.fround(value);
      overflowed = !Number.isFinite(stored);
      break;
    case 'FP64':
      stored = value;
      overflowed = !Number.isFinite(stored);  // JSON.parse reads 1e400 as Infinity
      break;
    case 'FP16':
      stored = float16Bits(value);
      overflowed = (stored & 0x7fff) === 0x7c00;
      break;
    default:  // BF16
      stored = bfloat16Bits(value);
      overflowed = (stored & 0x7fff) === 0x7f80;
      break;
  }
  if (overflowed) {
    const limits = FLOAT_LIMITS[datatype as keyof typeof FLOAT_LIMITS];
    throw elementError(subject, index, shown ?? String(value), `beyond ${datatype}'s range (${limits})`);
  }
  return stored;
}

// The stored value of an INT64 or UINT64 element given as a JS number. Numbers past 2^53 have
// already been rounded by whoever parsed them; the request parser keeps integer text exact and
// comes through checkedBigInt instead.
export function bigIntElement(value: unknown, datatype: BigIntDatatype, index: number, subject: string, shown?: string): bigint {
  if (typeof value !== 'number') throw elementError(subject, index, shown ?? showJsonValue(value), 'not a number');
  if (!Number.isInteger(value)) throw elementError(subject, index, shown ?? String(value), `not an integer (${datatype})`);
  return checkedBigInt(BigInt(value), datatype, index, subject, shown ?? String(value));
}

export function checkedBigInt(value: bigint, datatype: BigIntDatatype, index: number, subject: string, shown: string): bigint {
  const [min, max] = BIGINT_RANGES[datatype];
  if (value < min || value > max) throw elementError(subject, index, shown, `outside ${datatype}'s range [${min}, ${max}]`);
  return value;
}
