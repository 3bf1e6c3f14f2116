// GET /metrics — Prometheus text: the engine's registry (requests, latencies, batches, queues,
// workers' busy share) plus Node's process metrics and event-loop lag. A server process of a cluster
// (`--processes`) answers with every process's figures combined, which its `scrape` fetches from the
// primary; on its own a server answers from its registry.
import type { FastifyPluginAsync } from 'fastify';
import { collectDefaultMetrics, type Registry } from 'prom-client';

export function metricsRoutes(registry: Registry, scrape: () => Promise<string> = () => registry.metrics()): FastifyPluginAsync {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return async (app) => {
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return scrape();
    });
  };
}
