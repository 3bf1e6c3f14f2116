// The one place where error kinds become HTTP statuses. Every error the server answers with goes
// through here: a stable code, a status, and a message for the client — never a stack trace.
import type { FastifyError } from 'fastify';

interface Mapping {
  status: number;
  // Client-facing message; by default the error's own message (ours name what is wrong).
  expose: boolean;
}

// Codes from the engine (engine/errors.ts), serving (scheduler/errors.ts), the protocol codec
// (http/http-error.ts), the server itself, and Fastify's own.
const CATALOG: Record<string, Mapping> = {
  INFERD_ERR_BAD_REQUEST: { status: 400, expose: true },
  INFERD_ERR_INVALID_ARGUMENT: { status: 400, expose: true },
  INFERD_ERR_OUT_OF_RANGE: { status: 400, expose: true },
  INFERD_ERR_MODEL_NOT_FOUND: { status: 404, expose: true },
  INFERD_ERR_VERSION_NOT_FOUND: { status: 404, expose: true },
  INFERD_ERR_ROUTE_NOT_FOUND: { status: 404, expose: true },
  INFERD_ERR_OVERLOADED: { status: 503, expose: true },
  INFERD_ERR_DRAINING: { status: 503, expose: true },
  INFERD_ERR_CLOSED: { status: 503, expose: true },
  INFERD_ERR_MODEL_UNAVAILABLE: { status: 503, expose: true },
  // A cluster's combined metrics could not be gathered (a process did not answer its primary in time).
  INFERD_ERR_METRICS_UNAVAILABLE: { status: 503, expose: true },
  // A request that waited in the queue past its deadline was never computed: the server did not
  // answer in time, as a gateway would say.
  INFERD_ERR_TIMEOUT: { status: 504, expose: true },
  // The client went away; nobody reads this answer (nginx's convention for it).
  INFERD_ERR_CANCELLED: { status: 499, expose: true },
  // Faults of the model or the engine while computing: the server's problem, not the client's.
  INFERD_ERR_RUNTIME: { status: 500, expose: true },
  INFERD_ERR_INVALID_MODEL: { status: 500, expose: false },
  INFERD_ERR_UNSUPPORTED: { status: 500, expose: true },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, expose: true },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, expose: true },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, expose: true },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, expose: true },
};

export interface ErrorAnswer {
  status: number;
  code: string;
  body: { error: string };
  headers: Record<string, string>;
}

export function answerFor(error: unknown): ErrorAnswer {
  const e = error as Partial<FastifyError> & { code?: string; retryAfterMs?: number; message?: string };
  const code = typeof e.code === 'string' ? e.code : 'INFERD_ERR_INTERNAL';
  const mapping = CATALOG[code];
  const headers: Record<string, string> = {};
  if (code === 'INFERD_ERR_OVERLOADED' || code === 'INFERD_ERR_DRAINING') {
    // Retry-After is in whole seconds; never tell a client to retry at once.
    headers['retry-after'] = String(Math.max(1, Math.ceil((e.retryAfterMs ?? 1000) / 1000)));
  }
  if (!mapping) {
    // Fastify validation and other client errors carry a 4xx statusCode; anything else is a fault.
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    return { status, code, headers, body: { error: status === 500 ? 'internal server error' : String(e.message) } };
  }
  return { status: mapping.status, code, headers, body: { error: mapping.expose ? String(e.message) : 'the model failed to compute' } };
}
