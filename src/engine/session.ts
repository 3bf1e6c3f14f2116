// InferenceSession: the engine as TypeScript callers use it. Feeds and fetches are keyed by name;
// this layer checks the names (which input is missing, which is unknown) and turns them into the
// positional arrays the native session takes, and the native session checks dtypes, shapes and sizes.
// run() is synchronous and computes on the calling thread: call it from a worker, not the main loop.
import { type DType, type TypedArray, isTypedArray, typedArrayConstructorFor } from './dtypes.js';
import { invalidArgument } from './errors.js';
import { type Feed, checkNames, describeInfo, orderFeeds } from './feeds.js';
import { type NativeSession, type NativeTensorInfo, loadAddon } from './native-addon.js';
import { type Tensor, elementCount } from './tensor.js';

export type { Feed } from './feeds.js';

export interface TensorMetadata {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[]; // -1 marks a dynamic dimension
  readonly dimNames: readonly (string | null)[];
  readonly hasShape: boolean;
}

export interface SessionOptions {
  // Intra-op threads for one run (default 1: compute on the calling thread only).
  threads?: number;
  // Load-time graph optimizations (default true); false runs the graph exactly as written.
  optimize?: boolean;
}

export interface RunOptions {
  // Caller-owned buffers to write outputs into (e.g. views into a SharedArrayBuffer), by output name;
  // each must be of the output's typed array class and hold exactly its elements. Outputs not named
  // here are allocated.
  outputs?: Record<string, TypedArray>;
}


export class InferenceSession {
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
  readonly opset: number;
  readonly weightBytes: number;
  readonly nodeCount: number;

  readonly #native: NativeSession;
  readonly #inputIndex: ReadonlyMap<string, number>;
  readonly #outputIndex: ReadonlyMap<string, number>;
  // The output dims of the last input dims seen: a worker runs the same shapes over and over.
  #lastInputDims: readonly (readonly number[])[] = [];
  #lastOutputDims: readonly (readonly number[])[] | undefined;

  private constructor(native: NativeSession) {
    const description = native.describe();
    this.#native = native;
    this.inputs = Object.freeze(description.inputs.map(freezeMetadata));
    this.outputs = Object.freeze(description.outputs.map(freezeMetadata));
    this.opset = description.opset;
    this.weightBytes = description.weightBytes;
    this.nodeCount = description.nodeCount;
    this.#inputIndex = new Map(this.inputs.map((info, index) => [info.name, index]));
    this.#outputIndex = new Map(this.outputs.map((info, index) => [info.name, index]));
  }

  // A model path (whose weights every session of the process shares) or the model's bytes.
  static load(source: string | Uint8Array, options: SessionOptions = {}): InferenceSession {
    const { Session } = loadAddon();
    return new InferenceSession(new Session(source, {
      ...(options.threads !== undefined && { threads: options.threads }),
      ...(options.optimize !== undefined && { optimize: options.optimize }),
    }));
  }

  get inputNames(): string[] {
    return this.inputs.map((info) => info.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((info) => info.name);
  }

  // Native runs so far.
  get runCount(): number {
    return this.#native.runCount;
  }

  // The dims every output will have for inputs of these dims.
  outputDims(inputDims: Record<string, readonly number[]>): Record<string, readonly number[]> {
    checkNames(inputDims, this.#inputIndex, 'input');
    const ordered = this.inputs.map((info) => {
      const dims = inputDims[info.name];
      if (dims === undefined) throw invalidArgument(`missing dims for input '${info.name}' (${describeInfo(info)})`);
      return dims;
    });
    return this.#byOutputName(this.#outputDimsFor(ordered));
  }

  run(feeds: Record<string, Feed>, options: RunOptions = {}): Record<string, Tensor> {
    if (typeof feeds !== 'object' || feeds === null) {
      throw invalidArgument(`run(feeds): feeds must be an object mapping input names to tensors`);
    }
    checkNames(feeds, this.#inputIndex, 'input');
    const { data, dims } = orderFeeds(this.inputs, feeds);

    const outputDims = this.#outputDimsFor(dims);
    let results: ArrayBufferView[];
    if (options.outputs === undefined) {
      results = this.#native.run(data, dims);
    } else {
      checkNames(options.outputs, this.#outputIndex, 'output');
      const given = options.outputs;
      const buffers = this.outputs.map((info, index) => {
        const buffer = given[info.name];
        if (buffer === undefined) return new (typedArrayConstructorFor(info.dtype))(elementCount(outputDims[index] ?? []));
        if (!isTypedArray(buffer)) throw invalidArgument(`output '${info.name}' must be a typed array`);
        return buffer;
      });
      results = this.#native.run(data, dims, buffers);
    }

    const fetches: Record<string, Tensor> = {};
    this.outputs.forEach((info, index) => {
      fetches[info.name] = { dtype: info.dtype, dims: outputDims[index] ?? [], data: results[index] as TypedArray };
    });
    return fetches;
  }

  #outputDimsFor(inputDims: readonly (readonly number[])[]): readonly (readonly number[])[] {
    if (this.#lastOutputDims === undefined || !sameDims(this.#lastInputDims, inputDims)) {
      const outputDims = this.#native.outputShapes(inputDims).map((dims) => Object.freeze(dims));
      // Copied: the caller may reuse and mutate its dims arrays between runs.
      this.#lastInputDims = inputDims.map((dims) => [...dims]);
      this.#lastOutputDims = outputDims;
    }
    return this.#lastOutputDims;
  }

  #byOutputName(dims: readonly (readonly number[])[]): Record<string, readonly number[]> {
    const byName: Record<string, readonly number[]> = {};
    this.outputs.forEach((info, index) => (byName[info.name] = dims[index] ?? []));
    return byName;
  }

}

export function inspectModel(path: string) {
  return loadAddon().inspect(path);
}

function freezeMetadata(info: NativeTensorInfo): TensorMetadata {
  return Object.freeze({
    name: info.name,
    dtype: info.dtype,
    dims: Object.freeze(info.dims),
    dimNames: Object.freeze(info.dimNames),
    hasShape: info.hasShape,
  });
}

function sameDims(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; ++i) {
    const x = a[i] as readonly number[];
    const y = b[i] as readonly number[];
    if (x.length !== y.length) return false;
    for (let d = 0; d < x.length; ++d) if (x[d] !== y[d]) return false;
  }
  return true;
}

