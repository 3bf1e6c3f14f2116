// Decoding Open Inference Protocol v2 requests: every datatype from JSON, flat and nested data,
// binary inputs (Triton's binary tensor data extension), request parameters, requested outputs, and
// a 400 naming what is wrong for every mistake. The hand-written number parser must agree with
// JSON.parse (+ Math.fround for FP32) bit for bit, on every kind of JSON number.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { bfloat16Bits, bfloat16Value, float16Bits, float16Value } from '../src/http/half-float.js';
import { HttpError } from '../src/http/http-error.js';
import { type DecodedRequest, decodeInferRequest } from '../src/http/oip-request.js';
import { randomFloats, seededRandom } from './helpers/random.js';

// A JSON-only request body.
function json(request: unknown): Buffer {
  return Buffer.from(JSON.stringify(request));
}

// A JSON header followed by binary tensor data, as a client of the binary extension sends it.
function withBinary(header: unknown, ...tensors: Uint8Array[]): { body: Buffer; headerLength: number } {
  const head = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([head, ...tensors]), headerLength: head.length };
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function decodeText(text: string): DecodedRequest {
  return decodeInferRequest(Buffer.from(text), undefined);
}

// The data of a single-input request whose data array is written as `dataText`.
function decodeData(datatype: string, shape: number[], dataText: string): ArrayLike<number | bigint> {
  const request = decodeText(`{"inputs":[{"name":"x","shape":[${shape.join(',')}],"datatype":"${datatype}","data":${dataText}}]}`);
  const input = request.inputs[0];
  assert.ok(input);
  return input.data;
}

