// A model's serving configuration: the batching semantics of Triton's dynamic batcher, with defaults
// that fit a model whose inputs and outputs all lead with a dynamic batch dimension.
import type { BatchingConfig } from '../scheduler/types.js';
import type { ModelOptions, ProviderName, TensorMetadata } from './session.js';

export type ModelConfig = BatchingConfig;

export interface ModelLoadOptions extends Partial<ModelConfig> {
  // The name requests use; defaults to the file name without its extension.
  name?: string;
  // Where the model computes: 'cpu', 'cuda' or 'auto' (default: the engine's, else 'cpu').
  provider?: ProviderName;
  // With CUDA, whether ops without a CUDA kernel may run on the CPU (default: the engine's, else true).
  cpuFallback?: boolean;
  // Whether load runs a batch of zeros on every worker thread first, so that no request pays for a
  // worker's first batch (default true; see ModelRunner.warmUp).
  warmup?: boolean;
}

export const PROVIDERS: readonly ProviderName[] = ['cpu', 'cuda', 'auto'];

// A provider named by a user (flag, environment, config file); `where` names the source in the error.
export function parseProvider(value: unknown, where: string): ProviderName {
  if (typeof value === 'string' && (PROVIDERS as readonly string[]).includes(value)) return value as ProviderName;
  throw new RangeError(`${where}: provider must be one of ${PROVIDERS.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(value)}`);
}

// The options a model loads with: its own, else the engine's defaults.
export function modelOptionsFor(options: ModelLoadOptions, defaults: ModelOptions): ModelOptions {
  const provider = options.provider ?? defaults.provider;
  const cpuFallback = options.cpuFallback ?? defaults.cpuFallback;
  return { ...(provider !== undefined && { provider }), ...(cpuFallback !== undefined && { cpuFallback }) };
}

export const DEFAULT_MAX_BATCH_SIZE = 32;

// Whether every input and output leads with a dynamic dimension, which batches stack along.
export function hasBatchDimension(inputs: readonly TensorMetadata[], outputs: readonly TensorMetadata[]): boolean {
  return [...inputs, ...outputs].every((t) => !t.hasShape || (t.dims.length > 0 && (t.dims[0] ?? 0) < 0));
}

// The full configuration, validated; `where` names the model (or file) in every message.
export function resolveConfig(
  options: Partial<ModelConfig>,
  batchable: boolean,
  workers: number,
  where: string,
): ModelConfig {
  const config: ModelConfig = {
    maxBatchSize: options.maxBatchSize ?? (batchable ? DEFAULT_MAX_BATCH_SIZE : 0),
    preferredBatchSizes: [...(options.preferredBatchSizes ?? [])].sort((a, b) => a - b),
    maxQueueDelayMs: options.maxQueueDelayMs ?? 0,
    priorityLevels: options.priorityLevels ?? 3,
    defaultPriority: options.defaultPriority ?? Math.ceil((options.priorityLevels ?? 3) / 2),
    queueCapacity: options.queueCapacity ?? 1024,
    defaultTimeoutMs: options.defaultTimeoutMs ?? 0,
    instances: options.instances ?? workers,
  };
  const integer = (field: keyof ModelConfig, min: number) => {
    const value = config[field] as number;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`${where}: ${field} must be an integer ≥ ${min}, got ${String(value)}`);
    }
  };
  integer('maxBatchSize', 0);
  integer('priorityLevels', 1);
  integer('defaultPriority', 1);
  integer('queueCapacity', 1);
  integer('instances', 1);
  if (!(config.maxQueueDelayMs >= 0 && Number.isFinite(config.maxQueueDelayMs))) throw new RangeError(`${where}: maxQueueDelayMs must be a finite number ≥ 0, got ${config.maxQueueDelayMs}`);
  if (!(config.defaultTimeoutMs >= 0)) throw new RangeError(`${where}: defaultTimeoutMs must be ≥ 0, got ${config.defaultTimeoutMs}`);
  if (config.defaultPriority > config.priorityLevels) {
    throw new RangeError(`${where}: defaultPriority ${config.defaultPriority} exceeds priorityLevels ${config.priorityLevels}`);
  }
  if (config.maxBatchSize > 0 && !batchable) {
    throw new RangeError(`${where}: maxBatchSize is ${config.maxBatchSize} but not every input and output leads with a ` +
      'dynamic batch dimension; set maxBatchSize to 0 to run each request alone');
  }
  for (const size of config.preferredBatchSizes) {
    if (!Number.isSafeInteger(size) || size < 1 || (config.maxBatchSize > 0 && size > config.maxBatchSize)) {
      throw new RangeError(`${where}: preferred batch size ${size} must be an integer in 1..maxBatchSize (${config.maxBatchSize})`);
    }
  }
  return config;
}
