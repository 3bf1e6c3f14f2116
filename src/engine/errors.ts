// The engine's error codes. The native addon attaches them to the errors it throws; this layer uses
// the same codes and classes for the mistakes it catches first: a wrong type, name or count is a
// TypeError, a wrong shape or size a RangeError.

export type EngineErrorCode =
  | 'INFERD_ERR_INVALID_MODEL'
  | 'INFERD_ERR_UNSUPPORTED'
  | 'INFERD_ERR_INVALID_ARGUMENT'
  | 'INFERD_ERR_OUT_OF_RANGE'
  | 'INFERD_ERR_RUNTIME';

export type EngineError = Error & { code: EngineErrorCode };

export function invalidArgument(message: string): EngineError {
  return Object.assign(new TypeError(message), { code: 'INFERD_ERR_INVALID_ARGUMENT' as const });
}

export function outOfRange(message: string): EngineError {
  return Object.assign(new RangeError(message), { code: 'INFERD_ERR_OUT_OF_RANGE' as const });
}

export function isEngineError(error: unknown): error is EngineError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('INFERD_ERR_');
}
