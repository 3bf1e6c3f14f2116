// POST /v2/models/{name}[/versions/{version}]/infer — JSON or Triton's binary tensor extension in,
// the same out. Binary input tensors go to the engine as views of the request body (one copy, into
// the batch slot). Priority and timeout come as request parameters, as Triton takes them; a client
// that disconnects has its queued request cancelled; Server-Timing reports queue and compute time.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RawTensor } from '../../engine/feeds.js';
import type { InferOptions } from '../../engine/model-runner.js';
import type { Tensor } from '../../engine/tensor.js';
import { recordPhase, startRequestSpan } from '../../observability/tracing.js';
import { ServingError } from '../../scheduler/errors.js';
import { ClientGone } from '../client-gone.js';
import { badRequest } from '../http-error.js';
import { decodeInferRequest } from '../oip-request.js';
import { encodeInferResponse } from '../oip-response.js';
import type { ServerState } from '../server-state.js';
import { resolveModel } from './models.js';

interface InferParams {
  name: string;
  version?: string;
}

const HEADER_LENGTH = 'inference-header-content-length';

export function inferRoutes(state: ServerState): FastifyPluginAsync {
  return async (app) => {
    const infer = async (request: FastifyRequest<{ Params: InferParams }>, reply: FastifyReply) => {
      if (state.draining) throw new ServingError('INFERD_ERR_DRAINING', 'the server is shutting down');
      const served = resolveModel(state, request.params);
      const span = startRequestSpan('infer', { 'inferd.model': served.name });
      try {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const headerValue = request.headers[HEADER_LENGTH];
        const headerLength = headerValue === undefined ? undefined : Number(headerValue);
        if (headerLength !== undefined && !(Number.isSafeInteger(headerLength) && headerLength >= 0)) {
          throw badRequest(`${HEADER_LENGTH} must be a byte count, got '${String(headerValue)}'`);
        }
        const decoded = decodeInferRequest(body, headerLength);
        const feeds: Record<string, Tensor | RawTensor> = {};
        // (The decoder has already refused an input given twice.)
        for (const input of decoded.inputs) {
          feeds[input.name] = input.raw
            ? { dtype: input.dtype, dims: input.shape, bytes: input.data as Uint8Array }
            : { dtype: input.dtype, dims: input.shape, data: input.data };
        }

        // A client that goes away before its answer has its queued request dropped.
        const options: InferOptions = { signal: new ClientGone(reply.raw) };
        if (decoded.priority !== undefined) options.priority = decoded.priority;
        if (decoded.timeoutMicros !== undefined) options.timeoutMs = decoded.timeoutMicros / 1000;

        const started = performance.now();
        const result = await state.engine.inferDetailed(served.name, feeds, options);
        const { queueMs, computeMs } = result.timing;
        recordPhase(span, 'queue', started, started + queueMs);
        recordPhase(span, 'compute', started + queueMs, started + queueMs + computeMs);

        const serializeStart = performance.now();
        const encoded = encodeInferResponse({
          modelName: served.name,
          modelVersion: served.version,
          ...(decoded.id !== undefined && { id: decoded.id }),
          ...selectOutputs(result.outputs, decoded.outputs, decoded.binaryDataOutputDefault),
        });
        recordPhase(span, 'serialize', serializeStart, performance.now());
        return reply
          .headers(encoded.headers)
          .header('server-timing', `queue;dur=${queueMs.toFixed(3)}, compute;dur=${computeMs.toFixed(3)}`)
          .send(encoded.body);
      } catch (error) {
        span.recordException(error as Error);
        throw error;
      } finally {
        span.end();
      }
    };
    app.post<{ Params: InferParams }>('/v2/models/:name/infer', infer);
    app.post<{ Params: InferParams }>('/v2/models/:name/versions/:version/infer', infer);
  };
}

const always = (value: boolean) => (value ? () => true : () => false);
const ALWAYS_BINARY = always(true);
const NEVER_BINARY = always(false);

// The outputs the request asked for (all of them when it named none), in the model's order, and
// whether each goes back as binary data. An unknown name is a 400.
function selectOutputs(
  outputs: Record<string, Tensor>,
  requested: readonly { name: string; binary: boolean }[] | undefined,
  binaryDefault: boolean,
): { outputs: { name: string; tensor: Tensor }[]; binary: (name: string) => boolean } {
  const selected: { name: string; tensor: Tensor }[] = [];
  if (requested === undefined) {
    for (const name in outputs) selected.push({ name, tensor: outputs[name]! });
    return { outputs: selected, binary: binaryDefault ? ALWAYS_BINARY : NEVER_BINARY };
  }
  for (const r of requested) {
    if (outputs[r.name] === undefined) {
      throw badRequest(`unknown output '${r.name}'; the model's outputs are ${Object.keys(outputs).map((n) => `'${n}'`).join(', ')}`);
    }
  }
  const binaryByName = new Map(requested.map((r) => [r.name, r.binary]));
  for (const name in outputs) if (binaryByName.has(name)) selected.push({ name, tensor: outputs[name]! });
  return { outputs: selected, binary: (name) => binaryByName.get(name) ?? binaryDefault };
}
