// Builds ONNX ModelProto bytes for tests, with onnx-proto (protobufjs):
//
//   buildModel({
//     opset: 13,
//     inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 784] }],   // strings are named dynamic dims
//     outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 10] }],
//     initializers: [{ name: 'w', dtype: 'float32', dims: [10, 784], data: weights }],
//     nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attributes: { transB: 1 } }],
//   })
//
// Attribute values: an integer or integer array → INT / INTS, a fractional number → FLOAT, a string →
// STRING; wrap with float() / floats() for float attributes that happen to be integral.
import onnxProto from 'onnx-proto';

import type { DType, TypedArray } from '../../src/index.js';
import { randomFloats } from './random.js';

const { onnx } = onnxProto;

export interface ValueSpec {
  name: string;
  dtype: DType;
  dims?: readonly (number | string)[]; // omitted: the model declares no shape
}

export interface InitializerSpec {
  name: string;
  dtype: DType;
  dims: readonly number[];
  data: TypedArray | readonly number[];
}

export interface FloatAttribute {
  kind: 'float';
  value: number;
}
export interface FloatsAttribute {
  kind: 'floats';
  value: readonly number[];
}
// A subgraph (If's branches, Loop's body); it may read values of the enclosing graph by name.
export interface GraphAttribute {
  kind: 'graph';
  value: GraphSpec;
}
export type AttributeValue = number | readonly number[] | string | FloatAttribute | FloatsAttribute | GraphAttribute;

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface GraphSpec {
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  nodes: readonly NodeSpec[];
  initializers?: readonly InitializerSpec[];
}

export interface ModelSpec extends GraphSpec {
  opset: number;
  // Extra operator sets, e.g. { 'com.example': 1 } for custom-domain nodes.
  extraOpsets?: Record<string, number>;
  irVersion?: number;
}

export const float = (value: number): FloatAttribute => ({ kind: 'float', value });
export const floats = (value: readonly number[]): FloatsAttribute => ({ kind: 'floats', value });
export const graph = (value: GraphSpec): GraphAttribute => ({ kind: 'graph', value });

const onnxTypes: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
};

export function buildModel(spec: ModelSpec): Uint8Array {
  const opsetImport = [{ domain: '', version: spec.opset }];
  for (const [domain, version] of Object.entries(spec.extraOpsets ?? {})) opsetImport.push({ domain, version });
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? irVersionFor(spec.opset),
    producerName: 'inferd-tests',
    opsetImport,
    graph: graphProto(spec, 'test'),
  });
  return onnx.ModelProto.encode(model).finish();
}

function graphProto(spec: GraphSpec, name: string): onnxProto.onnx.IGraphProto {
  return {
    name,
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: (spec.initializers ?? []).map(initializer),
    node: spec.nodes.map((node, index) => ({
      opType: node.op,
      name: node.name ?? `${node.op.toLowerCase()}_${name}_${index}`,
      domain: node.domain ?? '',
      input: [...node.inputs],
      output: [...node.outputs],
      attribute: Object.entries(node.attributes ?? {}).map(([key, value]) => attribute(key, value)),
    })),
  };
}

// The IR version each opset came with, so that onnxruntime accepts the model.
function irVersionFor(opset: number): number {
  if (opset <= 12) return 7;
  if (opset <= 15) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function valueInfo(value: ValueSpec) {
  const tensorType: { elemType: number; shape?: { dim: object[] } } = { elemType: onnxTypes[value.dtype] };
  if (value.dims !== undefined) {
    tensorType.shape = { dim: value.dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) };
  }
  return { name: value.name, type: { tensorType } };
}

function initializer(spec: InitializerSpec) {
  const Constructor = typedArrayFor(spec.dtype);
  const typed = ArrayBuffer.isView(spec.data)
    ? spec.data
    : spec.dtype === 'int64' || spec.dtype === 'uint64'
      ? Constructor.from(spec.data.map((v) => BigInt(v)) as unknown as number[])
      : Constructor.from(spec.data);
  // Raw little-endian bytes, as exporters write them (the machine running tests is little-endian).
  const rawData = new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
  return { name: spec.name, dataType: onnxTypes[spec.dtype], dims: [...spec.dims], rawData };
}

function typedArrayFor(dtype: DType) {
  switch (dtype) {
    case 'float32': return Float32Array;
    case 'float64': return Float64Array;
    case 'int8': return Int8Array;
    case 'int16': return Int16Array;
    case 'int32': return Int32Array;
    case 'int64': return BigInt64Array as unknown as typeof Float64Array;
    case 'uint64': return BigUint64Array as unknown as typeof Float64Array;
    case 'uint8': case 'bool': return Uint8Array;
    case 'uint16': case 'float16': case 'bfloat16': return Uint16Array;
    case 'uint32': return Uint32Array;
  }
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    const numbers = value as readonly number[];
    return numbers.every(Number.isInteger)
      ? { name, type: AttributeType.INTS, ints: [...numbers] }
      : { name, type: AttributeType.FLOATS, floats: [...numbers] };
  }
  const wrapped = value as FloatAttribute | FloatsAttribute | GraphAttribute;
  if (wrapped.kind === 'graph') return { name, type: AttributeType.GRAPH, g: graphProto(wrapped.value, name) };
  return wrapped.kind === 'float'
    ? { name, type: AttributeType.FLOAT, f: wrapped.value }
    : { name, type: AttributeType.FLOATS, floats: [...wrapped.value] };
}

// A multilayer perceptron as PyTorch exports one: Gemm (transB = 1) + Relu per hidden layer, a Gemm
// for the last; input 'input' [batch, sizes[0]], output 'output' [batch, sizes.at(-1)]. Weights are
// uniform in ±1/√fan_in (so activations keep their scale), seeded.
export function mlp(sizes: readonly number[], seed: number, opset = 13): Uint8Array {
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  let current = 'input';
  for (let layer = 0; layer + 1 < sizes.length; ++layer) {
    const fanIn = sizes[layer] as number;
    const fanOut = sizes[layer + 1] as number;
    const scale = 1 / Math.sqrt(fanIn);
    initializers.push(
      { name: `w${layer}`, dtype: 'float32', dims: [fanOut, fanIn], data: randomFloats(fanIn * fanOut, seed * 1000 + 2 * layer, scale) },
      { name: `b${layer}`, dtype: 'float32', dims: [fanOut], data: randomFloats(fanOut, seed * 1000 + 2 * layer + 1, scale) },
    );
    const last = layer + 2 === sizes.length;
    const gemmOut = last ? 'output' : `gemm${layer}`;
    nodes.push({ op: 'Gemm', name: `fc${layer}`, inputs: [current, `w${layer}`, `b${layer}`], outputs: [gemmOut], attributes: { transB: 1 } });
    if (!last) {
      nodes.push({ op: 'Relu', name: `relu${layer}`, inputs: [gemmOut], outputs: [`relu${layer}`] });
      current = `relu${layer}`;
    }
  }
  return buildModel({
    opset,
    inputs: [{ name: 'input', dtype: 'float32', dims: ['batch', sizes[0] as number] }],
    outputs: [{ name: 'output', dtype: 'float32', dims: ['batch', sizes.at(-1) as number] }],
    initializers,
    nodes,
  });
}
