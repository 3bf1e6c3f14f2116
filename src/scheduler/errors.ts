// Errors of serving (as opposed to the engine's own: see engine/errors.ts). Each has a stable code;
// the HTTP layer maps codes to statuses in one place.

export type ServingErrorCode =
  | 'INFERD_ERR_OVERLOADED'        // the model's queue is full: retry after retryAfterMs
  | 'INFERD_ERR_TIMEOUT'           // the request's deadline passed while it was queued
  | 'INFERD_ERR_CANCELLED'         // the caller's AbortSignal fired while it was queued
  | 'INFERD_ERR_MODEL_NOT_FOUND'   // no model of that name is loaded
  | 'INFERD_ERR_MODEL_UNAVAILABLE' // the model is being unloaded
  | 'INFERD_ERR_CLOSED'            // the engine is closing or closed
  | 'INFERD_ERR_DRAINING'          // the server is shutting down and takes no new requests
  | 'INFERD_ERR_METRICS_UNAVAILABLE'; // a cluster's processes did not all report their metrics

export class ServingError extends Error {
  readonly code: ServingErrorCode;
  // For INFERD_ERR_OVERLOADED: an estimate of when the queue will have room, from its drain rate.
  readonly retryAfterMs: number | undefined;

  constructor(code: ServingErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'ServingError';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}
