// Loads the native addon (build/Release/inferd.node, or the path in env INFERD_ADDON) and types its
// exports. Loaded once per thread on first use; every worker thread gets its own instance of the
// addon's classes but shares the process-wide model cache inside it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { DType } from './dtypes.js';

export interface NativeTensorInfo {
  name: string;
  dtype: DType;
  dims: number[]; // -1 marks a dynamic dimension
  dimNames: (string | null)[];
  hasShape: boolean; // false when the model declares no shape at all
}

// Where a model computes: what a load asks for, and the backend it got ("auto" resolves to one).
export type ProviderName = 'cpu' | 'cuda' | 'auto';
export type Backend = 'cpu' | 'cuda';

export interface NativeModelDescription {
  inputs: NativeTensorInfo[];
  outputs: NativeTensorInfo[];
  opset: number;
  weightBytes: number;
  nodeCount: number;
  provider: Backend;
}

export interface NativeUnsupportedOp {
  opType: string;
  nodeName: string;
  domain: string;
  opset: number;
}

export interface NativeInspection {
  inputs: NativeTensorInfo[];
  outputs: NativeTensorInfo[];
  opsets: Record<string, number>; // domain ('ai.onnx' for the default one) → version
  opCensus: Record<string, number>; // op type → node count
  unsupported: NativeUnsupportedOp[];
  irVersion: number;
  producer: string;
  weightBytes: number;
}

export interface NativeSession {
  describe(): NativeModelDescription;
  // null when the output sizes follow from computed data (NonZero, If, Loop…): known only by running.
  outputShapes(inputDims: readonly (readonly number[])[]): number[][] | null;
  // Inputs in the model's input order; outputs written in place when given, else allocated.
  run<T extends ArrayBufferView[]>(inputs: readonly ArrayBufferView[], inputDims: readonly (readonly number[])[], outputs: T): T;
  run(inputs: readonly ArrayBufferView[], inputDims: readonly (readonly number[])[]): ArrayBufferView[];
  readonly runCount: number;
  // The output shapes the last run produced.
  readonly lastOutputShapes: number[][];
}

export interface NativeSessionOptions {
  threads?: number;
  optimize?: boolean;
  provider?: ProviderName;
  cpuFallback?: boolean;
}

export interface NativeSessionConstructor {
  new (source: string | Uint8Array, options?: NativeSessionOptions): NativeSession;
}

// One GPU as NVML reports it.
export interface NativeGpuStats {
  name: string;
  utilizationPercent: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

export interface NativeAddon {
  Session: NativeSessionConstructor;
  inspect(path: string): NativeInspection;
  // null without a GPU, without NVML, or in a build without CUDA.
  gpuStats(): NativeGpuStats | null;
  // Pins the view's memory for asynchronous copies (cudaHostRegister); false where there is no GPU.
  registerHostMemory(view: ArrayBufferView): boolean;
}

let addon: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  addon ??= createRequire(import.meta.url)(addonPath()) as NativeAddon;
  return addon;
}

export function addonPath(): string {
  const fromEnv = process.env['INFERD_ADDON'];
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(packageRoot(), 'build', 'Release', 'inferd.node');
}

// The directory of inferd's package.json: this file runs from dist/src/engine/ once compiled, but
// walking up keeps working wherever the build puts it.
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'inferd') {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find inferd's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
