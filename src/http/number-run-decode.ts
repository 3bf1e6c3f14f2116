// Parses the number text of a NumberRun straight into a typed array of the input's datatype: no JS
// array, no string per number. Every element comes out exactly as JSON.parse followed by a typed
// array store (Math.fround for FP32) would give it, with the same checks as oip-elements.ts; the
// rare token this code cannot convert exactly on its own goes through Number() on its text.
//
// Why the shortcuts are exact: a token is read as digits × 10^exponent with its significant digits
// in `mantissa`. With at most 15 digits the mantissa is an exact double, and so is 10^k for k ≤ 22;
// one IEEE multiply or divide then rounds once, correctly (Clinger's fast path), which is what
// Number() gives. FP32 needs less than that: the float32 nearest to the correctly rounded double.
// With up to 19 digits (float32 values printed as doubles have 17) the product is within 2^-49 of
// the true value; if every double within 2^-48 of it rounds to the same float32, that float32 is
// the answer, and only a value within a hair of a float32 rounding boundary falls back to Number().
import type { TypedArray } from '../engine/dtypes.js';
import type { NumberRun } from './request-json.js';
import type { OipDatatype } from './oip-datatypes.js';
import { type BigIntDatatype, INTEGER_RANGES, checkedBigInt, elementError, numberElement } from './oip-elements.js';

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);  // exact doubles up to 1e22
const BELOW = 1 - 2 ** -48;
const ABOVE = 1 + 2 ** -48;
const TWO_TO_32 = 4294967296;

// The token scanToken last read. Module state rather than a returned object: no allocation per number.
let mantissa = 0;    // significant digits, as a double (exact up to 15 digits)
let digits = 0;      // how many significant digits (leading zeros excluded)
let exponent = 0;    // value = ±mantissa × 10^exponent
let negative = false;
let integral = true;  // no fraction and no exponent part
let tokenStart = 0;

// Reads the number token at or after `pos` (skipping separators) and returns the position after it.
// The run's text has been checked already: every token is valid, and ']' ends the run.
function scanToken(bytes: Uint8Array, pos: number): number {
  let c = bytes[pos] as number;
  while (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++pos] as number;
  tokenStart = pos;
  negative = c === 0x2d;
  if (negative) c = bytes[++pos] as number;
  let m = 0;
  let n = 0;
  let e = 0;
  while (c >= 0x30 && c <= 0x39) {
    if (n > 0 || c !== 0x30) {
      m = m * 10 + (c - 0x30);
      n++;
    }
    c = bytes[++pos] as number;
  }
  integral = true;
  if (c === 0x2e) {
    integral = false;
    c = bytes[++pos] as number;
    while (c >= 0x30 && c <= 0x39) {
      if (n > 0 || c !== 0x30) {
        m = m * 10 + (c - 0x30);
        n++;
      }
      e--;
      c = bytes[++pos] as number;
    }
  }
  if (c === 0x65 || c === 0x45) {
    integral = false;
    c = bytes[++pos] as number;
    let sign = 1;
    if (c === 0x2d) {
      sign = -1;
      c = bytes[++pos] as number;
    } else if (c === 0x2b) {
      c = bytes[++pos] as number;
    }
    let written = 0;
    while (c >= 0x30 && c <= 0x39) {
      if (written < 1e6) written = written * 10 + (c - 0x30);  // far past any double's range
      c = bytes[++pos] as number;
    }
    e += sign * written;
  }
  mantissa = m;
  digits = n;
  exponent = e;
  return pos;
}

function tokenText(bytes: Uint8Array, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', tokenStart, end);
}

// The token as the correctly rounded double, as Number() reads it.
function tokenDouble(bytes: Uint8Array, end: number): number {
  if (digits <= 15 && exponent >= -22 && exponent <= 22) {
    const magnitude = exponent < 0 ? mantissa / (POWERS_OF_TEN[-exponent] as number) : mantissa * (POWERS_OF_TEN[exponent] as number);
    return negative ? -magnitude : magnitude;
  }
  return Number(tokenText(bytes, end));
}

// The token as Math.fround(Number(token)).
function tokenFloat32(bytes: Uint8Array, end: number): number {
  if (digits <= 15 && exponent >= -22 && exponent <= 22) {
    const magnitude = exponent < 0 ? mantissa / (POWERS_OF_TEN[-exponent] as number) : mantissa * (POWERS_OF_TEN[exponent] as number);
    return Math.fround(negative ? -magnitude : magnitude);
  }
  if (digits <= 19 && exponent >= -44 && exponent <= 44) {
    let approximation: number;
    if (exponent < -22) approximation = mantissa / 1e22 / (POWERS_OF_TEN[-22 - exponent] as number);
    else if (exponent < 0) approximation = mantissa / (POWERS_OF_TEN[-exponent] as number);
    else if (exponent <= 22) approximation = mantissa * (POWERS_OF_TEN[exponent] as number);
    else approximation = mantissa * 1e22 * (POWERS_OF_TEN[exponent - 22] as number);
    const low = Math.fround(approximation * BELOW);
    if (low === Math.fround(approximation * ABOVE)) return negative ? -low : low;
  }
  return Math.fround(Number(tokenText(bytes, end)));
}

