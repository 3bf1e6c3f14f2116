// The model repository, laid out as Triton's:
//   <repository>/<name>/model.onnx                 one unversioned model (served as version "1")
//   <repository>/<name>/<version>/model.onnx       numbered versions; the highest is served
//   <repository>/<name>/config.json                optional serving configuration (see ModelConfig)
// Every problem stops start-up with a message naming the file and, for config.json, the field.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type ModelLoadOptions, PROVIDERS } from '../engine/model-config.js';

export interface RepositoryModel {
  name: string;
  version: string;
  file: string;
  options: ModelLoadOptions;
}

export class RepositoryError extends Error {
  override name = 'RepositoryError';
}

// config.json fields: their JSON types as checked here; ranges are checked when the model loads.
const CONFIG_FIELDS: Record<string, 'integer' | 'number' | 'integer[]' | 'boolean' | 'provider'> = {
  maxBatchSize: 'integer',
  preferredBatchSizes: 'integer[]',
  maxQueueDelayMs: 'number',
  priorityLevels: 'integer',
  defaultPriority: 'integer',
  queueCapacity: 'integer',
  defaultTimeoutMs: 'number',
  instances: 'integer',
  provider: 'provider',
  cpuFallback: 'boolean',
  warmup: 'boolean',
};

export function readModelConfig(file: string): ModelLoadOptions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RepositoryError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RepositoryError(`${file}: must hold a JSON object of serving settings`);
  }
  const options: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parsed)) {
    const kind = CONFIG_FIELDS[field];
    if (kind === undefined) {
      throw new RepositoryError(`${file}: unknown field '${field}' (known: ${Object.keys(CONFIG_FIELDS).join(', ')})`);
    }
    const ok = kind === 'integer' ? Number.isSafeInteger(value)
      : kind === 'number' ? typeof value === 'number' && Number.isFinite(value)
      : kind === 'boolean' ? typeof value === 'boolean'
      : kind === 'provider' ? (PROVIDERS as readonly unknown[]).includes(value)
      : Array.isArray(value) && value.every((v) => Number.isSafeInteger(v));
    if (!ok) throw new RepositoryError(`${file}: field '${field}' must be ${expected(kind)}, got ${JSON.stringify(value)}`);
    options[field] = value;
  }
  return options as ModelLoadOptions;
}

function expected(kind: string): string {
  switch (kind) {
    case 'integer[]': return 'an array of integers';
    case 'boolean': return 'true or false';
    case 'provider': return `one of ${PROVIDERS.map((p) => `"${p}"`).join(', ')}`;
    default: return `a finite ${kind}`;
  }
}

export function scanRepository(directory: string): RepositoryModel[] {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new RepositoryError(`${directory}: the model repository is not a directory`);
  }
  const models: RepositoryModel[] = [];
  for (const name of readdirSync(directory).sort()) {
    const modelDir = path.join(directory, name);
    if (!statSync(modelDir).isDirectory()) continue;
    const configFile = path.join(modelDir, 'config.json');
    const options = existsSync(configFile) ? readModelConfig(configFile) : {};
    const versions = readdirSync(modelDir).filter((v) => /^\d+$/.test(v) && existsSync(path.join(modelDir, v, 'model.onnx')))
      .sort((a, b) => Number(a) - Number(b));
    const latest = versions.at(-1);
    const file = latest !== undefined ? path.join(modelDir, latest, 'model.onnx') : path.join(modelDir, 'model.onnx');
    if (!existsSync(file)) {
      throw new RepositoryError(`${modelDir}: no model.onnx (expected ${name}/model.onnx or ${name}/<version>/model.onnx)`);
    }
    models.push({ name, version: latest ?? '1', file, options: { ...options, name } });
  }
  if (models.length === 0) throw new RepositoryError(`${directory}: the model repository holds no models`);
  return models;
}

// A single model file served on its own, named after the file.
export function singleModel(file: string, options: ModelLoadOptions): RepositoryModel {
  if (!existsSync(file)) throw new RepositoryError(`${file}: no such model file`);
  const name = options.name ?? path.basename(file, path.extname(file));
  return { name, version: '1', file, options: { ...options, name } };
}
