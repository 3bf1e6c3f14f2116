// Decodes an Open Inference Protocol v2 inference request body: JSON, or JSON followed by binary
// tensor data (Triton's binary tensor data extension). Everything is checked here, so that a client
// mistake is a 400 naming the input, the field, the dimension or the value; what the model expects
// (names, dtypes, dims) is checked later, by the engine.
//
// Binary inputs are not copied: their data is a view into the body, which the engine copies once,
// into its batch slot.
import { type DType, type TypedArray, elementSize } from '../engine/dtypes.js';
import { HttpError, badRequest } from './http-error.js';
import { NotNumberText } from './number-run-decode.js';
import { dtypeOf, parseDatatype } from './oip-datatypes.js';
import { showJsonValue } from './oip-elements.js';
import { decodeJsonTensorData, elementCountOf } from './oip-tensor-data.js';
import { NumberRun, parseRequestJson, parseWithJsonParse } from './request-json.js';

export interface DecodedInput {
  name: string;
  datatype: string;
  dtype: DType;
  shape: number[];
  // raw: the tensor's little-endian bytes, a view into the body (possibly unaligned); otherwise a
  // typed array of the dtype (Uint16Array bits for float16/bfloat16, 0/1 bytes for bool).
  data: TypedArray | Uint8Array;
  raw: boolean;
}

export interface RequestedOutput {
  name: string;
  binary: boolean;  // return as binary data (its own binary_data, else the request's binary_data_output)
}

export interface DecodedRequest {
  id?: string;
  parameters: Record<string, unknown>;
  inputs: DecodedInput[];
  outputs: RequestedOutput[] | undefined;  // undefined: all of the model's outputs
  binaryDataOutputDefault: boolean;
  priority?: number;       // 1 is the most urgent; absent (or 0 in the request): the default level
  timeoutMicros?: number;  // absent (or 0 in the request): no timeout
}

type JsonObject = Record<string, unknown>;

// `headerLength` is the Inference-Header-Content-Length header's value: the length of the JSON part
// of the body, the rest being binary tensor data; undefined when absent (the whole body is JSON).
export function decodeInferRequest(body: Buffer, headerLength: number | undefined): DecodedRequest {
  const jsonLength = checkHeaderLength(body, headerLength);
  const hasHeaderLength = headerLength !== undefined;
  try {
    return decodeRequest(parseRequestJson(body, jsonLength), body, jsonLength, hasHeaderLength);
  } catch (error) {
    if (!(error instanceof NotNumberText || error instanceof HttpError)) throw error;
    // The fast parser reads the numbers of `data` only now, and may only now find the body is not
    // JSON at all: JSON.parse has the last word (a 400 naming the syntax error), before any other
    // complaint about the request.
    const request = parseWithJsonParse(body, jsonLength);
    if (error instanceof HttpError) throw error;
    // Data that is JSON but not all numbers ([1, true] for BOOL): decode it from JSON.parse's arrays.
    return decodeRequest(request, body, jsonLength, hasHeaderLength);
  }
}

function decodeRequest(request: unknown, body: Buffer, jsonLength: number, hasHeaderLength: boolean): DecodedRequest {
  if (!isJsonObject(request)) throw badRequest('request: the body must be a JSON object');

  const id = absent(request.id) ? undefined : request.id;
  if (id !== undefined && typeof id !== 'string') throw badRequest(`request: 'id' must be a string, got ${showJsonValue(id)}`);
  const parameters = optionalObject(request.parameters, "request: 'parameters'") ?? {};
  const binaryDataOutputDefault = optionalBoolean(parameters.binary_data_output, 'request: parameters.binary_data_output') ?? false;

  if (!Array.isArray(request.inputs)) throw badRequest("request: 'inputs' must be an array");
  const binaryData = new BinaryData(body, jsonLength, hasHeaderLength);
  const inputs: DecodedInput[] = [];
  const names = new Set<string>();
  for (const [position, entry] of (request.inputs as unknown[]).entries()) {
    const input = decodeInput(entry, position, binaryData);
    if (names.has(input.name)) throw badRequest(`request: input '${input.name}' is given twice`);
    names.add(input.name);
    inputs.push(input);
  }
  binaryData.checkAllTaken();

  const decoded: DecodedRequest = {
    parameters,
    inputs,
    outputs: decodeRequestedOutputs(request.outputs, binaryDataOutputDefault),
    binaryDataOutputDefault,
  };
  if (id !== undefined) decoded.id = id;
  const priority = priorityOf(parameters.priority);
  if (priority !== undefined) decoded.priority = priority;
  const timeoutMicros = timeoutOf(parameters.timeout);
  if (timeoutMicros !== undefined) decoded.timeoutMicros = timeoutMicros;
  return decoded;
}

