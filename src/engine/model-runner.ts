// A loaded model in the engine: validates each request against the model, hands it to the model's
// scheduler, and computes the batches the scheduler forms — each request's rows copied straight into
// a SharedArrayBuffer slot, the batch run by a worker thread, each caller handed views of its own
// rows of the outputs.
import { type WorkerPool } from '../pool/worker-pool.js';
import { SlotPool, layout } from '../pool/slot-pool.js';
import { Scheduler } from '../scheduler/dynamic-batcher.js';
import { ServingError } from '../scheduler/errors.js';
import type { Batch, CancelSignal } from '../scheduler/types.js';
import type { EngineMetrics, Tally } from '../observability/metrics.js';
import type { HistogramSeries } from '../observability/model-histogram.js';
import type { SlotLayout } from '../pool/slot-pool.js';
import type { TensorPlacement } from '../pool/types.js';
import { type TypedArray, elementSize, typedArrayConstructorFor } from './dtypes.js';
import { outOfRange } from './errors.js';
import { type Feed, type RawTensor, checkNames, orderFeeds } from './feeds.js';
import { InferRequest, type InferResult, batchSignature } from './infer-request.js';
import type { ModelConfig } from './model-config.js';
import type { InferenceSession, TensorMetadata } from './session.js';
import { type Tensor, elementCount } from './tensor.js';

export interface InferOptions {
  // 1 = most urgent; defaults to the model's defaultPriority.
  priority?: number;
  // Fail the request if it is still queued after this long; may only shorten the model's default.
  timeoutMs?: number;
  // Cancels the request if it is still queued when the signal aborts (an AbortSignal, or any object
  // with its `aborted`, `addEventListener` and `removeEventListener`).
  signal?: CancelSignal;
}

const NO_OPTIONS: InferOptions = Object.freeze({});

// Where a batch of one shape goes in its slot and what each caller's outputs look like. A model is
// sent batches of the same few shapes over and over, so the runner keeps the last one.
interface BatchShape {
  readonly signature: string;
  readonly rows: number;
  readonly placed: SlotLayout;
  readonly fullBatchBytes: number;
  // Per output: its name and dtype, the dims after the batch dimension and the elements per row.
  readonly outputs: readonly { name: string; dtype: Tensor['dtype']; dims: readonly number[]; perRow: number }[];
  // Per output, by a request's row count: the (frozen) dims of its part, shared by the requests.
  readonly dimsByRows: Map<number, readonly number[]>[];
  // Output sizes follow from computed data: each request runs alone, its outputs come back whole.
  readonly dataDependent: boolean;
}

