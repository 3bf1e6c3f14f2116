// Graceful shutdown on SIGTERM/SIGINT: readiness turns false and new inference requests get 503
// (so a load balancer stops sending), in-flight requests finish, then the process exits 0. A drain
// that outlasts the bound exits 1 rather than hang. In a cluster (`--processes`) each server process
// drains this way, on its own signal or on its primary's word (the returned function).
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import type { ServerState } from '../http/server-state.js';

export interface ShutdownOptions {
  app: FastifyInstance;
  state: ServerState;
  engine: Engine;
  timeoutMs: number;
  stopTracing?: (() => Promise<void>) | undefined;
}

// Returns the drain itself, for a cluster primary's request; a second call does nothing.
export function installShutdown({ app, state, engine, timeoutMs, stopTracing }: ShutdownOptions): (signal: string) => void {
  let started = false;
  const drain = async (signal: string) => {
    if (started) return;
    started = true;
    state.draining = true;
    app.log.info(`${signal}: draining (new requests get 503; in-flight ones finish)`);
    setTimeout(() => {
      app.log.error(`drain took longer than ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
    // Connections idle right now would otherwise stay open until their clients' keep-alive ends.
    app.server.closeIdleConnections();
    await app.close();     // stops accepting; waits for in-flight HTTP requests
    await engine.close();  // queued and in-flight batches finish, workers stop
    await stopTracing?.();
    app.log.info('drained; exiting');
    process.exit(0);
  };
  process.once('SIGTERM', () => void drain('SIGTERM'));
  process.once('SIGINT', () => void drain('SIGINT'));
  return (signal) => void drain(signal);
}
