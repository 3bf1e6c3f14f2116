// GET /v2, /v2/health/live, /v2/health/ready — server metadata and health, as OIP v2 defines them.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerState } from '../server-state.js';

export const SERVER_NAME = 'inferd';
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'parameters', 'statistics'];

export function healthRoutes(state: ServerState, version: string): FastifyPluginAsync {
  return async (app) => {
    app.get('/v2', async () => ({ name: SERVER_NAME, version, extensions: SERVER_EXTENSIONS }));
    app.get('/v2/health/live', async (_request, reply) => reply.code(200).send({ live: true }));
    app.get('/v2/health/ready', async (_request, reply) => reply.code(state.ready ? 200 : 503).send({ ready: state.ready }));
  };
}