export class ModelRunner {
  readonly #inputIndex: ReadonlyMap<string, number>;
  readonly #scheduler: Scheduler<InferRequest>;
  readonly #slots: SlotPool;
  readonly #batched: boolean;
  // This model's metric series, resolved once: label lookups per request cost more than the updates.
  readonly #series: {
    ok: Tally;
    requestSeconds: HistogramSeries;
    queueSeconds: HistogramSeries;
    computeSeconds: HistogramSeries;
  };
  readonly #failed = (_request: InferRequest, error: Error) => {
    const code = (error as { code?: string }).code ?? 'error';
    this.metrics.requests.inc({ model: this.name, status: code.replace(/^INFERD_ERR_/, '').toLowerCase() });
  };
  // The signature of the last request's dims, by the identity of its dims arrays: callers that pass
  // bare typed arrays share cached dims arrays, so most requests reuse it.
  #lastDims: readonly (readonly number[])[] = [];
  #lastSignature = '';
  #lastShape: BatchShape | undefined;
  #unbatchedCount = 0;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly key: string,                  // unique per load, so a reloaded model gets fresh sessions
    readonly config: ModelConfig,
    readonly session: InferenceSession,    // main-thread session: metadata and output shapes only
    readonly threadsPerWorker: number,
    private readonly pool: WorkerPool,
    private readonly metrics: EngineMetrics,
  ) {
    this.#inputIndex = new Map(session.inputs.map((info, index) => [info.name, index]));
    this.#batched = config.maxBatchSize > 0;
    // Slots of a GPU model are pinned so that host↔device copies run asynchronously.
    this.#slots = new SlotPool(config.instances, { pinHostMemory: session.provider === 'cuda' });
    const batchSize = metrics.batchSize.labels(name);
    const batchFillRatio = metrics.batchFillRatio.labels(name);
    this.#scheduler = new Scheduler<InferRequest>(config, (batch) => this.#compute(batch), {
      onDispatch: (batch) => {
        batchSize.observe(batch.rows);
        if (this.#batched) batchFillRatio.observe(batch.rows / config.maxBatchSize);
      },
      onExpired: () => this.#count('timeout'),
      onCancelled: () => this.#count('cancelled'),
      onRejected: (reason) => this.#count(reason),
    });
    // The queue-depth and in-flight gauges read the scheduler when scraped.
    this.#series = {
      ok: metrics.watchModel(name, this.#scheduler),
      requestSeconds: metrics.requestSeconds.labels(name),
      queueSeconds: metrics.queueSeconds.labels(name),
      computeSeconds: metrics.computeSeconds.labels(name),
    };
  }

  get inputs(): readonly TensorMetadata[] {
    return this.session.inputs;
  }

  get outputs(): readonly TensorMetadata[] {
    return this.session.outputs;
  }

  get queueDepth(): number {
    return this.#scheduler.queueDepth;
  }

  get inFlight(): number {
    return this.#scheduler.inFlight;
  }

  // Validates the request at once (a caller mistake never waits in a queue), then queues it.
  infer(feeds: Record<string, Feed | RawTensor> | Feed, options: InferOptions = NO_OPTIONS): Promise<InferResult> {
    const named = this.#named(feeds);
    checkNames(named, this.#inputIndex, 'input');
    const { data, dims } = orderFeeds(this.inputs, named, true);
    this.#checkShapes(data, dims);
    const rows = this.#batched ? (dims[0]?.[0] ?? 1) : 1;
    const priority = options.priority ?? this.config.defaultPriority;
    if (!Number.isSafeInteger(priority) || priority < 1 || priority > this.config.priorityLevels) {
      throw outOfRange(`priority must be an integer in 1..${this.config.priorityLevels} for model '${this.name}', got ${priority}`);
    }
    const now = performance.now();
    const request = new InferRequest(data, dims, rows, this.#signature(dims), priority, now,
      this.#deadline(now, options.timeoutMs), this.#failed);
    this.#scheduler.submit(request, options.signal);
    return request.promise;
  }

  #signature(dims: readonly (readonly number[])[]): string {
    if (!this.#batched) return batchSignature(dims, false, ++this.#unbatchedCount);
    const last = this.#lastDims;
    let same = last.length === dims.length;
    for (let i = 0; same && i < dims.length; ++i) same = last[i] === dims[i];
    if (!same) {
      // Copied: a caller may reuse and change its dims arrays.
      this.#lastDims = dims.map((d) => (Object.isFrozen(d) ? d : [...d]));
      this.#lastSignature = batchSignature(dims, true, 0);
    }
    return this.#lastSignature;
  }

  // In-flight and queued requests finish; new ones are refused.
  async close(): Promise<void> {
    await this.#scheduler.close();
  }

  #count(reason: string): void {
    this.metrics.rejections.inc({ model: this.name, reason });
  }

  #named(feeds: Record<string, Feed | RawTensor> | Feed): Record<string, Feed | RawTensor> {
    if (ArrayBuffer.isView(feeds) || (typeof feeds === 'object' && feeds !== null && 'dtype' in feeds && 'data' in feeds)) {
      if (this.inputs.length !== 1) {
        throw new TypeError(`model '${this.name}' has ${this.inputs.length} inputs; pass them by name`);
      }
      return { [this.inputs[0]!.name]: feeds as Feed };
    }
    return feeds as Record<string, Feed>;
  }

  // The slot copy trusts these checks, so they cover everything the native run would check later.
  // (Plain loops: this runs for every request.)
  #checkShapes(data: readonly TypedArray[], dims: readonly (readonly number[])[]): void {
    let rows: number | undefined;
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; ++i) {
      const info = inputs[i]!;
      const d = dims[i]!;
      if (info.hasShape) {
        if (d.length !== info.dims.length) {
          throw outOfRange(`input '${info.name}' must have rank ${info.dims.length}, got dims [${d.join(', ')}]`);
        }
        for (let axis = 0; axis < d.length; ++axis) {
          const declared = info.dims[axis]!;
          if (declared >= 0 && d[axis] !== declared) {
            throw outOfRange(`input '${info.name}': dimension ${axis} must be ${declared}, got ${d[axis]}`);
          }
        }
      }
      for (let axis = 0; axis < d.length; ++axis) {
        const dim = d[axis]!;
        if (!Number.isSafeInteger(dim) || dim < 0) throw outOfRange(`input '${info.name}': dimension ${axis} is ${dim}`);
      }
      const array = data[i]!;
      const needed = elementCount(d) * elementSize(info.dtype);
      if (array.byteLength !== needed) {
        throw outOfRange(`input '${info.name}' of dims [${d.join(', ')}] needs ${elementCount(d)} ${info.dtype} elements ` +
          `(${needed} bytes), got ${array.byteLength} bytes`);
      }
      if (this.#batched) {
        if ((d[0] ?? 0) < 1) throw outOfRange(`input '${info.name}': the batch dimension must be at least 1`);
        if (rows !== undefined && d[0] !== rows) {
          throw outOfRange(`input '${info.name}' has ${d[0]} rows but input '${this.inputs[0]!.name}' has ${rows}`);
        }
        rows = d[0];
      }
    }
  }

  #deadline(now: number, timeoutMs: number | undefined): number {
    const model = this.config.defaultTimeoutMs > 0 ? this.config.defaultTimeoutMs : Infinity;
    if (timeoutMs !== undefined && !(timeoutMs > 0)) throw outOfRange(`timeoutMs must be > 0, got ${timeoutMs}`);
    return now + Math.min(model, timeoutMs ?? Infinity);
  }

  // The layout and output shapes of a batch like this one (same signature and rows), or new ones.
  #shapeOf(first: Pick<InferRequest, 'signature' | 'dims'>, rows: number): BatchShape {
    const last = this.#lastShape;
    if (last !== undefined && last.rows === rows && last.signature === first.signature) return last;
    const inputDims = first.dims.map((d) => (this.#batched ? [rows, ...d.slice(1)] : d));
    const namedDims = Object.fromEntries(this.inputs.map((info, i) => [info.name, inputDims[i]!]));
    if (this.session.outputsDependOnData(namedDims)) {
      return {
        signature: first.signature, rows, fullBatchBytes: 0, outputs: [], dimsByRows: [], dataDependent: true,
        placed: layout(this.inputs.map((info, i) => ({ dtype: info.dtype, dims: inputDims[i]! })), []),
      };
    }
    const outputDims = this.session.outputDims(namedDims);
    const placed = layout(
      this.inputs.map((info, i) => ({ dtype: info.dtype, dims: inputDims[i]! })),
      this.outputs.map((info) => ({ dtype: info.dtype, dims: outputDims[info.name]! })),
    );
    const shape: BatchShape = {
      signature: first.signature,
      rows,
      placed,
      // A full batch of this signature needs about maxBatchSize/rows times the bytes.
      fullBatchBytes: this.#batched ? Math.ceil((placed.bytes * this.config.maxBatchSize) / rows) : placed.bytes,
      outputs: this.outputs.map((info) => {
        const dims = outputDims[info.name]!;
        return { name: info.name, dtype: info.dtype, dims, perRow: elementCount(dims.slice(1)) };
      }),
      dimsByRows: this.outputs.map(() => new Map<number, readonly number[]>()),
      dataDependent: false,
    };
    // An unbatched model's requests each have their own signature: nothing to reuse.
    if (this.#batched) this.#lastShape = shape;
    return shape;
  }

  // Runs a one-row batch of zeros on every worker thread at once, so that each has made its session
  // before a request needs it: the first batch of a worker plans the model and, on a GPU, creates its
  // stream and cuBLAS handle, which took ~100 ms there. Only where such a batch has a known shape (a
  // dynamic dimension besides the batch one has no value to warm with). A warm-up the model refuses
  // (zeros it cannot take) is no error: the sessions exist all the same, and requests get their own
  // errors. Resolves whether every worker computed the batch.
  async warmUp(): Promise<boolean> {
    const dims: number[][] = [];
    for (const info of this.inputs) {
      if (!info.hasShape) return false;
      const d = info.dims.map((dim, axis) => (axis === 0 && this.#batched ? 1 : dim));
      if (d.some((dim) => dim < 0)) return false;
      dims.push(d);
    }
    const shape = this.#shapeOf({ signature: this.#signature(dims), dims }, 1);
    if (shape.dataDependent) return false;
    const { placed } = shape;
    // Buffers of their own rather than slots: every worker runs at once, and a model may have fewer
    // slots than there are workers. New SharedArrayBuffers hold zeros.
    const runs = Array.from({ length: this.pool.workers }, () => this.pool.run({
      modelKey: this.key, modelPath: this.path, modelOptions: this.session.modelOptions, threads: this.threadsPerWorker,
      buffer: new SharedArrayBuffer(placed.bytes), inputs: placed.inputs, outputs: placed.outputs,
    }).then(() => true, () => false));
    return (await Promise.all(runs)).every(Boolean);
  }

  async #compute(batch: Batch<InferRequest>): Promise<void> {
    const requests = batch.requests;
    const shape = this.#shapeOf(requests[0]!, batch.rows);
    if (shape.dataDependent) {
      // Rows of a data-dependent output (NonZero's indices, a Loop's stack) do not map back to the
      // requests that fed them: each request computes alone, one after another in this batch's slot
      // turn (the model's slots bound how many batches are in flight).
      for (const request of requests) {
        await this.#computeAlone(request, requests.length === 1 ? shape : this.#shapeOf(request, request.rows), batch.rows);
      }
      return;
    }
    const { placed } = shape;
    const dispatchedAt = performance.now();
    const slot = this.#slots.acquire(placed.bytes, shape.fullBatchBytes);
    let outputs: TypedArray[];
    let computeMs: number;
    try {
      // The one copy on the way in: each request's rows, straight into its place in the slot.
      for (let i = 0; i < placed.inputs.length; ++i) this.#copyInput(requests, i, slot.buffer, placed.inputs[i]!);
      ({ computeMs } = await this.pool.run({
        modelKey: this.key, modelPath: this.path, modelOptions: this.session.modelOptions, threads: this.threadsPerWorker,
        buffer: slot.buffer,
        inputs: placed.inputs, outputs: placed.outputs,
      }));
      // The one copy on the way out: the slot is reused by the next batch, so the outputs move to
      // memory of their own (one allocation per output per batch); each caller gets views of its rows.
      outputs = placed.outputs.map((placement, j) => {
        const Constructor = typedArrayConstructorFor(this.outputs[j]!.dtype);
        return new Constructor(slot.buffer, placement.byteOffset, elementCount(placement.dims)).slice();
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const request of requests) request.fail(failure);
      return;
    } finally {
      this.#slots.release(slot);
    }
    this.#deliver(requests, shape, outputs, dispatchedAt, computeMs, batch.rows);
  }

  // One request of a model whose output sizes follow from computed data: inputs through a slot as
  // usual, outputs back in the worker's result.
  async #computeAlone(request: InferRequest, shape: BatchShape, batchSize: number): Promise<void> {
    const { placed } = shape;
    const dispatchedAt = performance.now();
    const slot = this.#slots.acquire(placed.bytes, placed.bytes);
    let result;
    try {
      for (let i = 0; i < placed.inputs.length; ++i) this.#copyInput([request], i, slot.buffer, placed.inputs[i]!);
      result = await this.pool.run({
        modelKey: this.key, modelPath: this.path, modelOptions: this.session.modelOptions, threads: this.threadsPerWorker,
        buffer: slot.buffer,
        inputs: placed.inputs, outputs: [], outputsDependOnData: true,
      });
    } catch (error) {
      request.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    } finally {
      this.#slots.release(slot);
    }
    const fetched: Record<string, Tensor> = {};
    this.outputs.forEach((info, j) => {
      const produced = result.outputs?.[j];
      const data = produced?.data ?? new (typedArrayConstructorFor(info.dtype))(0);
      // The dims arrived by structured cloning: a fresh array of this request's own.
      fetched[info.name] = { dtype: info.dtype, dims: Object.freeze(produced?.dims ?? [0]), data: data as TypedArray };
    });
    if (!this.#answer(request, fetched, dispatchedAt, performance.now(), result.computeMs, batchSize)) return;
    this.#series.ok.count += 1;
    this.#series.computeSeconds.observeMany(result.computeMs / 1000, 1);
  }

  // Answers one request and records its queue and end-to-end times; false when it was settled
  // meanwhile (cancelled, or timed out).
  #answer(request: InferRequest, outputs: Record<string, Tensor>, dispatchedAt: number, finishedAt: number,
    computeMs: number, batchSize: number): boolean {
    const queueMs = dispatchedAt - request.enqueuedAt;
    if (!request.succeed({ outputs, timing: { queueMs, computeMs, batchSize } })) return false;
    this.#series.queueSeconds.observe(queueMs / 1000);
    this.#series.requestSeconds.observe((finishedAt - request.enqueuedAt) / 1000);
    return true;
  }

  // Copies input `i` of every request of a batch, in order, to its place in the slot. A typed array of
  // the input's own class is copied through a view of that class (a memcpy, with no per-request view
  // object); anything else — raw body bytes, possibly unaligned — through byte views.
  #copyInput(requests: readonly InferRequest[], i: number, buffer: SharedArrayBuffer, placement: TensorPlacement): void {
    const Typed = typedArrayConstructorFor(this.inputs[i]!.dtype);
    const regionBytes = elementCount(placement.dims) * Typed.BYTES_PER_ELEMENT;
    let typedTarget: TypedArray | undefined;
    let byteTarget: Uint8Array | undefined;
    let offset = 0;
    for (let r = 0; r < requests.length; ++r) {
      const source = requests[r]!.inputs[i]!;
      if (source instanceof Typed && Typed.BYTES_PER_ELEMENT > 1 && offset % Typed.BYTES_PER_ELEMENT === 0) {
        typedTarget ??= new Typed(buffer, placement.byteOffset, regionBytes / Typed.BYTES_PER_ELEMENT);
        (typedTarget as Float32Array).set(source as Float32Array, offset / Typed.BYTES_PER_ELEMENT);
      } else {
        byteTarget ??= new Uint8Array(buffer, placement.byteOffset, regionBytes);
        byteTarget.set(source instanceof Uint8Array ? source : new Uint8Array(source.buffer, source.byteOffset, source.byteLength), offset);
      }
      offset += source.byteLength;
    }
  }

  // Hands each request of a computed batch its rows of the outputs, and counts them: a success is
  // one tally bump and three histogram updates, with one clock reading for the whole batch.
  #deliver(requests: readonly InferRequest[], shape: BatchShape, outputs: TypedArray[], dispatchedAt: number,
    computeMs: number, batchSize: number): void {
    const series = this.#series;
    const finishedAt = performance.now();
    const shapes = shape.outputs;
    let row = 0;
    let delivered = 0;
    for (let r = 0; r < requests.length; ++r) {
      const request = requests[r]!;
      const fetched: Record<string, Tensor> = {};
      for (let j = 0; j < shapes.length; ++j) {
        const { name, dtype, dims, perRow } = shapes[j]!;
        const all = outputs[j]!;
        if (!this.#batched) {
          fetched[name] = { dtype, dims, data: all };
          continue;
        }
        const byRows = shape.dimsByRows[j]!;
        let rowDims = byRows.get(request.rows);
        if (rowDims === undefined) byRows.set(request.rows, (rowDims = Object.freeze([request.rows, ...dims.slice(1)])));
        fetched[name] = { dtype, dims: rowDims, data: all.subarray(row * perRow, (row + request.rows) * perRow) as TypedArray };
      }
      row += request.rows;
      if (this.#answer(request, fetched, dispatchedAt, finishedAt, computeMs, batchSize)) ++delivered;
    }
    series.ok.count += delivered;
    series.computeSeconds.observeMany(computeMs / 1000, delivered);
  }

  // SharedArrayBuffers created for this model's slots so far.
  get slotAllocations(): number {
    return this.#slots.allocations;
  }

  static closedError(name: string): ServingError {
    return new ServingError('INFERD_ERR_MODEL_UNAVAILABLE', `model '${name}' is being unloaded`);
  }
}