function checkHeaderLength(body: Buffer, headerLength: number | undefined): number {
  if (headerLength === undefined) return body.length;
  if (!Number.isSafeInteger(headerLength) || headerLength < 0) {
    throw badRequest(`Inference-Header-Content-Length must be a byte count, got ${headerLength}`);
  }
  if (headerLength > body.length) {
    throw badRequest(`Inference-Header-Content-Length is ${headerLength} but the body has only ${body.length} bytes`);
  }
  return headerLength;
}

function decodeInput(entry: unknown, position: number, binaryData: BinaryData): DecodedInput {
  if (!isJsonObject(entry)) throw badRequest(`request: inputs[${position}] must be an object, got ${showJsonValue(entry)}`);
  const name = entry.name;
  if (typeof name !== 'string' || name === '') throw badRequest(`request: inputs[${position}] needs a 'name' (a non-empty string)`);
  const subject = `input '${name}'`;
  const shape = decodeShape(entry.shape, subject);
  const datatype = parseDatatype(entry.datatype, subject);
  const dtype = dtypeOf(datatype);
  const parameters = optionalObject(entry.parameters, `${subject}: 'parameters'`) ?? {};
  if (!absent(parameters.shared_memory_region)) {
    throw badRequest(`${subject}: shared-memory inputs (shared_memory_region) are not supported; send the data in the body`);
  }

  const binarySize = parameters.binary_data_size;
  if (absent(binarySize)) {
    if (absent(entry.data)) throw badRequest(`${subject}: has neither 'data' nor parameters.binary_data_size`);
    const data = decodeJsonTensorData(entry.data, shape, datatype, subject);
    return { name, datatype, dtype, shape, data, raw: false };
  }
  if (!absent(entry.data)) throw badRequest(`${subject}: has both 'data' and parameters.binary_data_size; send one`);
  if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
    throw badRequest(`${subject}: binary_data_size must be a byte count, got ${showJsonValue(binarySize)}`);
  }
  const expected = elementCountOf(shape) * elementSize(dtype);
  if (binarySize !== expected) {
    throw badRequest(`${subject}: binary_data_size ${binarySize} does not match shape [${shape.join(', ')}] of ${datatype} (${expected} bytes)`);
  }
  const data = binaryData.take(binarySize, subject);
  if (datatype === 'BOOL') checkBooleanBytes(data, subject);
  return { name, datatype, dtype, shape, data, raw: true };
}

function decodeShape(value: unknown, subject: string): number[] {
  if (value instanceof NumberRun || !Array.isArray(value)) throw badRequest(`${subject}: 'shape' must be an array of dimensions`);
  const shape: number[] = [];
  for (const [axis, dim] of (value as unknown[]).entries()) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw badRequest(`${subject}: shape[${axis}] is ${showJsonValue(dim)}, not a non-negative integer`);
    }
    shape.push(dim);
  }
  if (!Number.isSafeInteger(elementCountOf(shape))) throw badRequest(`${subject}: shape [${shape.join(', ')}] has too many elements`);
  return shape;
}

// The binary tensor data after the JSON, handed out to the binary inputs in order.
class BinaryData {
  private offset: number;

