// Assertions about the errors the engine throws: their class, their code and what they name.
import assert from 'node:assert/strict';

import type { EngineErrorCode } from '../../src/index.js';

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

export function assertThrowsEngineError(
  action: () => unknown,
  errorClass: ErrorClass,
  code: EngineErrorCode,
  mentions: readonly string[] = [],
): Error {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected a ${errorClass.name}, nothing was thrown`);
  assert.equal(caught.constructor, errorClass, `expected a ${errorClass.name}, got ${caught.constructor.name}: ${caught.message}`);
  assert.equal((caught as Error & { code?: string }).code, code, `code of: ${caught.message}`);
  for (const text of mentions) assert.ok(caught.message.includes(text), `message should mention '${text}': ${caught.message}`);
  return caught;
}
