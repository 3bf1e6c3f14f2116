// The HTTP server: Open Inference Protocol v2 over Fastify, one plugin per route group, one error
// catalog. Bodies are taken as raw Buffers (JSON or Triton's binary tensor extension) and decoded by
// the protocol codec, so binary tensors reach the engine without being copied first.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { answerFor } from './error-catalog.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { ServerState } from './server-state.js';

export interface ServerOptions {
  engine: Engine;
  // Served models and their versions (the repository's view); defaults to every loaded model as "1".
  versions?: ReadonlyMap<string, string>;
  // Largest request body in bytes (413 beyond it).
  bodyLimit?: number;
  logLevel?: string;
  version?: string;
  // What GET /metrics answers with, when not this engine's registry alone (a cluster's combined figures).
  scrapeMetrics?: () => Promise<string>;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

export function buildServer(options: ServerOptions): { app: FastifyInstance; state: ServerState } {
  const state = new ServerState(options.engine);
  for (const name of options.engine.modelNames) {
    state.models.set(name, { name, version: options.versions?.get(name) ?? '1' });
  }
  const app = Fastify({
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel ?? 'info' },
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // While closing, Fastify answers new requests 503 itself; in-flight ones finish.
    return503OnClosing: true,
  });

  // Every body as a Buffer: the codec parses JSON itself (and the binary extension's tail).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const answer = answerFor(error);
    if (answer.status >= 500 && answer.status !== 503 && answer.status !== 504) request.log.error({ err: error }, 'request failed');
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  // While draining, every answer closes its connection, so that keep-alive clients do not hold the
  // server open once their in-flight request is done.
  // (A callback hook, not an async one: it runs for every answer, and an async hook costs a promise
  // and a trip through the microtask queue each time.)
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url}` });
  });

  void app.register(healthRoutes(state, options.version ?? '0.0.0'));
  void app.register(modelRoutes(state));
  void app.register(inferRoutes(state));
  void app.register(metricsRoutes(options.engine.metrics.registry, options.scrapeMetrics));
  return { app, state };
}