function assertBadRequest(action: () => unknown, message: string | RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof HttpError, `expected an HttpError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'INFERD_ERR_BAD_REQUEST');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

function input(name: string, datatype: string, shape: number[], data: unknown): Record<string, unknown> {
  return { name, datatype, shape, data };
}

describe('OIP request decoding: datatypes from JSON', () => {
  it('BOOL from true/false and 0/1', () => {
    const request = decodeInferRequest(json({ inputs: [input('b', 'BOOL', [4], [true, false, 1, 0])] }), undefined);
    const decoded = request.inputs[0];
    assert.equal(decoded?.dtype, 'bool');
    assert.equal(decoded?.raw, false);
    assert.deepEqual(decoded?.data, new Uint8Array([1, 0, 1, 0]));
    assert.deepEqual(decodeData('BOOL', [3], '[0, 1, 0]'), new Uint8Array([0, 1, 0]));
  });

  it('the integer datatypes up to 32 bits, at the ends of their ranges', () => {
    const cases: [string, ArrayLike<number>][] = [
      ['INT8', new Int8Array([-128, 0, 127])],
      ['INT16', new Int16Array([-32768, -1, 32767])],
      ['INT32', new Int32Array([-2147483648, 7, 2147483647])],
      ['UINT8', new Uint8Array([0, 1, 255])],
      ['UINT16', new Uint16Array([0, 1, 65535])],
      ['UINT32', new Uint32Array([0, 1, 4294967295])],
    ];
    for (const [datatype, expected] of cases) {
      assert.deepEqual(decodeData(datatype, [3], `[${Array.from(expected).join(', ')}]`), expected, datatype);
    }
    // Integers written with a fraction or an exponent are still integers.
    assert.deepEqual(decodeData('INT32', [3], '[1.0, 2e3, -3E+0]'), new Int32Array([1, 2000, -3]));
  });

  it('INT64 and UINT64 exactly, past 2^53', () => {
    assert.deepEqual(decodeData('INT64', [5], '[9223372036854775807, -9223372036854775808, 9007199254740993, -1, 0]'),
      new BigInt64Array([9223372036854775807n, -9223372036854775808n, 9007199254740993n, -1n, 0n]));
    assert.deepEqual(decodeData('UINT64', [3], '[18446744073709551615, 4294967296, 0]'),
      new BigUint64Array([18446744073709551615n, 4294967296n, 0n]));
    assert.deepEqual(decodeData('INT64', [3], '[-4294967296, -4294967297, 1e3]'), new BigInt64Array([-4294967296n, -4294967297n, 1000n]));
    // Written with a fraction or an exponent, still exact.
    assert.deepEqual(decodeData('INT64', [4], '[9.223372036854775807e18, -2.50e1, 0.0e99, 12345678901234567.0]'),
      new BigInt64Array([9223372036854775807n, -25n, 0n, 12345678901234567n]));
  });

  it('FP32 and FP64', () => {
    assert.deepEqual(decodeData('FP32', [4], '[0.1, -2.5, 1e-3, 3.4028234663852886e38]'),
      new Float32Array([0.1, -2.5, 1e-3, 3.4028234663852886e38]));
    assert.deepEqual(decodeData('FP64', [3], '[0.1, -1.7976931348623157e308, 5e-324]'),
      new Float64Array([0.1, -1.7976931348623157e308, 5e-324]));
  });

  it('FP16 and BF16 from numbers, as bit patterns', () => {
    assert.deepEqual(decodeData('FP16', [5], '[1, -2, 65504, 0.1, -0]'), new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x2e66, 0x8000]));
    assert.deepEqual(decodeData('BF16', [4], '[1, -2, 0.1, 3.140625]'), new Uint16Array([0x3f80, 0xc000, 0x3dcd, 0x4049]));
  });

  it('dtype and datatype of every OIP datatype', () => {
    const dtypes: Record<string, string> = {
      BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64', INT8: 'int8', INT16: 'int16',
      INT32: 'int32', INT64: 'int64', FP16: 'float16', FP32: 'float32', FP64: 'float64', BF16: 'bfloat16',
    };
    for (const [datatype, dtype] of Object.entries(dtypes)) {
      const decoded = decodeInferRequest(json({ inputs: [input('x', datatype, [1], [1])] }), undefined).inputs[0];
      assert.equal(decoded?.datatype, datatype);
      assert.equal(decoded?.dtype, dtype);
    }
  });
});

describe('OIP request decoding: nested data', () => {
  it('flattens data nested to follow the shape, at any depth', () => {
    assert.deepEqual(decodeData('FP32', [2, 3], '[[1, 2, 3], [4, 5, 6]]'), new Float32Array([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(decodeData('INT32', [2, 2, 2], '[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]'), new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    // Nesting may stop early: each row then holds the trailing dims flat.
    assert.deepEqual(decodeData('INT32', [2, 2, 2], '[[1, 2, 3, 4], [5, 6, 7, 8]]'), new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    assert.deepEqual(decodeData('FP32', [1, 4], '[[0.5, 0.25, 0.125, 1]]'), new Float32Array([0.5, 0.25, 0.125, 1]));
    assert.deepEqual(decodeData('BOOL', [2, 2], '[[true, false], [false, true]]'), new Uint8Array([1, 0, 0, 1]));
    assert.deepEqual(decodeData('INT64', [2, 1], '[[9223372036854775807], [-1]]'), new BigInt64Array([9223372036854775807n, -1n]));
  });

  it('flat data for any shape, scalars and empty tensors', () => {
    assert.deepEqual(decodeData('FP32', [2, 3], '[1, 2, 3, 4, 5, 6]'), new Float32Array([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(decodeData('FP32', [], '[7]'), new Float32Array([7]));
    assert.deepEqual(decodeData('FP32', [0, 3], '[]'), new Float32Array(0));
    assert.deepEqual(decodeData('FP32', [2, 0], '[[], []]'), new Float32Array(0));
  });

  it('nesting that disagrees with the shape → 400 naming the place and the dimension', () => {
    assertBadRequest(() => decodeData('FP32', [2, 3], '[[1, 2, 3], [4, 5]]'),
      "input 'x': data[1] has 2 elements; shape [2, 3] needs 3 there (dimension 1)");
    assertBadRequest(() => decodeData('FP32', [2, 2], '[[1, 2], [3, 4], [5, 6]]'),
      "input 'x': data has 3 entries, but dimension 0 of shape [2, 2] is 2");
    assertBadRequest(() => decodeData('FP32', [2, 2, 2], '[[1, 2, 3], [5, 6, 7, 8]]'),
      "input 'x': data[0] has 3 elements; shape [2, 2, 2] needs 4 there (dimensions 1 to 2)");
    assertBadRequest(() => decodeData('FP32', [2, 2], '[[1, 2], 3, 4]'), "input 'x': data mixes arrays and single values");
    assertBadRequest(() => decodeData('FP32', [2], '[[1], [2]]'), "input 'x': data[0] is nested deeper than shape [2]");
  });
});

describe('OIP request decoding: binary tensor data', () => {
  it('a binary input is a view into the body, at whatever offset it lands', () => {
    const values = new Float32Array([1.5, -2, 3.25, 0]);
    // Pad the JSON to an odd length so that the floats start unaligned.
    const header = { id: 'x', inputs: [{ name: 'image', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } }] };
    let { body, headerLength } = withBinary(header, bytesOf(values));
    if (headerLength % 2 === 0) ({ body, headerLength } = withBinary({ ...header, id: 'xy' }, bytesOf(values)));
    assert.equal(headerLength % 4 !== 0, true);
    const decoded = decodeInferRequest(body, headerLength).inputs[0];
    assert.ok(decoded);
    assert.equal(decoded.raw, true);
    assert.equal(decoded.dtype, 'float32');
    assert.deepEqual(decoded.shape, [2, 2]);
    assert.ok(decoded.data instanceof Uint8Array);
    assert.equal(decoded.data.buffer, body.buffer);
    assert.equal(decoded.data.byteOffset, body.byteOffset + headerLength);
    assert.deepEqual(new Float32Array(new Uint8Array(decoded.data).buffer), values);
  });

  it('several binary inputs take their bytes in input order, JSON inputs between them', () => {
    const a = new Uint32Array([1, 2, 3, 4]);
    const flags = new Uint8Array([1, 0, 1]);
    const ids = new BigInt64Array([-1n, 9223372036854775807n]);
    const { body, headerLength } = withBinary({
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
        { name: 'scale', shape: [1], datatype: 'FP32', data: [0.5] },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
        { name: 'ids', shape: [1, 2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
      ],
    }, bytesOf(a), flags, bytesOf(ids));
    const [input0, scale, input1, idsInput] = decodeInferRequest(body, headerLength).inputs;
    assert.deepEqual(input0?.data, bytesOf(a));
    assert.equal(input0?.raw, true);
    assert.deepEqual(scale?.data, new Float32Array([0.5]));
    assert.equal(scale?.raw, false);
    assert.deepEqual(input1?.data, flags);
    assert.equal(input1?.dtype, 'bool');
    assert.deepEqual(idsInput?.data, bytesOf(ids));
    assert.equal(idsInput?.data.byteOffset, body.byteOffset + headerLength + 19);  // unaligned for an int64
  });

  it('a JSON part followed by nothing, with the header given, is fine', () => {
    const body = json({ inputs: [input('x', 'FP32', [1], [1])] });
    assert.equal(decodeInferRequest(body, body.length).inputs.length, 1);
  });

  it('the JSON part ends where the header says, even inside what looks like JSON', () => {
    // The binary part begins with digits: a parser reading past the header would take them in.
    const head = '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[12';
    const body = Buffer.from(`${head}34]}]}`);
    assertBadRequest(() => decodeInferRequest(body, head.length), /^request body is not valid JSON: /);
  });

  it('binary sizes that do not add up → 400', () => {
    const image = { name: 'image', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: 3136 } };
    const short = withBinary({ inputs: [image] }, new Uint8Array(100));
    assertBadRequest(() => decodeInferRequest(short.body, short.headerLength), "input 'image': binary_data_size 3136 but only 100 bytes follow the header");

    const two = withBinary({ inputs: [
      { name: 'a', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
      { name: 'b', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
    ] }, new Uint8Array(12));
    assertBadRequest(() => decodeInferRequest(two.body, two.headerLength),
      "input 'b': binary_data_size 8 but only 4 bytes follow the header and the binary inputs before it");

    const extra = withBinary({ inputs: [{ name: 'a', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } }] }, new Uint8Array(10));
    assertBadRequest(() => decodeInferRequest(extra.body, extra.headerLength),
      "request: 10 bytes follow the JSON header, but the inputs' binary_data_size add up to 8");

    const wrongSize = withBinary({ inputs: [{ name: 'a', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 12 } }] }, new Uint8Array(12));
    assertBadRequest(() => decodeInferRequest(wrongSize.body, wrongSize.headerLength),
      "input 'a': binary_data_size 12 does not match shape [2, 2] of FP32 (16 bytes)");

    // Without the header the whole body is JSON: no bytes can follow it.
    const noHeader = withBinary({ inputs: [{ name: 'a', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } }] });
    assertBadRequest(() => decodeInferRequest(noHeader.body, undefined), /^input 'a': binary_data_size needs the Inference-Header-Content-Length header/);
    const noHeaderWithData = withBinary({ inputs: [{ name: 'a', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } }] }, new Uint8Array(8));
    assertBadRequest(() => decodeInferRequest(noHeaderWithData.body, undefined), /^request body is not valid JSON: /);
  });

  it('binary mistakes of other kinds → 400', () => {
    const both = withBinary({ inputs: [{ name: 'a', shape: [1], datatype: 'INT32', data: [1], parameters: { binary_data_size: 4 } }] }, new Uint8Array(4));
    assertBadRequest(() => decodeInferRequest(both.body, both.headerLength), "input 'a': has both 'data' and parameters.binary_data_size; send one");
    const negative = withBinary({ inputs: [{ name: 'a', shape: [1], datatype: 'INT32', parameters: { binary_data_size: -4 } }] });
    assertBadRequest(() => decodeInferRequest(negative.body, negative.headerLength), "input 'a': binary_data_size must be a byte count, got -4");
    const badBool = withBinary({ inputs: [{ name: 'flags', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } }] }, new Uint8Array([0, 1, 7]));
    assertBadRequest(() => decodeInferRequest(badBool.body, badBool.headerLength), "input 'flags': BOOL element 2 is the byte 7, not 0 (false) or 1 (true)");
  });

  it('a header length beyond the body → 400', () => {
    const body = json({ inputs: [input('x', 'FP32', [1], [1])] });
    assertBadRequest(() => decodeInferRequest(body, body.length + 1),
      `Inference-Header-Content-Length is ${body.length + 1} but the body has only ${body.length} bytes`);
    assertBadRequest(() => decodeInferRequest(body, -1), 'Inference-Header-Content-Length must be a byte count, got -1');
    assertBadRequest(() => decodeInferRequest(body, Number.NaN), 'Inference-Header-Content-Length must be a byte count, got NaN');
  });
});

describe('OIP request decoding: request parameters and requested outputs', () => {
  it('priority and timeout (microseconds) are lifted out of the parameters', () => {
    const request = decodeInferRequest(json({ id: 'r1', parameters: { priority: 2, timeout: 1500, custom: 'kept' }, inputs: [] }), undefined);
    assert.equal(request.id, 'r1');
    assert.equal(request.priority, 2);
    assert.equal(request.timeoutMicros, 1500);
    assert.deepEqual(request.parameters, { priority: 2, timeout: 1500, custom: 'kept' });
    assert.equal(request.binaryDataOutputDefault, false);
    assert.equal(request.outputs, undefined);
  });

  it('absent, null or 0 priority and timeout mean the defaults, as in Triton', () => {
    for (const parameters of [undefined, {}, { priority: 0, timeout: 0 }, { priority: null, timeout: null }]) {
      const request = decodeInferRequest(json({ parameters, inputs: [] }), undefined);
      assert.equal(request.priority, undefined);
      assert.equal(request.timeoutMicros, undefined);
      assert.equal('priority' in request, false);
      assert.equal('id' in request, false);
    }
  });

  it('bad priority, timeout or binary_data_output → 400', () => {
    for (const bad of [-1, 1.5, '2', true]) {
      assertBadRequest(() => decodeInferRequest(json({ parameters: { priority: bad }, inputs: [] }), undefined),
        /^request: parameters\.priority must be a positive integer \(1 is the most urgent\), got /);
      assertBadRequest(() => decodeInferRequest(json({ parameters: { timeout: bad }, inputs: [] }), undefined),
        /^request: parameters\.timeout must be a positive whole number of microseconds, got /);
    }
    assertBadRequest(() => decodeInferRequest(json({ parameters: { timeout: -5 }, inputs: [] }), undefined),
      'request: parameters.timeout must be a positive whole number of microseconds, got -5');
    assertBadRequest(() => decodeInferRequest(json({ parameters: { binary_data_output: 'yes' }, inputs: [] }), undefined),
      "request: parameters.binary_data_output must be true or false, got 'yes'");
  });

  it('requested outputs: binary_data per output, binary_data_output for the rest', () => {
    const request = decodeInferRequest(json({
      parameters: { binary_data_output: true },
      inputs: [],
      outputs: [{ name: 'probabilities' }, { name: 'logits', parameters: { binary_data: false } }, { name: 'label', parameters: { binary_data: true } }],
    }), undefined);
    assert.equal(request.binaryDataOutputDefault, true);
    assert.deepEqual(request.outputs, [
      { name: 'probabilities', binary: true },
      { name: 'logits', binary: false },
      { name: 'label', binary: true },
    ]);
    const plain = decodeInferRequest(json({ inputs: [], outputs: [{ name: 'y' }, { name: 'z', parameters: { binary_data: true } }] }), undefined);
    assert.deepEqual(plain.outputs, [{ name: 'y', binary: false }, { name: 'z', binary: true }]);
    // No outputs named: all of them, as when 'outputs' is absent.
    assert.equal(decodeInferRequest(json({ inputs: [], outputs: [] }), undefined).outputs, undefined);
  });

  it('bad requested outputs → 400', () => {
    const decode = (outputs: unknown) => decodeInferRequest(json({ inputs: [], outputs }), undefined);
    assertBadRequest(() => decode({ name: 'y' }), "request: 'outputs' must be an array");
    assertBadRequest(() => decode([{}]), "request: outputs[0] needs a 'name' (a non-empty string)");
    assertBadRequest(() => decode(['y']), "request: outputs[0] must be an object, got 'y'");
    assertBadRequest(() => decode([{ name: 'y' }, { name: 'y' }]), "request: output 'y' is requested twice");
    assertBadRequest(() => decode([{ name: 'y', parameters: { binary_data: 1 } }]), "output 'y': parameters.binary_data must be true or false, got 1");
    assertBadRequest(() => decode([{ name: 'y', parameters: { classification: 3 } }]), "output 'y': the classification extension is not supported");
  });
});

describe('OIP request decoding: mistakes → 400 naming the input, the field and the value', () => {
  it('the shape and the data disagree in count', () => {
    const data = Array.from({ length: 783 }, () => 0.5);
    assertBadRequest(() => decodeInferRequest(json({ inputs: [input('image', 'FP32', [1, 784], data)] }), undefined),
      "input 'image': shape [1, 784] has 784 elements, data has 783");
    assertBadRequest(() => decodeData('BOOL', [3], '[true, false]'), "input 'x': shape [3] has 3 elements, data has 2");
    assertBadRequest(() => decodeData('FP32', [2, 2], '[1, 2, 3, 4, 5]'), "input 'x': shape [2, 2] has 4 elements, data has 5");
    assertBadRequest(() => decodeData('FP64', [2], '[0.12345678901234567, 1, 2]'), "input 'x': shape [2] has 2 elements, data has 3");
    // Checked before anything is allocated for the shape.
    assertBadRequest(() => decodeData('FP32', [1000000, 1000000], '[1, 2, 3]'), "input 'x': shape [1000000, 1000000] has 1000000000000 elements, data has 3");
  });

  it('an unknown or unsupported datatype', () => {
    assertBadRequest(() => decodeData('FP23', [1], '[1]'),
      "input 'x': datatype 'FP23' is not one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BF16");
    assertBadRequest(() => decodeData('BYTES', [1], '["a"]'), /^input 'x': datatype 'BYTES' is not supported/);
    assertBadRequest(() => decodeText('{"inputs":[{"name":"x","shape":[1],"datatype":32,"data":[1]}]}'), /^input 'x': 'datatype' must be a string/);
  });

  it('an element that is not a number, or not one the datatype holds', () => {
    const data = Array.from({ length: 20 }, () => 1) as unknown[];
    data[17] = 'abc';
    assertBadRequest(() => decodeInferRequest(json({ inputs: [input('x', 'FP32', [20], data)] }), undefined), "input 'x': element 17 is 'abc', not a number");
    assertBadRequest(() => decodeData('FP32', [2], '[1, null]'), "input 'x': element 1 is null, not a number");
    assertBadRequest(() => decodeData('FP32', [2], '[true, 1]'), "input 'x': element 0 is true, not a number");
    assertBadRequest(() => decodeData('INT32', [2], '[1, 1.5]'), "input 'x': element 1 is 1.5, not an integer (INT32)");
    assertBadRequest(() => decodeData('UINT8', [3], '[0, 255, 256]'), "input 'x': element 2 is 256, outside UINT8's range [0, 255]");
    assertBadRequest(() => decodeData('INT8', [1], '[-129]'), "input 'x': element 0 is -129, outside INT8's range [-128, 127]");
    assertBadRequest(() => decodeData('UINT32', [1], '[12345678901234567890]'), "input 'x': element 0 is 12345678901234567890, outside UINT32's range [0, 4294967295]");
    assertBadRequest(() => decodeData('INT64', [2], '[1, 9223372036854775808]'),
      "input 'x': element 1 is 9223372036854775808, outside INT64's range [-9223372036854775808, 9223372036854775807]");
    assertBadRequest(() => decodeData('UINT64', [1], '[-1]'), "input 'x': element 0 is -1, outside UINT64's range [0, 18446744073709551615]");
    assertBadRequest(() => decodeData('INT64', [1], '[2.5]'), "input 'x': element 0 is 2.5, not an integer (INT64)");
    assertBadRequest(() => decodeData('INT64', [1], '[1.0000000000000000001e2]'), "input 'x': element 0 is 1.0000000000000000001e2, not an integer (INT64)");
    assertBadRequest(() => decodeData('UINT64', [1], '[1e999999999]'), "input 'x': element 0 is 1e999999999, outside UINT64's range [0, 18446744073709551615]");
    assertBadRequest(() => decodeData('INT64', [1], '[1e19]'), "input 'x': element 0 is 1e19, outside INT64's range [-9223372036854775808, 9223372036854775807]");
    assertBadRequest(() => decodeData('FP32', [2], '[1, 1e39]'), "input 'x': element 1 is 1e39, beyond FP32's range (±3.4028235e38)");
    assertBadRequest(() => decodeData('FP64', [1], '[-1e400]'), "input 'x': element 0 is -1e400, beyond FP64's range (±1.7976931348623157e308)");
    assertBadRequest(() => decodeData('FP16', [1], '[65520]'), "input 'x': element 0 is 65520, beyond FP16's range (±65504)");
    assertBadRequest(() => decodeData('BOOL', [2], '[true, 2]'), "input 'x': element 1 is 2, not a boolean (true, false, 0 or 1)");
    assertBadRequest(() => decodeData('BOOL', [1], '["true"]'), "input 'x': element 0 is 'true', not a boolean (true, false, 0 or 1)");
    assertBadRequest(() => decodeData('INT32', [2], '[1, [2]]'), "input 'x': data mixes arrays and single values");
  });

  it('a malformed request', () => {
    assertBadRequest(() => decodeText('{"inputs": [}'), /^request body is not valid JSON: /);
    assertBadRequest(() => decodeText(''), /^request body is not valid JSON: /);
    assertBadRequest(() => decodeText('[1, 2]'), 'request: the body must be a JSON object');
    assertBadRequest(() => decodeText('{"inputs": {}}'), "request: 'inputs' must be an array");
    assertBadRequest(() => decodeText('{}'), "request: 'inputs' must be an array");
    assertBadRequest(() => decodeText('{"id": 7, "inputs": []}'), "request: 'id' must be a string, got 7");
    assertBadRequest(() => decodeText('{"parameters": [], "inputs": []}'), "request: 'parameters' must be an object, got an array");
    assertBadRequest(() => decodeText('{"inputs": [3]}'), 'request: inputs[0] must be an object, got 3');
    assertBadRequest(() => decodeText('{"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]}'), "request: inputs[0] needs a 'name' (a non-empty string)");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "datatype": "FP32", "data": [1]}]}'), "input 'x': 'shape' must be an array of dimensions");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "shape": [2, -1], "datatype": "FP32", "data": [1]}]}'), "input 'x': shape[1] is -1, not a non-negative integer");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "shape": [2.5], "datatype": "FP32", "data": [1]}]}'), "input 'x': shape[0] is 2.5, not a non-negative integer");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]}'), "input 'x': has neither 'data' nor parameters.binary_data_size");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": 1}]}'), "input 'x': 'data' must be an array");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "x", "shape": [1], "datatype": "FP32", "data": [2]}]}'),
      "request: input 'x' is given twice");
    assertBadRequest(() => decodeText('{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"shared_memory_region": "r"}}]}'),
      /^input 'x': shared-memory inputs \(shared_memory_region\) are not supported/);
  });
});

describe('OIP request decoding: the JSON parser agrees with JSON.parse', () => {
  it('data that starts like numbers but is not all numbers is read as JSON.parse reads it', () => {
    assert.deepEqual(decodeData('BOOL', [3], '[1, true, 0]'), new Uint8Array([1, 1, 0]));
    assertBadRequest(() => decodeData('FP32', [2], '[1, true]'), "input 'x': element 1 is true, not a number");
    assertBadRequest(() => decodeData('FP32', [2], '[1, "a]b"]'), "input 'x': element 1 is 'a]b', not a number");
    assertBadRequest(() => decodeData('FP32', [2, 1], '[[1], [true]]'), "input 'x': element 1 is true, not a number");
  });

  it('a bracket inside a string in the data does not end the numbers early', () => {
    // Read up to the first ']' as numbers, the rest would start with a key '],'.
    const text = '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,"],"],":5,":5,"k":"v"}]}';
    assert.ok(JSON.parse(text));
    assertBadRequest(() => decodeText(text), "input 'x': element 1 is '],', not a number");
  });

  it('malformed JSON in the numbers is reported as such, before any other mistake', () => {
    assertBadRequest(() => decodeText('{"inputs":[{"name":"x","shape":[2],"datatype":"FP99","data":[1,,2]}]}'), /^request body is not valid JSON: /);
    assertBadRequest(() => decodeText('{"inputs":[{"name":"x","shape":[2],"datatype":"INT8","data":[1000,1.]}]}'), /^request body is not valid JSON: /);
    assertBadRequest(() => decodeText('{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[- 1]}]}'), /^request body is not valid JSON: /);
    assertBadRequest(() => decodeText('{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1 2]}]}'), /^request body is not valid JSON: /);
    assertBadRequest(() => decodeText('{"inputs":[{"name":"x","shape":[2],"datatype":"FP64","data":[0.12345678901234567,1e]}]}'), /^request body is not valid JSON: /);
  });

  it('on strings, escapes, keys, literals and whitespace', () => {
    const parameters = '{"s": "a\\"b\\\\c\\/d\\b\\f\\n\\r\\t", "u": "\\u00e9\\ud83d\\ude00\\ud800", "utf8": "héllo 😀", "e": "", ' +
      '"__proto__": {"x": 1}, "dup": 1, "dup": 2, "n": [1, -0, 2.5e-3, 1E+2, {"deep": [true, false, null]}], "o": {}, "a": []}';
    const text = ` \t\r\n{ "parameters" : ${parameters} , "inputs" : [ { "name" : "x" , "shape" : [ 2 ] , "datatype" : "FP32" , "data" : [ 1 , 2 ] } ] } \n`;
    const decoded = decodeText(text);
    assert.deepEqual(decoded.parameters, JSON.parse(parameters));
    assert.equal(Object.getPrototypeOf(decoded.parameters.__proto__), Object.prototype);
    assert.ok(Object.hasOwn(decoded.parameters, '__proto__'));
    assert.deepEqual(decoded.inputs[0]?.data, new Float32Array([1, 2]));
  });

  it('rejects what JSON.parse rejects', () => {
    const bad = ['{"inputs": [01]}', '{"inputs": []', '{"inputs": [],}', "{'inputs': []}", '{"inputs": [1.]}', '{"inputs": [-]}',
      '{"inputs": [1e]}', '{"a": "\t"}', '{"a": "\\x"}', '{"a": "\\u12"}', '{"a": tru}', '{"inputs": []} x', '{"inputs": [{"data": [1 2]}]}',
      '{"inputs": [{"data": [1,]}]}', '{"inputs": [{"data": [[1], [2]}]}', '{"inputs": [{"data": [+1]}]}', '{"inputs": [{"data": [.5]}]}'];
    for (const text of bad) {
      assert.throws(() => JSON.parse(text));
      assertBadRequest(() => decodeText(text), /^request body is not valid JSON: /);
    }
  });
});

// Reference semantics: JSON.parse, then a typed array store.
function expectFloat32(tokens: string[]): Float32Array {
  return new Float32Array(tokens.map(Number));
}

describe('OIP request decoding: numbers are exact', () => {
  const decodeTokens = (datatype: string, tokens: string[]) => decodeData(datatype, [tokens.length], `[${tokens.join(',')}]`);

  it('FP32: float32 values printed as doubles (17 digits), as numpy clients send them', () => {
    const values = randomFloats(5000, 11).map((v, k) => v * 10 ** ((k % 40) - 20));
    const tokens = Array.from(values, String);
    assert.deepEqual(decodeTokens('FP32', tokens), expectFloat32(tokens));
  });

  it('FP32: short decimals, long decimals, exponents, zeros and the edges of the range', () => {
    const tokens = ['0', '-0', '0.0', '-0.0', '0e5', '1', '-1', '0.1', '0.5', '0.123', '1e-3', '1E3', '1e+3', '2.5e-7', '123456789012',
      '0.1000000000000000055511151231257827', '3.4028234663852886e38', '3.40282356e38', '1.17549435e-38', '1.4e-45', '7e-46', '1e-50',
      '0.00000000000000000000000000000000000000000000001', '1.00000000000000000000000000001', '99999999999999999999', '-123.456e-10',
      '16777217', '16777219', '0.30000000000000004', '1e22', '1e23', '1e-22', '1e-23', '8.589973e9', '4.7019774e-38'];
    assert.deepEqual(decodeTokens('FP32', tokens), expectFloat32(tokens));
    assert.ok(Object.is(decodeTokens('FP32', ['-0'])[0], -0));
  });

  it('FP32: decimals exactly halfway between two float32 values round to even', () => {
    const tokens: string[] = [];
    const floats = randomFloats(2000, 5);
    const bits = new Uint32Array(floats.buffer);
    for (let k = 0; k < floats.length; k++) {
      const low = floats[k] as number;
      bits[k] = (bits[k] as number) + 1;
      const high = floats[k] as number;
      // The midpoint of two adjacent float32s is a double, and String() writes it exactly enough to
      // read back as that double: the hardest case for rounding.
      tokens.push(String((low + high) / 2));
      tokens.push(String(((low + high) / 2) * (1 + 2 ** -52)));
    }
    assert.deepEqual(decodeTokens('FP32', tokens), expectFloat32(tokens));
  });

  it('FP64: doubles round-trip; long and extreme tokens read as Number() reads them', () => {
    const values = Array.from(randomFloats(3000, 7), (v, k) => (v - 0.5) * 10 ** ((k % 600) - 300));
    const tokens = [...values.map(String), '5e-324', '2.2250738585072014e-308', '1.7976931348623157e308', '0.1', '-0',
      '123456789012345678901234567890', '9007199254740993', '1.000000000000000111'];
    assert.deepEqual(decodeTokens('FP64', tokens), new Float64Array(tokens.map(Number)));
  });

  it('every length of integer and fraction part, read four digits at a time or one', () => {
    const next = seededRandom(17);
    const digits = (count: number, leadingNonZero: boolean) =>
      Array.from({ length: count }, (_, k) => String(k === 0 && leadingNonZero ? 1 + Math.floor(next() * 9) : Math.floor(next() * 10))).join('');
    const tokens: string[] = [];
    const integers: string[] = [];
    for (let whole = 1; whole <= 20; whole++) {
      integers.push(digits(Math.min(whole, 18), true));
      for (let fraction = 0; fraction <= 20; fraction++) {
        tokens.push(`${digits(whole, true)}${fraction > 0 ? `.${digits(fraction, false)}` : ''}`);
        tokens.push(`-0.${'0'.repeat(whole % 5)}${digits(fraction + 1, true)}`);
      }
    }
    assert.deepEqual(decodeTokens('FP32', tokens), expectFloat32(tokens));
    assert.deepEqual(decodeTokens('FP64', tokens), new Float64Array(tokens.map(Number)));
    assert.deepEqual(decodeTokens('INT64', integers), new BigInt64Array(integers.map(BigInt)));
    // Nothing after the last digit but the closing bracket.
    for (const token of ['1234', '12345678', '0.1234', '0.12345678']) assert.deepEqual(decodeTokens('FP64', [token]), new Float64Array([Number(token)]));
  });

  it('INT32 and INT64: random integers', () => {
    const ints = Array.from(randomFloats(1000, 3), (v) => Math.round((v - 0.5) * 2 ** 32) | 0);
    assert.deepEqual(decodeTokens('INT32', ints.map(String)), new Int32Array(ints));
    const bigs = Array.from(randomFloats(1000, 4), (v, k) => BigInt(Math.round((v - 0.5) * 2 ** 52)) * (k % 3 === 0 ? 1023n : 1n));
    assert.deepEqual(decodeTokens('INT64', bigs.map(String)), new BigInt64Array(bigs));
  });

  it('FP16 and BF16: every finite bit pattern reads back as itself, halfway values round to even', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const half = float16Value(bits);
      if (Number.isFinite(half)) assert.equal(float16Bits(half), bits, `FP16 ${bits.toString(16)}`);
      const brain = bfloat16Value(bits);
      if (Number.isFinite(brain)) assert.equal(bfloat16Bits(brain), bits, `BF16 ${bits.toString(16)}`);
    }
    assert.equal(float16Bits(1 + 2 ** -11), 0x3c00);              // halfway 1 ↔ 1+2^-10: to even (1)
    assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02);          // halfway, to even (upwards)
    assert.equal(float16Bits(2 ** -25), 0);                       // half the smallest subnormal: to even (0)
    assert.equal(float16Bits(3 * 2 ** -25), 2);
    assert.equal(float16Bits(65519.99), 0x7bff);
    assert.equal(float16Bits(65520), 0x7c00);
    assert.equal(bfloat16Bits(1 + 2 ** -8), 0x3f80);
    assert.equal(bfloat16Bits(1 + 2 ** -8 + 2 ** -30), 0x3f81);   // just past halfway: straight from the double
    assert.ok(Number.isNaN(float16Value(float16Bits(Number.NaN))));
    assert.equal(float16Value(0xfc00), -Infinity);
  });
});