// Writes the run's `run.count` elements to out[offset...]. `subject` names the input in messages.
export function decodeNumberRun(run: NumberRun, datatype: OipDatatype, out: TypedArray, offset: number, subject: string): void {
  switch (datatype) {
    case 'FP32':
      return decodeFloat32(run, out as Float32Array, offset, subject);
    case 'INT64':
    case 'UINT64':
      return decodeInt64(run, datatype, out as BigInt64Array | BigUint64Array, offset, subject);
    default:
      return decodeOther(run, datatype, out as Exclude<TypedArray, BigInt64Array | BigUint64Array>, offset, subject);
  }
}

function decodeFloat32(run: NumberRun, out: Float32Array, offset: number, subject: string): void {
  const bytes = run.bytes;
  let pos = run.start + 1;
  for (let k = 0; k < run.count; k++) {
    pos = scanToken(bytes, pos);
    const value = tokenFloat32(bytes, pos);
    if (value - value !== 0) {  // ±Infinity: JSON has no way to write a non-finite number
      throw elementError(subject, offset + k, tokenText(bytes, pos), "beyond FP32's range (±3.4028235e38)");
    }
    out[offset + k] = value;
  }
}

// Integers up to 2^53 go into the two 32-bit halves of each element directly (the platform is
// little-endian, as the binary protocol is): a bigint per element would allocate.
function decodeInt64(run: NumberRun, datatype: BigIntDatatype, out: BigInt64Array | BigUint64Array, offset: number, subject: string): void {
  const bytes = run.bytes;
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  let pos = run.start + 1;
  for (let k = 0; k < run.count; k++) {
    pos = scanToken(bytes, pos);
    const index = offset + k;
    if (integral && digits <= 15 && !(negative && datatype === 'UINT64' && mantissa !== 0)) {
      const value = negative ? -mantissa : mantissa;
      const high = Math.floor(value / TWO_TO_32);
      words[2 * index] = value - high * TWO_TO_32;
      words[2 * index + 1] = high;  // stored modulo 2^32: two's complement for negatives
    } else if (integral) {
      const text = tokenText(bytes, pos);
      out[index] = checkedBigInt(BigInt(text), datatype, index, subject, text);
    } else {
      // 1.0 or 1e3: an integer written unusually, read exactly all the same.
      const text = tokenText(bytes, pos);
      const value = exactInteger(text);
      if (value === undefined) throw elementError(subject, index, text, `not an integer (${datatype})`);
      out[index] = checkedBigInt(value, datatype, index, subject, text);
    }
  }
}

// The integer a number token with a fraction or an exponent stands for, exactly (2.5e1 is 25);
// undefined if it is not an integer. Magnitudes past 10^40, far outside any 64-bit range, come out
// as ±10^40 rather than as a bigint with a million digits.
function exactInteger(text: string): bigint | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const significant = `${whole}${fraction}`.replace(/^0+/, '');
  if (significant === '') return 0n;
  const digitsText = significant.replace(/0+$/, '');
  const scale = Number(exponentText) - fraction.length + (significant.length - digitsText.length);
  if (scale < 0) return undefined;
  const magnitude = digitsText.length + scale > 40 ? 10n ** 40n : BigInt(digitsText) * 10n ** BigInt(scale);
  return sign === '-' ? -magnitude : magnitude;
}

function decodeOther(
  run: NumberRun,
  datatype: Exclude<OipDatatype, 'FP32' | BigIntDatatype>,
  out: Exclude<TypedArray, BigInt64Array | BigUint64Array>,
  offset: number,
  subject: string,
): void {
  const bytes = run.bytes;
  const range = INTEGER_RANGES[datatype];
  let pos = run.start + 1;
  for (let k = 0; k < run.count; k++) {
    pos = scanToken(bytes, pos);
    const index = offset + k;
    if (range !== undefined && integral && digits <= 15) {
      const value = negative ? -mantissa : mantissa;
      if (value < range[0] || value > range[1]) numberElement(value, datatype, index, subject, tokenText(bytes, pos));
      out[index] = value;
    } else {
      const value = tokenDouble(bytes, pos);
      try {
        out[index] = numberElement(value, datatype, index, subject);
      } catch {
        // Say it again with the client's own text for the number (1e39, not 1e+39).
        numberElement(value, datatype, index, subject, tokenText(bytes, pos));
      }
    }
  }
}
