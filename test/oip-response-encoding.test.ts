// Encoding Open Inference Protocol v2 responses: JSON outputs for every datatype (read back exactly
// by the request decoder), binary outputs after the JSON with Inference-Header-Content-Length, and
// the headers of each kind of response.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { DType, TypedArray } from '../src/engine/dtypes.js';
import type { Tensor } from '../src/engine/tensor.js';
import { decodeInferRequest } from '../src/http/oip-request.js';
import { type EncodedResponse, encodeInferResponse } from '../src/http/oip-response.js';
import { randomFloats } from './helpers/random.js';

function tensorOf(dtype: DType, dims: number[], data: TypedArray): Tensor {
  return { dtype, dims, data };
}

function encodeJson(outputs: { name: string; tensor: Tensor }[]): EncodedResponse {
  return encodeInferResponse({ modelName: 'm', outputs, binary: () => false });
}

// A binary response split back into its JSON and the bytes of each binary output, in order.
function splitBinary(response: EncodedResponse): { header: Record<string, unknown>; outputs: { name: string; bytes: Buffer }[] } {
  const headerLength = Number(response.headers['Inference-Header-Content-Length']);
  const header = JSON.parse(response.body.subarray(0, headerLength).toString('utf8')) as Record<string, unknown>;
  const outputs: { name: string; bytes: Buffer }[] = [];
  let offset = headerLength;
  for (const output of header.outputs as { name: string; parameters?: { binary_data_size?: number } }[]) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    outputs.push({ name: output.name, bytes: response.body.subarray(offset, offset + size) });
    offset += size;
  }
  assert.equal(offset, response.body.length, 'the binary outputs fill the rest of the body exactly');
  return { header, outputs };
}

function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

// The response's outputs fed back to the request decoder as inputs: the decoder reads numbers from
// the text exactly (INT64 included), so this checks that the JSON holds every value exactly.
function decodeOutputsAsInputs(response: EncodedResponse) {
  const text = response.body.toString('utf8');
  const outputs = text.slice(text.indexOf('"outputs":') + '"outputs":'.length, -1);
  return decodeInferRequest(Buffer.from(`{"inputs":${outputs}}`), undefined).inputs;
}

