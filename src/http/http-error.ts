// An error the HTTP layer answers with directly: a client mistake it caught before the engine saw
// the request. The server's error catalog maps `code` to the status it answers with; `status` is
// carried too, for callers that have no catalog at hand.

export type HttpErrorCode = 'INFERD_ERR_BAD_REQUEST';

export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// 400: the request itself is wrong (malformed, inconsistent, or asks for what inferd cannot do).
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'INFERD_ERR_BAD_REQUEST', message);
}
