// InferenceSession: the engine as TypeScript callers use it. Feeds and fetches are keyed by name;
// this layer checks the names (which input is missing, which is unknown) and turns them into the
// positional arrays the native session takes, and the native session checks dtypes, shapes and sizes.
// run() is synchronous and computes on the calling thread: call it from a worker, not the main loop.
import { type DType, type TypedArray, isTypedArray, typedArrayConstructorFor } from './dtypes.js';
import { invalidArgument } from './errors.js';
import { type Feed, checkNames, describeInfo, orderFeeds } from './feeds.js';
import { type Backend, type NativeSession, type NativeTensorInfo, type ProviderName, loadAddon } from './native-addon.js';
import { type Tensor, elementCount } from './tensor.js';

export type { Feed } from './feeds.js';
export type { Backend, ProviderName } from './native-addon.js';

export interface TensorMetadata {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[]; // -1 marks a dynamic dimension
  readonly dimNames: readonly (string | null)[];
  readonly hasShape: boolean;
}

// The options that decide which loaded model a session gets: sessions of one model path loaded with
// equal options (in any thread) share one copy of its weights.
export interface ModelOptions {
  // Load-time graph optimizations (default true); false runs the graph exactly as written.
  optimize?: boolean;
  // Where the model computes (default 'cpu'). 'cuda' fails when no GPU is visible; 'auto' is CUDA
  // when a GPU is visible and every op of the model has a CUDA kernel, else the CPU.
  provider?: ProviderName;
  // With CUDA: ops without a CUDA kernel run on the CPU (default true), or the model is refused.
  cpuFallback?: boolean;
}

export interface SessionOptions extends ModelOptions {
  // Intra-op threads for one run (default 1: compute on the calling thread only).
  threads?: number;
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
  // The backend the model computes on ('auto' resolved).
  readonly provider: Backend;
  // What the session was loaded with, for loading the same model (and weights) in another thread.
  readonly modelOptions: Readonly<ModelOptions>;

  readonly #native: NativeSession;
  readonly #inputIndex: ReadonlyMap<string, number>;
  readonly #outputIndex: ReadonlyMap<string, number>;
  // The output dims of the last input dims seen: a worker runs the same shapes over and over.
  #lastInputDims: readonly (readonly number[])[] = [];
  #lastOutputDims: readonly (readonly number[])[] | null | undefined;

  private constructor(native: NativeSession, modelOptions: ModelOptions) {
    const description = native.describe();
    this.#native = native;
    this.inputs = Object.freeze(description.inputs.map(freezeMetadata));
    this.outputs = Object.freeze(description.outputs.map(freezeMetadata));
    this.opset = description.opset;
    this.weightBytes = description.weightBytes;
    this.nodeCount = description.nodeCount;
    this.provider = description.provider;
    this.modelOptions = Object.freeze(modelOptions);
    this.#inputIndex = new Map(this.inputs.map((info, index) => [info.name, index]));
    this.#outputIndex = new Map(this.outputs.map((info, index) => [info.name, index]));
  }

  // A model path (whose weights every session of the process shares) or the model's bytes.
  static load(source: string | Uint8Array, options: SessionOptions = {}): InferenceSession {
    const { Session } = loadAddon();
    const modelOptions: ModelOptions = {
      ...(options.optimize !== undefined && { optimize: options.optimize }),
      ...(options.provider !== undefined && { provider: options.provider }),
      ...(options.cpuFallback !== undefined && { cpuFallback: options.cpuFallback }),
    };
    return new InferenceSession(new Session(source, {
      ...(options.threads !== undefined && { threads: options.threads }),
      ...modelOptions,
    }), modelOptions);
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

  // The dims every output will have for inputs of these dims. Throws for a model whose output sizes
  // follow from computed data (see outputsDependOnData): those are known only after run().
  outputDims(inputDims: Record<string, readonly number[]>): Record<string, readonly number[]> {
    const dims = this.#outputDimsFor(this.#orderDims(inputDims));
    if (dims === null) {
      throw invalidArgument(`the output sizes of this model depend on computed data (NonZero, If, Loop or a shape ` +
        `computed from data): they are known only after run()`);
    }
    return this.#byOutputName(dims);
  }

  // Whether outputs' sizes for inputs of these dims are known only by computing them.
  outputsDependOnData(inputDims: Record<string, readonly number[]>): boolean {
    return this.#outputDimsFor(this.#orderDims(inputDims)) === null;
  }

  #orderDims(inputDims: Record<string, readonly number[]>): (readonly number[])[] {
    checkNames(inputDims, this.#inputIndex, 'input');
    return this.inputs.map((info) => {
      const dims = inputDims[info.name];
      if (dims === undefined) throw invalidArgument(`missing dims for input '${info.name}' (${describeInfo(info)})`);
      return dims;
    });
  }

  run(feeds: Record<string, Feed>, options: RunOptions = {}): Record<string, Tensor> {
    if (typeof feeds !== 'object' || feeds === null) {
      throw invalidArgument(`run(feeds): feeds must be an object mapping input names to tensors`);
    }
    checkNames(feeds, this.#inputIndex, 'input');
    const { data, dims } = orderFeeds(this.inputs, feeds);

    let outputDims = this.#outputDimsFor(dims);
    let results: ArrayBufferView[];
    if (outputDims === null) {
      // Sizes known only once computed: the native session allocates the outputs and says their dims.
      if (options.outputs !== undefined) {
        throw invalidArgument(`run(): the output sizes of this model depend on computed data; omit options.outputs`);
      }
      results = this.#native.run(data, dims);
      outputDims = this.#native.lastOutputShapes;
    } else if (options.outputs === undefined) {
      results = this.#native.run(data, dims);
    } else {
      checkNames(options.outputs, this.#outputIndex, 'output');
      const given = options.outputs;
      const known = outputDims;
      const buffers = this.outputs.map((info, index) => {
        const buffer = given[info.name];
        if (buffer === undefined) return new (typedArrayConstructorFor(info.dtype))(elementCount(known[index] ?? []));
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

  #outputDimsFor(inputDims: readonly (readonly number[])[]): readonly (readonly number[])[] | null {
    if (this.#lastOutputDims === undefined || !sameDims(this.#lastInputDims, inputDims)) {
      const outputDims = this.#native.outputShapes(inputDims)?.map((dims) => Object.freeze(dims)) ?? null;
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

