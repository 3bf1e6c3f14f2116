// The engine users import: models loaded by name, each with its own scheduler (dynamic batching,
// priorities, deadlines, admission control), computed on a shared pool of worker threads.
//
//   const engine = await Engine.create({ workers: 2 });
//   const model = await engine.load('./model.onnx', { name: 'clf', maxBatchSize: 32, maxQueueDelayMs: 2 });
//   const { probabilities } = await model.infer({ image: pixels }, { priority: 1, timeoutMs: 50 });
//   await engine.close();
import path from 'node:path';
import { Registry } from 'prom-client';
import { EngineMetrics } from '../observability/metrics.js';
import { WorkerPool, type WorkerPoolOptions } from '../pool/worker-pool.js';
import { ServingError } from '../scheduler/errors.js';
import type { Feed, RawTensor } from './feeds.js';
import type { InferResult } from './infer-request.js';
import { type ModelConfig, type ModelLoadOptions, hasBatchDimension, modelOptionsFor, resolveConfig } from './model-config.js';
import { type InferOptions, ModelRunner } from './model-runner.js';
import { type Backend, InferenceSession, type ModelOptions, type ProviderName, type TensorMetadata } from './session.js';
import type { Tensor } from './tensor.js';

export interface EngineOptions extends WorkerPoolOptions {
  // The registry metrics are kept in (default: a new one per engine).
  registry?: Registry;
  // Where models compute unless their load options say otherwise (default 'cpu'): 'cpu'; 'cuda',
  // which fails to load a model when no GPU is visible; or 'auto', CUDA when a GPU is visible and
  // every op of the model has a CUDA kernel, else the CPU.
  provider?: ProviderName;
  // With CUDA, whether ops without a CUDA kernel may run on the CPU (default true).
  cpuFallback?: boolean;
}

export interface ModelDescription {
  name: string;
  path: string;
  inputs: readonly TensorMetadata[];
  outputs: readonly TensorMetadata[];
  opset: number;
  // The backend the model computes on ('auto' resolved).
  provider: Backend;
  config: ModelConfig;
}

// A loaded model, as returned by Engine.load.
export class LoadedModel {
  constructor(readonly engine: Engine, readonly name: string) {}

  // Outputs by name. `feeds` may be one tensor or typed array when the model has one input.
  async infer(feeds: Record<string, Feed | RawTensor> | Feed, options?: InferOptions): Promise<Record<string, Tensor>> {
    return (await this.engine.inferDetailed(this.name, feeds, options)).outputs;
  }

  // Outputs and timing (queue wait, compute, batch size).
  inferDetailed(feeds: Record<string, Feed | RawTensor> | Feed, options?: InferOptions): Promise<InferResult> {
    return this.engine.inferDetailed(this.name, feeds, options);
  }

  describe(): ModelDescription {
    return this.engine.describe(this.name);
  }

  unload(): Promise<void> {
    return this.engine.unload(this.name);
  }
}

let loadCounter = 0;

export class Engine {
  readonly metrics: EngineMetrics;
  readonly #pool: WorkerPool;
  readonly #models = new Map<string, ModelRunner>();
  readonly #defaults: ModelOptions;  // for models whose load options leave them out
  #closing: Promise<void> | undefined;

  private constructor(options: EngineOptions) {
    this.#defaults = {
      ...(options.provider !== undefined && { provider: options.provider }),
      ...(options.cpuFallback !== undefined && { cpuFallback: options.cpuFallback }),
    };
    this.#pool = new WorkerPool(options);
    this.metrics = new EngineMetrics(options.registry ?? new Registry(), () => this.#pool.utilization);
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    return new Engine(options);
  }

  get workers(): number {
    return this.#pool.workers;
  }

  get threadsPerWorker(): number {
    return this.#pool.threadsPerWorker;
  }

  // Native runs across every worker so far (tests count computed batches with it).
  get nativeRuns(): number {
    return this.#pool.nativeRuns;
  }

  get modelNames(): string[] {
    return [...this.#models.keys()];
  }

  // Loads (and checks) the model on this thread — the weights are loaded once per process and shared
  // by every worker's session — and sets up its scheduler. Throws for a bad model or configuration.
  async load(modelPath: string, options: ModelLoadOptions = {}): Promise<LoadedModel> {
    this.#checkOpen();
    const resolved = path.resolve(modelPath);
    const name = options.name ?? path.basename(resolved, path.extname(resolved));
    if (this.#models.has(name)) throw new TypeError(`a model named '${name}' is already loaded`);
    const session = InferenceSession.load(resolved, { threads: 1, ...modelOptionsFor(options, this.#defaults) });
    const batchable = hasBatchDimension(session.inputs, session.outputs);
    const config = resolveConfig(options, batchable, this.#pool.workers, `model '${name}'`);
    const runner = new ModelRunner(name, resolved, `${name}#${++loadCounter}`, config, session,
      this.#pool.threadsPerWorker, this.#pool, this.metrics);
    this.#models.set(name, runner);
    this.metrics.gpu.setModelProvider(name, session.provider);
    if (options.warmup ?? true) await runner.warmUp();
    return new LoadedModel(this, name);
  }

  model(name: string): LoadedModel {
    this.#runner(name);
    return new LoadedModel(this, name);
  }

  describe(name: string): ModelDescription {
    const runner = this.#runner(name);
    return {
      name, path: runner.path, inputs: runner.inputs, outputs: runner.outputs, opset: runner.session.opset,
      provider: runner.session.provider, config: runner.config,
    };
  }

  async infer(name: string, feeds: Record<string, Feed | RawTensor> | Feed, options?: InferOptions): Promise<Record<string, Tensor>> {
    return (await this.inferDetailed(name, feeds, options)).outputs;
  }

  inferDetailed(name: string, feeds: Record<string, Feed | RawTensor> | Feed, options?: InferOptions): Promise<InferResult> {
    try {
      this.#checkOpen();
      return this.#runner(name).infer(feeds, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Live figures of a model's scheduler, slots and worker sessions (workerSessions: the worker threads
  // that have made their session of it, every one of them once a warm-up has run).
  stats(name: string): { queueDepth: number; inFlight: number; instances: number; slotAllocations: number; workerSessions: number } {
    const runner = this.#runner(name);
    return { queueDepth: runner.queueDepth, inFlight: runner.inFlight, instances: runner.config.instances,
      slotAllocations: runner.slotAllocations, workerSessions: this.#pool.sessionsOf(runner.key) };
  }

  // New requests for the model fail at once; queued and in-flight ones finish; then every worker
  // drops its session for it.
  async unload(name: string): Promise<void> {
    const runner = this.#runner(name);
    this.#models.delete(name);
    await runner.close();
    this.#pool.unloadModel(runner.key);
    this.metrics.forgetModel(name);
    this.metrics.gpu.forgetModel(name);
  }

  // Refuses new requests, lets queued and in-flight ones finish, stops the workers.
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const runners = [...this.#models.values()];
      this.#models.clear();
      await Promise.all(runners.map((r) => r.close()));
      await this.#pool.close();
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing) throw new ServingError('INFERD_ERR_CLOSED', 'the engine is closed');
  }

  #runner(name: string): ModelRunner {
    const runner = this.#models.get(name);
    if (!runner) {
      const known = [...this.#models.keys()].map((n) => `'${n}'`).join(', ');
      throw new ServingError('INFERD_ERR_MODEL_NOT_FOUND', `no model named '${name}' is loaded (loaded: ${known || 'none'})`);
    }
    return runner;
  }
}
