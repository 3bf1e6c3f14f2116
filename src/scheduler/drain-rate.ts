// How fast a model's queue drains, measured over recent batches; admission control turns it into the
// Retry-After of an overloaded answer.
//
// Requests leave the queue a whole batch at a time, when an instance frees up, so the estimate is
// counted in batches: (batches needed to take the excess) × (time per batch) / (instances side by side).
// Per-batch figures are measured from dispatch to settle, which is service time only: idle gaps between
// bursts do not dilute it (a rate over wall-clock time would), and under overload — the only time the
// estimate is asked for — every instance is busy, which is what the formula assumes.

// Weight of the newest batch in the moving averages: about the last ten batches count.
const SMOOTHING = 0.2;

export class DrainRate {
  private requestsPerBatch = 0;
  private msPerBatch = 0;
  private batches = 0;

  record(requests: number, ms: number): void {
    if (!(requests > 0) || !(ms >= 0)) return;
    if (this.batches === 0) {
      this.requestsPerBatch = requests;
      this.msPerBatch = ms;
    } else {
      this.requestsPerBatch += SMOOTHING * (requests - this.requestsPerBatch);
      this.msPerBatch += SMOOTHING * (ms - this.msPerBatch);
    }
    this.batches++;
  }

  get measured(): boolean {
    return this.batches > 0;
  }

  // Milliseconds until `excess` more requests have left the queue; undefined before any batch.
  msToDrain(excess: number, instances: number): number | undefined {
    if (!this.measured) return undefined;
    const batchesNeeded = Math.ceil(Math.max(excess, 1) / this.requestsPerBatch);
    return (batchesNeeded * this.msPerBatch) / instances;
  }
}