  constructor(
    private readonly body: Buffer,
    private readonly jsonLength: number,
    private readonly hasHeaderLength: boolean,
  ) {
    this.offset = jsonLength;
  }

  take(size: number, subject: string): Uint8Array {
    if (!this.hasHeaderLength) {
      throw badRequest(`${subject}: binary_data_size needs the Inference-Header-Content-Length header (the length of the JSON part of the body)`);
    }
    const left = this.body.length - this.offset;
    if (size > left) {
      const before = this.offset > this.jsonLength ? ' and the binary inputs before it' : '';
      throw badRequest(`${subject}: binary_data_size ${size} but only ${left} bytes follow the header${before}`);
    }
    const view = new Uint8Array(this.body.buffer, this.body.byteOffset + this.offset, size);
    this.offset += size;
    return view;
  }

  checkAllTaken(): void {
    if (this.offset === this.body.length) return;
    const binaryBytes = this.body.length - this.jsonLength;
    throw badRequest(`request: ${binaryBytes} bytes follow the JSON header, but the inputs' binary_data_size add up to ${this.offset - this.jsonLength}`);
  }
}

function checkBooleanBytes(bytes: Uint8Array, subject: string): void {
  for (let k = 0; k < bytes.length; k++) {
    if ((bytes[k] as number) > 1) throw badRequest(`${subject}: BOOL element ${k} is the byte ${bytes[k]}, not 0 (false) or 1 (true)`);
  }
}

function decodeRequestedOutputs(value: unknown, binaryDefault: boolean): RequestedOutput[] | undefined {
  if (absent(value)) return undefined;
  if (!Array.isArray(value)) throw badRequest("request: 'outputs' must be an array");
  // No outputs named is all of them, as when 'outputs' is absent.
  if (value.length === 0) return undefined;
  const outputs: RequestedOutput[] = [];
  const names = new Set<string>();
  for (const [position, entry] of (value as unknown[]).entries()) {
    if (!isJsonObject(entry)) throw badRequest(`request: outputs[${position}] must be an object, got ${showJsonValue(entry)}`);
    const name = entry.name;
    if (typeof name !== 'string' || name === '') throw badRequest(`request: outputs[${position}] needs a 'name' (a non-empty string)`);
    const subject = `output '${name}'`;
    if (names.has(name)) throw badRequest(`request: ${subject} is requested twice`);
    names.add(name);
    const parameters = optionalObject(entry.parameters, `${subject}: 'parameters'`) ?? {};
    if (!absent(parameters.classification)) throw badRequest(`${subject}: the classification extension is not supported`);
    if (!absent(parameters.shared_memory_region)) throw badRequest(`${subject}: shared-memory outputs (shared_memory_region) are not supported`);
    const binary = optionalBoolean(parameters.binary_data, `${subject}: parameters.binary_data`) ?? binaryDefault;
    outputs.push({ name, binary });
  }
  return outputs;
}

// Triton's `priority`: 1 is the highest level; 0 asks for the model's default.
function priorityOf(value: unknown): number | undefined {
  if (absent(value) || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`request: parameters.priority must be a positive integer (1 is the most urgent), got ${showJsonValue(value)}`);
  }
  return value;
}

// Triton's `timeout`, in microseconds; 0 means none.
function timeoutOf(value: unknown): number | undefined {
  if (absent(value) || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`request: parameters.timeout must be a positive whole number of microseconds, got ${showJsonValue(value)}`);
  }
  return value;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberRun);
}

// Optional fields may also be written as null, as some clients serialize a missing value.
function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function optionalObject(value: unknown, what: string): JsonObject | undefined {
  if (absent(value)) return undefined;
  if (!isJsonObject(value)) throw badRequest(`${what} must be an object, got ${showJsonValue(value)}`);
  return value;
}

function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`${what} must be true or false, got ${showJsonValue(value)}`);
  return value;
}
