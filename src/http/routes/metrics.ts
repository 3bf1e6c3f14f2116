// GET /metrics — Prometheus text: the engine's registry (requests, latencies, batches, queues,
// workers' busy share) plus Node's process metrics and event-loop lag.
import type { FastifyPluginAsync } from 'fastify';
import { collectDefaultMetrics, type Registry } from 'prom-client';

export function metricsRoutes(registry: Registry): FastifyPluginAsync {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return async (app) => {
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  };
}
