// An in-process inferd HTTP server for tests: an Engine with the given models, the Fastify app, and
// helpers to build Open Inference Protocol requests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Engine } from '../../src/index.js';
import type { ModelLoadOptions } from '../../src/engine/model-config.js';
import { buildServer } from '../../src/http/server.js';
import type { ServerState } from '../../src/http/server-state.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const digitsModel = path.join(root, 'models', 'digits', 'model.onnx');

export interface TestServer {
  app: FastifyInstance;
  state: ServerState;
  engine: Engine;
  close(): Promise<void>;
}

export async function startServer(
  models: { file: string; options: ModelLoadOptions }[],
  options: { workers?: number; bodyLimit?: number } = {},
): Promise<TestServer> {
  const engine = await Engine.create({ workers: options.workers ?? 1 });
  for (const m of models) await engine.load(m.file, m.options);
  const { app, state } = buildServer({ engine, logLevel: 'silent', ...(options.bodyLimit !== undefined && { bodyLimit: options.bodyLimit }) });
  await app.ready();
  return { app, state, engine, close: async () => { await app.close(); await engine.close(); } };
}

// A Triton binary-extension body: the JSON header, then each tensor's bytes in input order.
export function binaryBody(header: object, tensors: Uint8Array[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]), headerLength: json.length };
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; ++i) if (values[i]! > values[best]!) best = i;
  return best;
}

// Polls `condition` every 5 ms until it holds; fails after `timeoutMs`.
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
