// A loaded model in the engine: validates each request against the model, hands it to the model's
// scheduler, and computes the batches the scheduler forms — each request's rows copied straight into
// a SharedArrayBuffer slot, the batch run by a worker thread, each caller handed views of its own
// rows of the outputs.
import { type WorkerPool } from '../pool/worker-pool.js';
import { SlotPool, layout } from '../pool/slot-pool.js';
import { Scheduler } from '../scheduler/dynamic-batcher.js';
import { ServingError } from '../scheduler/errors.js';
import type { Batch } from '../scheduler/types.js';
import type { EngineMetrics } from '../observability/metrics.js';
import { type TypedArray, elementSize, typedArrayConstructorFor } from './dtypes.js';
import { outOfRange } from './errors.js';
import { type Feed, type RawTensor, checkNames, orderFeeds } from './feeds.js';
import { InferRequest, type InferResult } from './infer-request.js';
import type { ModelConfig } from './model-config.js';
import type { InferenceSession, TensorMetadata } from './session.js';
import { type Tensor, elementCount } from './tensor.js';

export interface InferOptions {
  // 1 = most urgent; defaults to the model's defaultPriority.
  priority?: number;
  // Fail the request if it is still queued after this long; may only shorten the model's default.
  timeoutMs?: number;
  // Cancels the request if it is still queued when the signal aborts.
  signal?: AbortSignal;
}

