// A JSON parser for the inference request header that leaves each input's `data` numbers as text.
//
// JSON.parse turns a 784-float `data` array into 784 JS numbers, which are then copied once more into
// a Float32Array; most of a small request's decode time goes there. This parser builds the request
// object as JSON.parse would, except that an array under `inputs[i].data` (or nested in it) that
// starts with a number becomes a NumberRun: the byte range of its text, up to the first ']'. Its
// numbers are parsed (and their grammar checked) in one pass by number-run-decode.ts, straight into a
// typed array of the input's datatype, which is only known later (JSON objects are unordered:
// `datatype` may come after `data`). Keeping the text also keeps INT64 values exact, where a JS
// number would round them past 2^53.
//
// Anything this parser rejects goes to JSON.parse instead, so the client hears V8's own message for
// malformed JSON, and a request this parser mishandled still decodes (with plain JS arrays). A run
// whose text turns out not to be numbers ([1, true], [1, "a]"]) sends the decoder to JSON.parse too.
import { badRequest } from './http-error.js';

// The text of what should be a JSON array of numbers: bytes[start] is '[', bytes[end - 1] is the
// first ']' after it.
export class NumberRun {
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}
}

// The request's JSON, with NumberRuns where the data allows; JSON.parse's reading if this parser
// stumbles (and a 400 if JSON.parse does too).
export function parseRequestJson(body: Uint8Array, end: number): unknown {
  // A header with no tensor data (a binary-extension request's JSON part, typically) has no numbers
  // to keep as text, and JSON.parse reads it in less than half this parser's time.
  if (!mayHoldTensorData(body, end)) return parseWithJsonParse(body, end);
  try {
    return new Parser(body, end).document();
  } catch {
    // Malformed JSON (the usual case here), or something this parser does not handle (a nesting
    // deep enough to exhaust the stack): JSON.parse decides.
    return parseWithJsonParse(body, end);
  }
}

// False only when the JSON certainly has no `data` member: neither the bytes "data" nor an escape
// (which could spell the key another way) occur in it.
function mayHoldTensorData(body: Uint8Array, end: number): boolean {
  const json = Buffer.from(body.buffer, body.byteOffset, end);
  return json.indexOf('"data"') >= 0 || json.indexOf(BACKSLASH) >= 0;
}

