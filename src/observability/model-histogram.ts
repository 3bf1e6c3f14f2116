// A histogram labelled by model whose observe() is a bucket search and three additions. prom-client's
// own Histogram validates and hashes its labels on every observation (several µs); at the rate the
// engine serves (one observation per request per histogram, ~10⁵/s) that was the largest single
// cost on the event loop. This class registers with a prom-client Registry like any metric and
// renders in its exposition format; only the per-observation path is hand-written.
import type { Registry } from 'prom-client';

export interface HistogramSeries {
  observe(value: number): void;
  // `times` observations of the same value (e.g. a batch's compute time, once per request in it).
  observeMany(value: number, times: number): void;
}

class Series implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) ++i;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }

  observeMany(value: number, times: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) ++i;
    this.counts[i]! += times;
    this.sum += value * times;
    this.count += times;
  }
}

export class ModelHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    registry.registerMetric(this as never);
  }

  // The series of one model; hold on to it and observe directly.
  labels(model: string): HistogramSeries {
    let series = this.#series.get(model);
    if (!series) {
      series = new Series(this.buckets);
      this.#series.set(model, series);
    }
    return series;
  }

  observe(labels: { model: string }, value: number): void {
    this.labels(labels.model).observe(value);
  }

  reset(): void {
    this.#series.clear();
  }

  // prom-client's metric snapshot: cumulative buckets, then sum and count, per model.
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [model, series] of this.#series) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: bound, model }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', model }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { model }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { model }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
