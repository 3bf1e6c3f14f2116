// Encodes an Open Inference Protocol v2 inference response: JSON, with any output the client asked
// for in binary appended after the JSON as raw little-endian bytes (Triton's binary tensor data
// extension), the JSON's length in Inference-Header-Content-Length.
import { endianness } from 'node:os';

import type { TypedArray } from '../engine/dtypes.js';
import type { Tensor } from '../engine/tensor.js';
import { bfloat16Value, float16Value } from './half-float.js';
import { datatypeOf } from './oip-datatypes.js';

export interface ResponseOutput {
  name: string;
  tensor: Tensor;
}

export interface EncodeResponseArgs {
  modelName: string;
  modelVersion?: string;
  id?: string;
  outputs: ResponseOutput[];
  binary: (name: string) => boolean;  // send this output as binary data?
  parameters?: Record<string, unknown>;
}

export interface EncodedResponse {
  body: Buffer;
  headers: Record<string, string>;
}

// Binary tensor data is little-endian, and it is sent as the tensors' own bytes.
if (endianness() !== 'LE') throw new Error('inferd: the binary tensor data extension needs a little-endian platform');

export function encodeInferResponse(args: EncodeResponseArgs): EncodedResponse {
  let json = `{"model_name":${JSON.stringify(args.modelName)}`;
  if (args.modelVersion !== undefined) json += `,"model_version":${JSON.stringify(args.modelVersion)}`;
  if (args.id !== undefined) json += `,"id":${JSON.stringify(args.id)}`;
  if (args.parameters !== undefined) json += `,"parameters":${JSON.stringify(args.parameters)}`;
  json += ',"outputs":[';
  const binaryParts: Buffer[] = [];
  for (const [position, { name, tensor }] of args.outputs.entries()) {
    if (position > 0) json += ',';
    json += `{"name":${JSON.stringify(name)},"datatype":"${datatypeOf(tensor.dtype)}","shape":[${tensor.dims.join(',')}]`;
    if (args.binary(name)) {
      const bytes = bytesOf(tensor.data);
      binaryParts.push(bytes);
      json += `,"parameters":{"binary_data_size":${bytes.length}}}`;
    } else {
      json += `,"data":[${jsonElements(tensor)}]}`;
    }
  }
  json += ']}';

  if (binaryParts.length === 0) return { body: Buffer.from(json, 'utf8'), headers: { 'Content-Type': 'application/json' } };
  const header = Buffer.from(json, 'utf8');
  // One copy of each tensor, into the body. The tensors may live in memory the engine reuses for
  // its next batch, so the body must not keep views of them.
  return {
    body: Buffer.concat([header, ...binaryParts]),
    headers: {
      'Content-Type': 'application/octet-stream',
      'Inference-Header-Content-Length': String(header.length),
    },
  };
}

function bytesOf(data: TypedArray): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

// The elements as JSON text, comma-separated. Typed arrays' join() writes each element as the
// shortest decimal that reads back to the same double: exact for integers (INT64 too, as Triton
// writes them: JSON numbers, all digits), and for float32 a double that Math.fround maps back to the
// same float32. join() loses the sign of -0 and writes NaN and Infinity, which JSON lacks: floats
// with any of those are written one by one (-0 as -0; NaN and infinities as null, as JSON.stringify
// writes them).
function jsonElements(tensor: Tensor): string {
  switch (tensor.dtype) {
    case 'bool':
      return booleans(tensor.data as Uint8Array);
    case 'float16':
      return floats(Float64Array.from(tensor.data as Uint16Array, float16Value));
    case 'bfloat16':
      return floats(Float64Array.from(tensor.data as Uint16Array, bfloat16Value));
    case 'float32':
    case 'float64':
      return floats(tensor.data as Float32Array | Float64Array);
    default:
      return tensor.data.join(',');
  }
}

function booleans(data: Uint8Array): string {
  let text = '';
  for (let k = 0; k < data.length; k++) text += k === 0 ? (data[k] ? 'true' : 'false') : data[k] ? ',true' : ',false';
  return text;
}

function floats(data: Float32Array | Float64Array): string {
  let unusual = false;
  for (let k = 0; k < data.length; k++) {
    const value = data[k] as number;
    // Infinity - Infinity and NaN - NaN are NaN; 1 / -0 is -Infinity.
    if (value - value !== 0 || (value === 0 && 1 / value < 0)) {
      unusual = true;
      break;
    }
  }
  if (!unusual) return data.join(',');
  return Array.from(data, (value) => (Object.is(value, -0) ? '-0' : Number.isFinite(value) ? String(value) : 'null')).join(',');
}
