// SharedArrayBuffer slots for a model's batches: one slot per batch in flight, reused from batch to
// batch, so steady state allocates no shared memory. A slot holds a batch's inputs and outputs at
// 64-byte-aligned offsets (see layout()); the worker maps the same bytes, nothing is copied between
// threads. For a model on the GPU each new slot is pinned (page-locked), so that its copies to and
// from the device are asynchronous DMA instead of staged through the driver's own pinned buffer.
import { type DType, elementSize } from '../engine/dtypes.js';
import { loadAddon } from '../engine/native-addon.js';
import { elementCount } from '../engine/tensor.js';
import type { TensorPlacement } from './types.js';

const ALIGNMENT = 64;

export interface Slot {
  buffer: SharedArrayBuffer;
}

export interface SlotLayout {
  readonly inputs: TensorPlacement[];
  readonly outputs: TensorPlacement[];
  readonly bytes: number;
}

// Where each tensor of a batch goes in its slot: inputs first, then outputs, each aligned.
export function layout(
  inputs: readonly { dtype: DType; dims: readonly number[] }[],
  outputs: readonly { dtype: DType; dims: readonly number[] }[],
): SlotLayout {
  let offset = 0;
  const place = (t: { dtype: DType; dims: readonly number[] }): TensorPlacement => {
    const placement = { dtype: t.dtype, dims: t.dims, byteOffset: offset };
    offset += Math.ceil((elementCount(t.dims) * elementSize(t.dtype)) / ALIGNMENT) * ALIGNMENT;
    return placement;
  };
  const placedInputs = inputs.map(place);
  const placedOutputs = outputs.map(place);
  return { inputs: placedInputs, outputs: placedOutputs, bytes: Math.max(offset, ALIGNMENT) };
}

export interface SlotPoolOptions {
  // Pin each new slot for the GPU (cudaHostRegister): for models whose provider is 'cuda'.
  pinHostMemory?: boolean;
}

export class SlotPool {
  readonly #free: Slot[] = [];
  readonly #pin: boolean;
  // Every buffer pinned so far. The addon never unpins (a slot lives as long as the process), so a
  // buffer a slot outgrew is kept rather than freed while registered with the driver; slots grow by
  // doubling, so these add less than the live slots hold.
  readonly #pinned: SharedArrayBuffer[] = [];
  #allocatedBytes = 0;
  #allocations = 0;

  constructor(count: number, options: SlotPoolOptions = {}) {
    this.#pin = options.pinHostMemory === true;
    for (let i = 0; i < count; ++i) this.#free.push({ buffer: new SharedArrayBuffer(0) });
  }

  // A free slot of at least `bytes`; when it must grow, it grows to `reserveBytes` (what a full
  // batch needs) so that later, larger batches find room. The caller's scheduler keeps at most
  // `count` batches in flight, so a slot is always free here.
  acquire(bytes: number, reserveBytes = bytes): Slot {
    const slot = this.#free.pop();
    if (slot === undefined) throw new Error('SlotPool: no free slot (more batches in flight than slots)');
    if (slot.buffer.byteLength < bytes) {
      // Grows only when a batch needs more than this slot has ever held (a larger batch or longer
      // sequence); doubling keeps regrowth rare.
      const size = Math.max(bytes, reserveBytes, slot.buffer.byteLength * 2);
      this.#allocatedBytes += size - slot.buffer.byteLength;
      ++this.#allocations;
      slot.buffer = new SharedArrayBuffer(size);
      if (this.#pin) this.#pinHostMemory(slot.buffer);
    }
    return slot;
  }

  // Unpinned memory still works (the copies are synchronous), so a refusal is not an error.
  #pinHostMemory(buffer: SharedArrayBuffer): void {
    if (loadAddon().registerHostMemory(new Uint8Array(buffer))) this.#pinned.push(buffer);
  }

  // Bytes pinned for the GPU so far.
  get pinnedBytes(): number {
    let total = 0;
    for (const buffer of this.#pinned) total += buffer.byteLength;
    return total;
  }

  release(slot: Slot): void {
    this.#free.push(slot);
  }

  // SharedArrayBuffers created so far (tests check that steady state creates none).
  get allocations(): number {
    return this.#allocations;
  }

  get bytes(): number {
    return this.#allocatedBytes;
  }
}