describe('OIP response encoding: JSON', () => {
  it('writes model, version, id, parameters and the outputs in order, as application/json', () => {
    const response = encodeInferResponse({
      modelName: 'digits',
      modelVersion: '3',
      id: 'request-7',
      parameters: { sequence: 'x' },
      outputs: [
        { name: 'probabilities', tensor: tensorOf('float32', [1, 3], new Float32Array([0.25, 0.5, 0.25])) },
        { name: 'label', tensor: tensorOf('int64', [1], new BigInt64Array([1n])) },
      ],
      binary: () => false,
    });
    assert.deepEqual(response.headers, { 'Content-Type': 'application/json' });
    assert.deepEqual(JSON.parse(response.body.toString('utf8')), {
      model_name: 'digits',
      model_version: '3',
      id: 'request-7',
      parameters: { sequence: 'x' },
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.25, 0.5, 0.25] },
        { name: 'label', datatype: 'INT64', shape: [1], data: [1] },
      ],
    });
  });

  it('leaves out the version, id and parameters when there are none', () => {
    const response = encodeJson([{ name: 'y', tensor: tensorOf('int32', [2], new Int32Array([-1, 2])) }]);
    assert.equal(response.body.toString('utf8'), '{"model_name":"m","outputs":[{"name":"y","datatype":"INT32","shape":[2],"data":[-1,2]}]}');
  });

  it('writes INT64 and UINT64 as JSON numbers with all their digits, as Triton does', () => {
    const response = encodeJson([
      { name: 'i', tensor: tensorOf('int64', [3], new BigInt64Array([9223372036854775807n, -9223372036854775808n, 0n])) },
      { name: 'u', tensor: tensorOf('uint64', [1], new BigUint64Array([18446744073709551615n])) },
    ]);
    const text = response.body.toString('utf8');
    assert.ok(text.includes('"data":[9223372036854775807,-9223372036854775808,0]'), text);
    assert.ok(text.includes('"data":[18446744073709551615]'), text);
  });

  it('writes BOOL as true/false and FP16/BF16 as numbers', () => {
    const response = encodeJson([
      { name: 'b', tensor: tensorOf('bool', [3], new Uint8Array([1, 0, 1])) },
      { name: 'h', tensor: tensorOf('float16', [3], new Uint16Array([0x3c00, 0xc000, 0x2e66])) },
      { name: 'bf', tensor: tensorOf('bfloat16', [2], new Uint16Array([0x3f80, 0x3dcd])) },
    ]);
    const outputs = (JSON.parse(response.body.toString('utf8')) as { outputs: { data: unknown[] }[] }).outputs;
    assert.deepEqual(outputs[0]?.data, [true, false, true]);
    assert.deepEqual(outputs[1]?.data, [1, -2, 0.0999755859375]);
    assert.deepEqual(outputs[2]?.data, [1, 0.10009765625]);
  });

  it('keeps the sign of -0 and writes NaN and infinities as null', () => {
    const response = encodeJson([
      { name: 'f', tensor: tensorOf('float32', [5], new Float32Array([-0, Number.NaN, Infinity, -Infinity, 1.5])) },
      { name: 'h', tensor: tensorOf('float16', [2], new Uint16Array([0x8000, 0x7e00])) },
    ]);
    const text = response.body.toString('utf8');
    assert.ok(text.includes('"data":[-0,null,null,null,1.5]'), text);
    assert.ok(text.includes('"data":[-0,null]'), text);
    JSON.parse(text);
  });

  it('float32 values round-trip exactly', () => {
    const values = randomFloats(4096, 21).map((v, k) => v * 10 ** ((k % 60) - 30));
    const response = encodeJson([{ name: 'y', tensor: tensorOf('float32', [4096], values) }]);
    const data = (JSON.parse(response.body.toString('utf8')) as { outputs: { data: number[] }[] }).outputs[0]?.data;
    assert.deepEqual(new Float32Array(data ?? []), values);
  });
});

describe('OIP response encoding: every datatype round-trips (request JSON → tensor → response JSON → tensor)', () => {
  const cases: [string, string][] = [
    ['BOOL', '[true, false, 1, 0]'],
    ['UINT8', '[0, 1, 254, 255]'],
    ['UINT16', '[0, 1, 65534, 65535]'],
    ['UINT32', '[0, 1, 4294967294, 4294967295]'],
    ['UINT64', '[0, 1, 9007199254740993, 18446744073709551615]'],
    ['INT8', '[-128, -1, 0, 127]'],
    ['INT16', '[-32768, -1, 0, 32767]'],
    ['INT32', '[-2147483648, -1, 0, 2147483647]'],
    ['INT64', '[-9223372036854775808, -9007199254740993, 0, 9223372036854775807]'],
    ['FP16', '[[65504, -0.1], [6e-8, -0]]'],
    ['BF16', '[[3.3895313892515355e38, -0.1], [1e-40, -0]]'],
    ['FP32', '[[0.1, -3.4028234663852886e38], [1.4e-45, -0]]'],
    ['FP64', '[[0.1, -1.7976931348623157e308], [5e-324, -0]]'],
  ];
  for (const [datatype, data] of cases) {
    it(datatype, () => {
      const request = decodeInferRequest(Buffer.from(`{"inputs":[{"name":"x","datatype":"${datatype}","shape":[2,2],"data":${data}}]}`), undefined);
      const input = request.inputs[0];
      assert.ok(input && !input.raw);
      const response = encodeJson([{ name: 'x', tensor: tensorOf(input.dtype, input.shape, input.data) }]);
      const [again] = decodeOutputsAsInputs(response);
      assert.equal(again?.datatype, datatype);
      assert.deepEqual(again?.shape, [2, 2]);
      assert.deepEqual(again?.data, input.data);
      for (let k = 0; k < input.data.length; k++) assert.ok(Object.is(again?.data[k], input.data[k]), `element ${k}`);
    });
  }
});

