// GET /v2/models/{name}[/versions/{version}] and .../ready — model metadata and readiness (OIP v2).
import type { FastifyPluginAsync } from 'fastify';
import type { TensorMetadata } from '../../engine/session.js';
import { ServingError } from '../../scheduler/errors.js';
import { datatypeOf } from '../oip-datatypes.js';
import type { ServedModel, ServerState } from '../server-state.js';

interface ModelParams {
  name: string;
  version?: string;
}

// The served model the path names; 404 for an unknown name or version.
export function resolveModel(state: ServerState, params: ModelParams): ServedModel {
  const served = state.models.get(params.name);
  if (!served || !state.engine.modelNames.includes(params.name)) {
    const known = [...state.models.keys()].map((n) => `'${n}'`).join(', ');
    throw new ServingError('INFERD_ERR_MODEL_NOT_FOUND', `unknown model '${params.name}' (served: ${known || 'none'})`);
  }
  if (params.version !== undefined && params.version !== served.version) {
    throw Object.assign(new Error(`model '${params.name}' has no version '${params.version}' (served: '${served.version}')`),
      { code: 'INFERD_ERR_VERSION_NOT_FOUND' });
  }
  return served;
}

function tensorMetadata(t: TensorMetadata) {
  return { name: t.name, datatype: datatypeOf(t.dtype), shape: t.hasShape ? [...t.dims] : [-1] };
}

export function modelRoutes(state: ServerState): FastifyPluginAsync {
  return async (app) => {
    const metadata = async (request: { params: ModelParams }) => {
      const served = resolveModel(state, request.params);
      const d = state.engine.describe(served.name);
      return {
        name: served.name,
        versions: [served.version],
        platform: 'onnxruntime_onnx',
        inputs: d.inputs.map(tensorMetadata),
        outputs: d.outputs.map(tensorMetadata),
        // provider: the backend the model computes on, 'cpu' or 'cuda'.
        parameters: { max_batch_size: d.config.maxBatchSize, opset: d.opset, provider: d.provider },
      };
    };
    const ready = async (request: { params: ModelParams }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
      const served = resolveModel(state, request.params);
      const isReady = state.ready;
      return reply.code(isReady ? 200 : 503).send({ name: served.name, ready: isReady });
    };
    app.get<{ Params: ModelParams }>('/v2/models/:name', metadata);
    app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version', metadata);
    app.get<{ Params: ModelParams }>('/v2/models/:name/ready', ready);
    app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version/ready', ready);
  };
}
