// Model files for the engine tests, written to a temporary directory.
import { buildModel } from './onnx-builder.js';
import { randomFloats } from './random.js';
import { writeTempFile } from './temp-files.js';

// y = 2·x + 1 on [batch, 4]: an output that names its input, for routing checks.
export function affineModelFile(): string {
  return writeTempFile('affine.onnx', buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 4] }],
    initializers: [
      { name: 'two', dtype: 'float32', dims: [1], data: [2] },
      { name: 'one', dtype: 'float32', dims: [1], data: [1] },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] },
      { op: 'Add', inputs: ['doubled', 'one'], outputs: ['y'] },
    ],
  }));
}

// rows = Gather(table[10, 4], index[batch]): an index outside 0..9 makes the native run fail.
export function lookupModelFile(): string {
  return writeTempFile('lookup.onnx', buildModel({
    opset: 13,
    inputs: [{ name: 'index', dtype: 'int64', dims: ['batch'] }],
    outputs: [{ name: 'rows', dtype: 'float32', dims: ['batch', 4] }],
    initializers: [{ name: 'table', dtype: 'float32', dims: [10, 4], data: Array.from({ length: 40 }, (_, i) => i) }],
    nodes: [{ op: 'Gather', inputs: ['table', 'index'], outputs: ['rows'], attributes: { axis: 0 } }],
  }));
}

// y = x · W with W [size, size]: slow enough at a few hundred rows to keep a worker busy while a
// test queues requests behind it (size 2048: 16 MB of weights, ~2 GFLOP per 256 rows).
export function matmulModelFile(size: number, name = `matmul-${size}.onnx`): string {
  return writeTempFile(name, buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', size] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', size] }],
    initializers: [{ name: 'w', dtype: 'float32', dims: [size, size], data: randomFloats(size * size, 3, 1 / Math.sqrt(size)) }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
  }));
}
