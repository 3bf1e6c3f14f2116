// The queues the scheduler keeps its waiting requests in. As in piscina, the scheduler sees only the
// small RequestQueue interface, so an implementation can be swapped (a heap, a timing wheel) without
// touching batch formation.
import type { QueuedRequest } from './types.js';

export interface RequestQueue<R extends QueuedRequest> extends Iterable<R> {
  readonly size: number;
  push(request: R): void;
  // The most urgent request, or undefined when empty.
  peek(): R | undefined;
  // Removes exactly this request; false when it is not queued.
  remove(request: R): boolean;
  // Iteration yields requests most urgent first. The queue must not be changed while iterating.
  [Symbol.iterator](): Iterator<R>;
}

// Earliest deadline first; equal deadlines (Infinity included) by arrival, i.e. by id.
export function compareByDeadline(a: QueuedRequest, b: QueuedRequest): number {
  if (a.deadline !== b.deadline) return a.deadline < b.deadline ? -1 : 1;
  return a.id - b.id;
}

// One priority level: a sorted array. Most requests get deadline = enqueuedAt + the model's default
// timeout, so they arrive already in order and push is an append; remove is a binary search and a
// splice, cheap next to a batch's compute for queues of thousands.
export class DeadlineQueue<R extends QueuedRequest> implements RequestQueue<R> {
  private readonly items: R[] = [];

  get size(): number {
    return this.items.length;
  }

  push(request: R): void {
    const last = this.items[this.items.length - 1];
    if (last === undefined || compareByDeadline(last, request) <= 0) {
      this.items.push(request);
      return;
    }
    this.items.splice(this.firstIndexAfter(request), 0, request);
  }

  peek(): R | undefined {
    return this.items[0];
  }

  remove(request: R): boolean {
    // A batch is taken from the front of the queue, so the head is the usual case.
    if (this.items[0] === request) {
      this.items.shift();
      return true;
    }
    // Equal keys only occur for equal ids, which callers should not reuse; scan them anyway.
    for (let i = this.firstIndexNotBefore(request); i < this.items.length; i++) {
      const item = this.items[i] as R;
      if (item === request) {
        this.items.splice(i, 1);
        return true;
      }
      if (compareByDeadline(item, request) > 0) break;
    }
    return false;
  }

  [Symbol.iterator](): Iterator<R> {
    return new ArrayWalk(this.items);
  }

  private firstIndexNotBefore(request: R): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareByDeadline(this.items[mid] as R, request) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private firstIndexAfter(request: R): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareByDeadline(this.items[mid] as R, request) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

// One queue per priority level (1 = most urgent), itself a RequestQueue: iteration runs level 1 in
// its own order, then level 2, and so on.
export class PriorityLevelQueue<R extends QueuedRequest> implements RequestQueue<R> {
  private readonly levels: RequestQueue<R>[];
  private count = 0;

  constructor(levelCount: number, createLevel: () => RequestQueue<R> = () => new DeadlineQueue<R>()) {
    this.levels = Array.from({ length: levelCount }, createLevel);
  }

  get size(): number {
    return this.count;
  }

  push(request: R): void {
    this.level(request).push(request);
    this.count++;
  }

  peek(): R | undefined {
    for (const level of this.levels) {
      const head = level.peek();
      if (head !== undefined) return head;
    }
    return undefined;
  }

  remove(request: R): boolean {
    if (!this.level(request).remove(request)) return false;
    this.count--;
    return true;
  }

  [Symbol.iterator](): Iterator<R> {
    return new LevelsWalk(this.levels);
  }

  private level(request: R): RequestQueue<R> {
    const level = this.levels[request.priority - 1];
    if (level === undefined) {
      throw new RangeError(`priority ${request.priority} is outside 1..${this.levels.length}`);
    }
    return level;
  }
}

// The batcher walks the queue on every dispatch, a step per queued request, so these iterators
// allocate nothing per step: each returns one result object, updated in place (for…of reads `value`
// before it asks for the next step). A generator with yield*, or a wrapped array iterator, allocated a
// result per step and per level, several times the cost of the walk itself.
class ArrayWalk<R> implements Iterator<R> {
  readonly #result = { done: false, value: undefined as R | undefined };
  #index = 0;

  constructor(private readonly items: readonly R[]) {}

  next(): IteratorResult<R> {
    const result = this.#result;
    if (this.#index < this.items.length) {
      result.value = this.items[this.#index++];
    } else {
      result.done = true;
      result.value = undefined;
    }
    return result as IteratorResult<R>;
  }
}

class LevelsWalk<R extends QueuedRequest> implements Iterator<R> {
  readonly #result = { done: false, value: undefined as R | undefined };
  #level = 0;
  #inner: Iterator<R> | undefined;

  constructor(private readonly levels: readonly RequestQueue<R>[]) {}

  next(): IteratorResult<R> {
    const result = this.#result;
    for (;;) {
      if (this.#inner === undefined) {
        const queue = this.levels[this.#level++];
        if (queue === undefined) {
          result.done = true;
          result.value = undefined;
          return result as IteratorResult<R>;
        }
        if (queue.size === 0) continue;
        this.#inner = queue[Symbol.iterator]();
      }
      const step = this.#inner.next();
      if (step.done !== true) {
        result.value = step.value;
        return result as IteratorResult<R>;
      }
      this.#inner = undefined;
    }
  }
}