describe('OIP response encoding: binary outputs', () => {
  it('appends binary outputs after the JSON, in output order, as application/octet-stream', () => {
    const probabilities = new Float32Array([0.125, 0.75, 0.125]);
    const label = new BigInt64Array([1n]);
    const mask = new Uint8Array([1, 0]);
    const response = encodeInferResponse({
      modelName: 'digits',
      modelVersion: '1',
      outputs: [
        { name: 'probabilities', tensor: tensorOf('float32', [1, 3], probabilities) },
        { name: 'label', tensor: tensorOf('int64', [1], label) },
        { name: 'mask', tensor: tensorOf('bool', [2], mask) },
      ],
      binary: (name) => name !== 'label',
    });
    assert.equal(response.headers['Content-Type'], 'application/octet-stream');
    const { header, outputs } = splitBinary(response);
    assert.deepEqual(header, {
      model_name: 'digits',
      model_version: '1',
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
        { name: 'label', datatype: 'INT64', shape: [1], data: [1] },
        { name: 'mask', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } },
      ],
    });
    assert.deepEqual(outputs.map((o) => o.name), ['probabilities', 'mask']);
    assert.deepEqual(outputs[0]?.bytes, bytesOf(probabilities));
    assert.deepEqual(outputs[1]?.bytes, bytesOf(mask));
  });

  it('the header length counts bytes, not characters', () => {
    const response = encodeInferResponse({
      modelName: 'modèle',
      id: 'ünïcode 😀',
      outputs: [{ name: 'y', tensor: tensorOf('float64', [1], new Float64Array([2.5])) }],
      binary: () => true,
    });
    const { header, outputs } = splitBinary(response);
    assert.equal(header.id, 'ünïcode 😀');
    assert.deepEqual(outputs[0]?.bytes, bytesOf(new Float64Array([2.5])));
  });

  it('takes the bytes of a view at an offset, and copies them out of memory the engine reuses', () => {
    const shared = new Float32Array(new SharedArrayBuffer(64));
    shared.set([9, 9, 1.5, -2, 9]);
    const view = shared.subarray(2, 4);
    const response = encodeInferResponse({ modelName: 'm', outputs: [{ name: 'y', tensor: tensorOf('float32', [2], view) }], binary: () => true });
    shared.fill(0);  // the engine's next batch writes over its slot
    const { outputs } = splitBinary(response);
    assert.deepEqual(new Float32Array(new Uint8Array(outputs[0]?.bytes ?? []).buffer), new Float32Array([1.5, -2]));
  });

  it('binary inputs come back as the same bytes from binary outputs', () => {
    const ids = new BigInt64Array([-1n, 9223372036854775807n, 42n]);
    const half = new Uint16Array([0x3c00, 0x7bff, 0x8001]);
    const head = Buffer.from(JSON.stringify({ inputs: [
      { name: 'ids', shape: [3], datatype: 'INT64', parameters: { binary_data_size: 24 } },
      { name: 'half', shape: [3], datatype: 'FP16', parameters: { binary_data_size: 6 } },
    ] }));
    const request = decodeInferRequest(Buffer.concat([head, bytesOf(ids), bytesOf(half)]), head.length);
    // The engine reads the raw bytes as the dtype's typed array; here a copy does that.
    const asTensor = (index: number, array: (bytes: ArrayBuffer) => TypedArray) => {
      const input = request.inputs[index];
      assert.ok(input?.raw);
      return tensorOf(input.dtype, input.shape, array(new Uint8Array(input.data as Uint8Array).buffer));
    };
    const response = encodeInferResponse({
      modelName: 'm',
      outputs: [
        { name: 'ids', tensor: asTensor(0, (b) => new BigInt64Array(b)) },
        { name: 'half', tensor: asTensor(1, (b) => new Uint16Array(b)) },
      ],
      binary: () => true,
    });
    const { header, outputs } = splitBinary(response);
    assert.deepEqual((header.outputs as { datatype: string }[]).map((o) => o.datatype), ['INT64', 'FP16']);
    assert.deepEqual(outputs[0]?.bytes, bytesOf(ids));
    assert.deepEqual(outputs[1]?.bytes, bytesOf(half));
  });
});