// The first `end` bytes of the body through JSON.parse; a 400 naming the problem if it is not JSON.
export function parseWithJsonParse(body: Uint8Array, end: number): unknown {
  const text = Buffer.from(body.buffer, body.byteOffset, end).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

class SyntaxFault extends Error {}

// Where a value sits, which decides whether an array under it may become a NumberRun.
const enum Place {
  Root,    // the request object: its `inputs` array holds the input objects
  Inputs,  // the `inputs` array
  Input,   // one input object: its `data` array is tensor data
  Data,    // tensor data: arrays of numbers become NumberRuns
  Other,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

class Parser {
  private pos = 0;
  private readonly text: Buffer;  // the same bytes, for Buffer's string decoding

  constructor(
    private readonly bytes: Uint8Array,
    private readonly end: number,
  ) {
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, end);
  }

  document(): unknown {
    const value = this.value(Place.Root);
    this.skipWhitespace();
    if (this.pos !== this.end) this.fail();
    return value;
  }

  private fail(): never {
    throw new SyntaxFault();
  }

  // The byte at `pos`, or -1 past the end of the JSON (binary tensor data may follow it).
  private peek(): number {
    return this.pos < this.end ? (this.bytes[this.pos] as number) : -1;
  }

  private skipWhitespace(): void {
    const bytes = this.bytes;
    let pos = this.pos;
    while (pos < this.end && isWhitespace(bytes[pos] as number)) pos++;
    this.pos = pos;
  }

  private value(place: Place): unknown {
    this.skipWhitespace();
    const c = this.peek();
    if (c === OPEN_BRACE) return this.object(place);
    if (c === OPEN_BRACKET) return place === Place.Data ? this.dataArray() : this.array(place === Place.Inputs ? Place.Input : Place.Other);
    if (c === QUOTE) return this.string();
    if (c === MINUS || isDigit(c)) return this.number();
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    return this.fail();
  }

  private object(place: Place): Record<string, unknown> {
    this.pos++;  // '{'
    const result: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.peek() === CLOSE_BRACE) {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== QUOTE) this.fail();
      const key = this.string();
      this.skipWhitespace();
      if (this.peek() !== COLON) this.fail();
      this.pos++;
      const value = this.value(childPlace(place, key));
      // JSON.parse makes "__proto__" an own property; plain assignment would set the prototype.
      if (key === '__proto__') Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      else result[key] = value;
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c === CLOSE_BRACE) return result;
      if (c !== COMMA) this.fail();
    }
  }

  // An array whose elements are `place`d values (Input for the `inputs` array, Other elsewhere).
  private array(elementPlace: Place): unknown[] {
    this.pos++;  // '['
    const result: unknown[] = [];
    this.skipWhitespace();
    if (this.peek() === CLOSE_BRACKET) {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.value(elementPlace));
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c === CLOSE_BRACKET) return result;
      if (c !== COMMA) this.fail();
    }
  }

  // Tensor data: a NumberRun for an array of numbers, an array of these for nested data, and a
  // plain array for anything else (booleans, or mistakes the tensor decoder will name).
  private dataArray(): unknown {
    const start = this.pos;
    this.pos++;  // '['
    this.skipWhitespace();
    const first = this.peek();
    if (first === MINUS || isDigit(first)) {
      const run = this.numberRun(start);
      if (run !== undefined) return run;
    } else if (first === OPEN_BRACKET) {
      const rows = this.nestedData();
      if (rows !== undefined) return rows;
    }
    this.pos = start;
    return this.array(Place.Other);
  }

  private nestedData(): unknown[] | undefined {
    const rows: unknown[] = [];
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== OPEN_BRACKET) return undefined;
      rows.push(this.dataArray());
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c === CLOSE_BRACKET) return rows;
      if (c !== COMMA) this.fail();
    }
  }

  // The text up to the first ']', for number-run-decode.ts to read (and check). With no string in
  // it, that ']' closes this array or one nested in it; in the second case the run is rejected later
  // and, before that, the parse of what follows fails. A string is left to the plain array parser:
  // its ']' would end the run inside the string (the parse after it would fail too, as its quotes
  // pair up the wrong way, but that is subtler than this check).
  private numberRun(start: number): NumberRun | undefined {
    const close = this.text.indexOf(CLOSE_BRACKET, this.pos);
    if (close < 0) return undefined;
    const quote = this.text.indexOf(QUOTE, this.pos);
    if (quote >= 0 && quote < close) return undefined;
    this.pos = close + 1;
    return new NumberRun(this.bytes, start, close + 1);
  }

  private number(): number {
    const start = this.pos;
    const bytes = this.bytes;
    const end = this.end;
    let pos = start;
    if (bytes[pos] === MINUS) pos++;
    if (pos < end && bytes[pos] === ZERO) pos++;
    else if (pos < end && isDigit(bytes[pos] as number)) {
      while (pos < end && isDigit(bytes[pos] as number)) pos++;
    } else this.fail();
    if (pos < end && bytes[pos] === DOT) {
      pos++;
      if (!(pos < end && isDigit(bytes[pos] as number))) this.fail();
      while (pos < end && isDigit(bytes[pos] as number)) pos++;
    }
    if (pos < end && (bytes[pos] === 0x65 || bytes[pos] === 0x45)) {
      pos++;
      if (pos < end && (bytes[pos] === PLUS || bytes[pos] === MINUS)) pos++;
      if (!(pos < end && isDigit(bytes[pos] as number))) this.fail();
      while (pos < end && isDigit(bytes[pos] as number)) pos++;
    }
    this.pos = pos;
    return Number(this.text.toString('latin1', start, pos));
  }

  private string(): string {
    const bytes = this.bytes;
    const end = this.end;
    let pos = this.pos + 1;  // past '"'
    let segmentStart = pos;
    let result = '';
    for (;;) {
      if (pos >= end) this.fail();
      const c = bytes[pos] as number;
      if (c === QUOTE) break;
      if (c < 0x20) this.fail();  // control characters must be escaped
      if (c !== BACKSLASH) {
        pos++;
        continue;
      }
      result += this.text.toString('utf8', segmentStart, pos);
      if (pos + 1 >= end) this.fail();
      const escape = bytes[pos + 1] as number;
      pos += 2;
      switch (escape) {
        case QUOTE: result += '"'; break;
        case BACKSLASH: result += '\\'; break;
        case 0x2f: result += '/'; break;
        case 0x62: result += '\b'; break;
        case 0x66: result += '\f'; break;
        case 0x6e: result += '\n'; break;
        case 0x72: result += '\r'; break;
        case 0x74: result += '\t'; break;
        case 0x75: {
          // \uXXXX: one UTF-16 code unit; a surrogate pair arrives as two escapes, which
          // concatenate into the pair (and a lone surrogate stays lone, as with JSON.parse).
          if (pos + 4 > end) this.fail();
          let unit = 0;
          for (let k = 0; k < 4; k++) {
            const digit = hexValue(bytes[pos + k] as number);
            if (digit < 0) this.fail();
            unit = unit * 16 + digit;
          }
          result += String.fromCharCode(unit);
          pos += 4;
          break;
        }
        default:
          this.fail();
      }
      segmentStart = pos;
    }
    result += this.text.toString('utf8', segmentStart, pos);
    this.pos = pos + 1;
    return result;
  }

  private literal<T>(word: string, value: T): T {
    for (let k = 0; k < word.length; k++) {
      if (this.pos + k >= this.end || this.bytes[this.pos + k] !== word.charCodeAt(k)) this.fail();
    }
    this.pos += word.length;
    return value;
  }
}

function childPlace(place: Place, key: string): Place {
  if (place === Place.Root && key === 'inputs') return Place.Inputs;
  if (place === Place.Input && key === 'data') return Place.Data;
  return Place.Other;
}

// The value of a hexadecimal digit, or -1.
function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
