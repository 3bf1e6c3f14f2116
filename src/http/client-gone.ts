// A cancellation signal that fires when the client of an HTTP request goes away before its answer
// is written. The scheduler drops a queued request whose signal fires.
//
// One small object and one listener per request. An AbortController (an EventTarget with its own
// listener bookkeeping) plus a `once` wrapper on the response and its removal cost several times
// more, on every request, for an event that almost never happens.
import type { ServerResponse } from 'node:http';
import type { CancelSignal } from '../scheduler/types.js';

export class ClientGone implements CancelSignal {
  aborted = false;
  #listener: (() => void) | undefined;

  constructor(response: ServerResponse) {
    // 'close' also follows a complete answer: only a close before the end means the client left.
    response.on('close', () => {
      if (response.writableEnded || this.aborted) return;
      this.aborted = true;
      const listener = this.#listener;
      this.#listener = undefined;
      listener?.();
    });
  }

  // The scheduler registers at most one listener, and only for 'abort'.
  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }
}
