// Parses the number text of a NumberRun straight into a typed array of the input's datatype: one
// pass over the bytes, checking the JSON number grammar as it goes; no JS array, no string per
// number. Every element comes out exactly as JSON.parse followed by a typed array store
// (Math.fround for FP32) would give it, with the same checks as oip-elements.ts; the rare token this
// code cannot convert exactly on its own goes through Number() on its text.
//
// Why the shortcuts are exact: a token is read as ±mantissa × 10^exponent, its significant digits in
// `mantissa`. With at most 15 digits the mantissa is an exact double, and so is 10^k for k ≤ 22; one
// IEEE multiply or divide then rounds once, correctly (Clinger's fast path), which is what Number()
// gives. FP32 needs less: the float32 nearest to the correctly rounded double. With up to 18 digits
// (float32 values printed as doubles have up to 17) the computed value is within 2^-50 of the true
// one; if every double within 2^-48 of it rounds to the same float32, that float32 is the answer.
// Only a value within a hair of a float32 rounding boundary falls back to Number(). Tokens longer
// than that (FP64 values printed in full, say) send the rest of the run to JSON.parse.
//
// INT64 elements are written as two 32-bit halves, little-endian: like the binary tensor data
// extension (see oip-response.ts), this assumes a little-endian platform.
import type { TypedArray } from '../engine/dtypes.js';
import type { OipDatatype } from './oip-datatypes.js';
import { INTEGER_RANGES, checkedBigInt, elementError, isBigIntDatatype, numberElement } from './oip-elements.js';
import type { NumberRun } from './request-json.js';

// The run's text is not a list of JSON numbers after all ([1, true], or malformed JSON): the request
// decoder starts over from JSON.parse, which either reads it or names the syntax error.
export class NotNumberText extends Error {}

const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);  // exact doubles up to 1e22
const BELOW = 1 - 2 ** -48;
const ABOVE = 1 + 2 ** -48;
const TWO_TO_32 = 4294967296;

const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const CLOSE_BRACKET = 0x5d;

// How a datatype's elements are stored, decided once per run rather than per element.
const enum Store {
  Float32,
  Float64,
  Integer,  // up to 32 bits, range-checked
  Int64,    // INT64, UINT64
  Other,    // BOOL, FP16, BF16: through numberElement
  Nothing,  // only count
}