export class ModelRunner {
  readonly #inputIndex: ReadonlyMap<string, number>;
  readonly #scheduler: Scheduler<InferRequest>;
  readonly #slots: SlotPool;
  readonly #batched: boolean;
  // This model's metric series, resolved once: label lookups per request cost more than the updates.
  readonly #series: {
    ok: { inc(): void };
    requestSeconds: { observe(v: number): void };
    queueSeconds: { observe(v: number): void };
    computeSeconds: { observe(v: number): void };
  };
  readonly #settled = (request: InferRequest, error?: Error) => {
    if (error === undefined) {
      this.#series.ok.inc();
      this.#series.requestSeconds.observe((performance.now() - request.enqueuedAt) / 1000);
    } else {
      const code = (error as { code?: string }).code ?? 'error';
      this.metrics.requests.inc({ model: this.name, status: code.replace(/^INFERD_ERR_/, '').toLowerCase() });
    }
  };

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
    this.#slots = new SlotPool(config.instances);
    const labels = { model: name };
    this.#series = {
      ok: metrics.requests.labels(name, 'ok'),
      requestSeconds: metrics.requestSeconds.labels(name),
      queueSeconds: metrics.queueSeconds.labels(name),
      computeSeconds: metrics.computeSeconds.labels(name),
    };
    this.#scheduler = new Scheduler<InferRequest>(config, (batch) => this.#compute(batch), {
      onDispatch: (batch) => {
        metrics.batchSize.observe(labels, batch.rows);
        if (this.#batched) metrics.batchFillRatio.observe(labels, batch.rows / config.maxBatchSize);
        metrics.inflightBatches.inc(labels);
      },
      onSettled: () => metrics.inflightBatches.dec(labels),
      onExpired: () => this.#count('timeout'),
      onCancelled: () => this.#count('cancelled'),
      onRejected: (reason) => this.#count(reason),
      onQueueDepth: (depth) => metrics.queueDepth.set(labels, depth),
    });
    metrics.queueDepth.set(labels, 0);
    metrics.inflightBatches.set(labels, 0);
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
  infer(feeds: Record<string, Feed | RawTensor> | Feed, options: InferOptions = {}): Promise<InferResult> {
    const named = this.#named(feeds);
    checkNames(named, this.#inputIndex, 'input');
    const { data, dims } = orderFeeds(this.inputs, named, true);
    const bytes = this.#checkShapes(data, dims);
    const rows = this.#batched ? (dims[0]?.[0] ?? 1) : 1;
    const priority = options.priority ?? this.config.defaultPriority;
    if (!Number.isSafeInteger(priority) || priority < 1 || priority > this.config.priorityLevels) {
      throw outOfRange(`priority must be an integer in 1..${this.config.priorityLevels} for model '${this.name}', got ${priority}`);
    }
    const request = new InferRequest(bytes, dims, rows, this.#batched, priority, this.#deadline(options.timeoutMs),
      this.#settled);
    this.#scheduler.submit(request, options.signal);
    return request.promise;
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
  // Returns each input as a byte view (raw tensors already are), which is what the slot copy takes.
  #checkShapes(data: readonly TypedArray[], dims: readonly (readonly number[])[]): Uint8Array[] {
    let rows: number | undefined;
    const bytes: Uint8Array[] = [];
    this.inputs.forEach((info, i) => {
      const d = dims[i]!;
      if (info.hasShape) {
        if (d.length !== info.dims.length) {
          throw outOfRange(`input '${info.name}' must have rank ${info.dims.length}, got dims [${d.join(', ')}]`);
        }
        info.dims.forEach((declared, axis) => {
          if (declared >= 0 && d[axis] !== declared) {
            throw outOfRange(`input '${info.name}': dimension ${axis} must be ${declared}, got ${d[axis]}`);
          }
        });
      }
      for (const [axis, dim] of d.entries()) {
        if (!Number.isSafeInteger(dim) || dim < 0) throw outOfRange(`input '${info.name}': dimension ${axis} is ${dim}`);
      }
      const array = data[i]!;
      const needed = elementCount(d) * elementSize(info.dtype);
      if (array.byteLength !== needed) {
        throw outOfRange(`input '${info.name}' of dims [${d.join(', ')}] needs ${elementCount(d)} ${info.dtype} elements ` +
          `(${needed} bytes), got ${array.byteLength} bytes`);
      }
      // A byte view (an object, not a copy) per input: the slot copy is byte-wise so that raw,
      // unaligned binary-body tensors and typed arrays take the same single copy.
      bytes.push(array instanceof Uint8Array ? array : new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      if (this.#batched) {
        if ((d[0] ?? 0) < 1) throw outOfRange(`input '${info.name}': the batch dimension must be at least 1`);
        if (rows !== undefined && d[0] !== rows) {
          throw outOfRange(`input '${info.name}' has ${d[0]} rows but input '${this.inputs[0]!.name}' has ${rows}`);
        }
        rows = d[0];
      }
    });
    return bytes;
  }

  #deadline(timeoutMs: number | undefined): number {
    const model = this.config.defaultTimeoutMs > 0 ? this.config.defaultTimeoutMs : Infinity;
    if (timeoutMs !== undefined && !(timeoutMs > 0)) throw outOfRange(`timeoutMs must be > 0, got ${timeoutMs}`);
    return performance.now() + Math.min(model, timeoutMs ?? Infinity);
  }

  async #compute(batch: Batch<InferRequest>): Promise<void> {
    const requests = batch.requests;
    const first = requests[0]!;
    const inputDims = first.dims.map((d) => (this.#batched ? [batch.rows, ...d.slice(1)] : d));
    const outputDims = this.session.outputDims(Object.fromEntries(this.inputs.map((info, i) => [info.name, inputDims[i]!])));
    const placed = layout(
      this.inputs.map((info, i) => ({ dtype: info.dtype, dims: inputDims[i]! })),
      this.outputs.map((info) => ({ dtype: info.dtype, dims: outputDims[info.name]! })),
    );
    const dispatchedAt = performance.now();
    // A full batch of this signature needs about maxBatchSize/rows times the bytes.
    const fullBatchBytes = this.#batched ? Math.ceil((placed.bytes * this.config.maxBatchSize) / batch.rows) : placed.bytes;
    const slot = this.#slots.acquire(placed.bytes, fullBatchBytes);
    try {
      // The one copy on the way in: each request's rows, straight into its place in the slot.
      placed.inputs.forEach((placement, i) => {
        const target = new Uint8Array(slot.buffer, placement.byteOffset);
        let offset = 0;
        for (const request of requests) {
          const source = request.inputs[i]!;
          target.set(source, offset);
          offset += source.byteLength;
        }
      });
      const result = await this.pool.run({
        modelKey: this.key, modelPath: this.path, threads: this.threadsPerWorker, buffer: slot.buffer,
        inputs: placed.inputs, outputs: placed.outputs,
      });
      // The one copy on the way out: the slot is reused by the next batch, so the outputs move to
      // memory of their own (one allocation per output per batch); each caller gets views of its rows.
      const outputs = placed.outputs.map((placement, j) => {
        const Constructor = typedArrayConstructorFor(this.outputs[j]!.dtype);
        return new Constructor(slot.buffer, placement.byteOffset, elementCount(placement.dims)).slice();
      });
      // Per output, once per batch: the dims after the batch dimension and the elements per row.
      const shapes = this.outputs.map((info) => {
        const dims = outputDims[info.name]!;
        return { name: info.name, dtype: info.dtype, dims, rest: dims.slice(1), perRow: elementCount(dims.slice(1)) };
      });
      // Requests of a batch mostly have the same number of rows: they share one frozen dims array.
      const dimsByRows = shapes.map(() => new Map<number, readonly number[]>());
      let row = 0;
      for (const request of requests) {
        const fetched: Record<string, Tensor> = {};
        for (let j = 0; j < shapes.length; ++j) {
          const { name, dtype, dims, rest, perRow } = shapes[j]!;
          const all = outputs[j]!;
          if (!this.#batched) {
            fetched[name] = { dtype, dims, data: all };
            continue;
          }
          let rowDims = dimsByRows[j]!.get(request.rows);
          if (rowDims === undefined) dimsByRows[j]!.set(request.rows, (rowDims = Object.freeze([request.rows, ...rest])));
          fetched[name] = { dtype, dims: rowDims, data: all.subarray(row * perRow, (row + request.rows) * perRow) as TypedArray };
        }
        row += request.rows;
        const queueMs = dispatchedAt - request.enqueuedAt;
        this.#series.queueSeconds.observe(queueMs / 1000);
        this.#series.computeSeconds.observe(result.computeMs / 1000);
        request.succeed({ outputs: fetched, timing: { queueMs, computeMs: result.computeMs, batchSize: batch.rows } });
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const request of requests) request.fail(failure);
    } finally {
      this.#slots.release(slot);
    }
  }

  // SharedArrayBuffers created for this model's slots so far.
  get slotAllocations(): number {
    return this.#slots.allocations;
  }

  static closedError(name: string): ServingError {
    return new ServingError('INFERD_ERR_MODEL_UNAVAILABLE', `model '${name}' is being unloaded`);
  }
}