function storeFor(datatype: OipDatatype): Store {
  if (datatype === 'FP32') return Store.Float32;
  if (datatype === 'FP64') return Store.Float64;
  if (isBigIntDatatype(datatype)) return Store.Int64;
  if (INTEGER_RANGES[datatype] !== undefined) return Store.Integer;
  return Store.Other;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function notNumbers(): never {
  throw new NotNumberText();
}

// The digits readDigits has read, as a double: exact up to 15 digits (2^53 > 10^15), and within a
// few roundings of the true value up to 18. Module state, so that readDigits can also return where
// it stopped without allocating.
let mantissa = 0;

// Reads the digits from `pos` on into `mantissa` (appending to it) and returns the position of the
// first non-digit. Four digits at a time where it can: one 32-bit load, a check that all four bytes
// are '0'-'9', and two multiply-adds to combine them (SWAR: SIMD within a register), instead of
// four byte loads, eight comparisons and four dependent multiply-adds.
function readDigits(bytes: Uint8Array, view: DataView, pos: number, end: number): number {
  let m = mantissa;
  while (pos + 4 <= end) {
    const word = view.getInt32(pos, true);  // bytes pos..pos+3; the first digit in the low byte
    if ((word & 0xf0f0f0f0) !== 0x30303030 || (((word + 0x06060606) | 0) & 0xf0f0f0f0) !== 0x30303030) break;
    const digitsBytes = word - 0x30303030;                                  // [d0, d1, d2, d3]
    const pairs = (digitsBytes * 10 + (digitsBytes >>> 8)) & 0x00ff00ff;   // [10·d0 + d1, 10·d2 + d3]
    m = m * 10000 + ((pairs * 100 + (pairs >>> 16)) & 0x3fff);
    pos += 4;
  }
  let c = bytes[pos] as number;
  while (c >= ZERO && c <= NINE) {
    m = m * 10 + (c - ZERO);
    c = bytes[++pos] as number;
  }
  mantissa = m;
  return pos;
}

// Writes the run's elements to out[offset...] and returns how many there are. It stops at limit + 1
// (returning that), so that text with more numbers than the shape wants never writes past `out`.
// `subject` names the input in messages.
export function decodeNumberRun(run: NumberRun, datatype: OipDatatype, out: TypedArray, offset: number, limit: number, subject: string): number {
  return walkRun(run, storeFor(datatype), datatype, out, offset, limit, subject);
}

// How many numbers the run holds, checking them as a decode would (for messages about a count).
export function countNumberRun(run: NumberRun): number {
  return walkRun(run, Store.Nothing, 'FP64', new Float64Array(0), 0, Infinity, '');
}

// The most numbers the run's text could hold: each takes a digit and a separator.
export function maxNumbersIn(run: NumberRun): number {
  return Math.floor((run.end - run.start - 1) / 2);
}

function walkRun(run: NumberRun, store: Store, datatype: OipDatatype, out: TypedArray, offset: number, limit: number, subject: string): number {
  const bytes = run.bytes;
  const range = INTEGER_RANGES[datatype as keyof typeof INTEGER_RANGES] ?? [0, 0];
  const words = store === Store.Int64 ? new Uint32Array(out.buffer, out.byteOffset, out.length * 2) : undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // run.bytes[run.end - 1] is the run's ']', and no token or separator reads past a ']'.
  let pos = run.start + 1;
  let c = bytes[pos] as number;
  while (isWhitespace(c)) c = bytes[++pos] as number;
  if (c === CLOSE_BRACKET) return 0;
  let count = 0;
  for (;;) {
    // One token: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, as ±mantissa × 10^exponent.
    const tokenStart = pos;
    const negative = c === MINUS;
    if (negative) c = bytes[++pos] as number;
    let digits = 0;  // significant digits (leading zeros do not count)
    let exponent = 0;
    let integral = true;
    mantissa = 0;
    if (c === ZERO) {
      c = bytes[++pos] as number;
      if (isDigit(c)) notNumbers();
    } else if (c > ZERO && c <= NINE) {
      const start = pos;
      pos = readDigits(bytes, view, pos, run.end);
      digits = pos - start;
      c = bytes[pos] as number;
    } else {
      notNumbers();
    }
    if (c === DOT) {
      integral = false;
      c = bytes[++pos] as number;
      if (!isDigit(c)) notNumbers();
      if (digits === 0) {
        const start = pos;
        while (c === ZERO) c = bytes[++pos] as number;
        exponent -= pos - start;
      }
      const start = pos;
      pos = readDigits(bytes, view, pos, run.end);
      digits += pos - start;
      exponent -= pos - start;
      c = bytes[pos] as number;
    }
    if (c === 0x65 || c === 0x45) {
      integral = false;
      c = bytes[++pos] as number;
      let sign = 1;
      if (c === MINUS) {
        sign = -1;
        c = bytes[++pos] as number;
      } else if (c === PLUS) {
        c = bytes[++pos] as number;
      }
      if (!isDigit(c)) notNumbers();
      let written = 0;
      do {
        if (written < 1e6) written = written * 10 + (c - ZERO);  // already far past any double's range
        c = bytes[++pos] as number;
      } while (isDigit(c));
      exponent += sign * written;
    }
    const tokenEnd = pos;

    if (count === limit) return limit + 1;
    const index = offset + count;
    const exact = digits <= 15 && exponent >= -22 && exponent <= 22;
    // When exact: the token's value, as Number() reads it.
    const magnitude = !exact ? 0 : exponent < 0 ? mantissa / (POWERS_OF_TEN[-exponent] as number) : mantissa * (POWERS_OF_TEN[exponent] as number);
    switch (store) {
      case Store.Float32: {
        let value: number;
        if (exact) {
          value = Math.fround(negative ? -magnitude : magnitude);
        } else if (digits > 18 || exponent < -44 || exponent > 44) {
          // Numbers written with more digits than float32 values need: likely all of them are.
          return count + storeRestParsed(bytes, tokenStart, run.end, store, datatype, out, index, limit - count, subject);
        } else {
          value = nearestFloat32(mantissa, exponent);
          if (Number.isNaN(value)) value = Math.fround(Number(textOf(bytes, tokenStart, tokenEnd)));
          else if (negative) value = -value;
        }
        if (value - value !== 0) {  // ±Infinity: JSON cannot write one, so the number overflowed FP32
          throw elementError(subject, index, textOf(bytes, tokenStart, tokenEnd), "beyond FP32's range (±3.4028235e38)");
        }
        (out as Float32Array)[index] = value;
        break;
      }
      case Store.Float64: {
        // Doubles printed in full (17 digits) are past the fast path; JSON.parse reads them faster
        // than a Number() per token would.
        if (!exact) return count + storeRestParsed(bytes, tokenStart, run.end, store, datatype, out, index, limit - count, subject);
        (out as Float64Array)[index] = negative ? -magnitude : magnitude;
        break;
      }
      case Store.Integer: {
        if (integral && digits <= 15) {
          const value = negative ? -mantissa : mantissa;
          if (value < range[0] || value > range[1]) numberElement(value, datatype as 'INT32', index, subject, textOf(bytes, tokenStart, tokenEnd));
          (out as Int32Array)[index] = value;
        } else {
          const text = textOf(bytes, tokenStart, tokenEnd);
          (out as Int32Array)[index] = numberElement(Number(text), datatype as 'INT32', index, subject, text);
        }
        break;
      }
      case Store.Int64: {
        const unsigned = datatype === 'UINT64';
        if (integral && digits <= 15 && !(negative && unsigned && mantissa !== 0)) {
          // Into the two little-endian 32-bit halves directly: a bigint per element would allocate.
          const value = negative ? -mantissa : mantissa;
          const high = Math.floor(value / TWO_TO_32);
          (words as Uint32Array)[2 * index] = value - high * TWO_TO_32;
          (words as Uint32Array)[2 * index + 1] = high;  // modulo 2^32: two's complement when negative
        } else {
          const text = textOf(bytes, tokenStart, tokenEnd);
          const value = integral ? BigInt(text) : exactInteger(text);
          if (value === undefined) throw elementError(subject, index, text, `not an integer (${datatype})`);
          (out as BigInt64Array)[index] = checkedBigInt(value, unsigned ? 'UINT64' : 'INT64', index, subject, text);
        }
        break;
      }
      case Store.Other: {
        const value = exact ? (negative ? -magnitude : magnitude) : Number(textOf(bytes, tokenStart, tokenEnd));
        let stored: number;
        try {
          stored = numberElement(value, datatype as 'BOOL', index, subject);
        } catch {
          // Say it again with the client's own text for the number (1e39, not 1e+39).
          stored = numberElement(value, datatype as 'BOOL', index, subject, textOf(bytes, tokenStart, tokenEnd));
        }
        (out as Uint16Array)[index] = stored;
        break;
      }
      case Store.Nothing:
        break;
    }
    count++;

    while (isWhitespace(c)) c = bytes[++pos] as number;
    if (c === CLOSE_BRACKET) {
      if (pos !== run.end - 1) notNumbers();
      return count;
    }
    if (c !== COMMA) notNumbers();
    c = bytes[++pos] as number;
    while (isWhitespace(c)) c = bytes[++pos] as number;
  }
}

// The float32 nearest to the decimal mantissa × 10^exponent (mantissa of at most 18 digits, within
// two roundings; |exponent| ≤ 44), when the approximation below settles it (at most two more
// roundings); NaN when Number() must decide.
function nearestFloat32(mantissa: number, exponent: number): number {
  let approximation: number;
  if (exponent < -22) approximation = mantissa / 1e22 / (POWERS_OF_TEN[-22 - exponent] as number);
  else if (exponent < 0) approximation = mantissa / (POWERS_OF_TEN[-exponent] as number);
  else if (exponent <= 22) approximation = mantissa * (POWERS_OF_TEN[exponent] as number);
  else approximation = mantissa * 1e22 * (POWERS_OF_TEN[exponent - 22] as number);
  const low = Math.fround(approximation * BELOW);
  return low === Math.fround(approximation * ABOVE) ? low : Number.NaN;
}

// The rest of a FP32 or FP64 run, from the token at `start`, through JSON.parse; returns how many
// elements it held (at most limit + 1, like walkRun).
function storeRestParsed(
  bytes: Uint8Array,
  start: number,
  end: number,
  store: Store,
  datatype: OipDatatype,
  out: TypedArray,
  offset: number,
  limit: number,
  subject: string,
): number {
  const text = textOf(bytes, start, end);
  let values: unknown;
  try {
    values = JSON.parse(`[${text}`);
  } catch {
    notNumbers();
  }
  if (!Array.isArray(values)) return notNumbers();
  const count = Math.min(values.length, limit + 1);
  for (let k = 0; k < count && k < limit; k++) {
    const value = values[k] as unknown;
    if (typeof value !== 'number') notNumbers();
    const stored = store === Store.Float32 ? Math.fround(value) : value;
    if (stored - stored !== 0) {
      const limits = store === Store.Float32 ? '±3.4028235e38' : '±1.7976931348623157e308';
      const token = text.slice(0, -1).split(',')[k]?.trim() ?? String(value);  // the client's text: 1e400, not Infinity
      throw elementError(subject, offset + k, token, `beyond ${datatype}'s range (${limits})`);
    }
    (out as Float32Array | Float64Array)[offset + k] = stored;
  }
  return count;
}

function textOf(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end);
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
