// The measurements the engine keeps, in a prom-client registry that the HTTP server exposes as
// /metrics. One registry per Engine, so several engines (or tests) never share counters.
//
// What moves with every request is kept as plain numbers and read at scrape time: prom-client's
// labelled inc() and set() validate and hash their labels on every call (about a microsecond), which
// at 10⁵ requests/s was a tenth of the event loop. The per-model success count is a tally folded into
// the counter when it is collected; the queue-depth and in-flight gauges read the scheduler's live
// figures when collected, which is also the value a scrape should see.
//
// With several server processes (`--processes`) each keeps its own registry and /metrics reports
// their aggregate (prom-client's AggregatorRegistry): counters, histograms and the queue and
// in-flight gauges sum across processes — that is the server's total — while a share such as the
// workers' busy ratio is averaged, since summing shares of different processes means nothing.
// (inferd_batch_fill_ratio is a histogram of ratios, not a ratio: its buckets sum like any other.)
import { Counter, Gauge, Registry } from 'prom-client';
import { GpuMetrics } from './gpu-metrics.js';
import { ModelHistogram } from './model-histogram.js';

// The live figures of one model, read when the gauges are collected.
export interface ModelGaugeSource {
  readonly queueDepth: number;
  readonly inFlight: number;
}

// A count the hot path bumps with `count++`; collect() moves it into the prom-client counter.
export interface Tally {
  count: number;
}

// Latency buckets from 100 µs to 10 s: a small MLP computes in tens of µs, a queue may hold seconds.
const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class EngineMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'model' | 'status'>;
  readonly rejections: Counter<'model' | 'reason'>;
  readonly requestSeconds: ModelHistogram;
  readonly queueSeconds: ModelHistogram;
  readonly computeSeconds: ModelHistogram;
  readonly batchSize: ModelHistogram;
  readonly batchFillRatio: ModelHistogram;
  readonly queueDepth: Gauge<'model'>;
  readonly inflightBatches: Gauge<'model'>;
  readonly workerBusyRatio: Gauge;
  readonly gpu: GpuMetrics;  // each model's provider, and the GPU's utilization and memory
  readonly #sources = new Map<string, ModelGaugeSource>();
  readonly #okTallies = new Map<string, Tally>();

  constructor(registry = new Registry(), workerUtilization: () => number = () => 0) {
    this.registry = registry;
    const registers = [registry];
    const tallies = this.#okTallies;
    this.requests = new Counter({ name: 'inferd_requests_total', help: 'Inference requests by model and outcome',
      labelNames: ['model', 'status'], registers,
      collect() {
        for (const [model, tally] of tallies) {
          // inc() with 0 would still create the series, which a model with no success yet should not have.
          if (tally.count > 0) this.inc({ model, status: 'ok' }, tally.count);
          tally.count = 0;
        }
      } });
    this.rejections = new Counter({ name: 'inferd_rejections_total',
      help: 'Requests refused or dropped before compute, by reason (overloaded, timeout, cancelled, closed, too_large)',
      labelNames: ['model', 'reason'], registers });
    this.requestSeconds = new ModelHistogram(registry, 'inferd_request_duration_seconds',
      'Time from intake to result, per request', SECONDS);
    this.queueSeconds = new ModelHistogram(registry, 'inferd_queue_duration_seconds',
      'Time a request waited before its batch was dispatched', SECONDS);
    this.computeSeconds = new ModelHistogram(registry, 'inferd_compute_duration_seconds',
      'Native compute time of the batch a request was part of', SECONDS);
    this.batchSize = new ModelHistogram(registry, 'inferd_batch_size', 'Rows per dispatched batch',
      [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    this.batchFillRatio = new ModelHistogram(registry, 'inferd_batch_fill_ratio',
      'Rows per dispatched batch divided by the model\'s max batch size', [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1]);
    const sources = this.#sources;
    this.queueDepth = new Gauge({ name: 'inferd_queue_depth', help: 'Requests queued', labelNames: ['model'], registers,
      collect() { for (const [model, source] of sources) this.set({ model }, source.queueDepth); } });
    this.inflightBatches = new Gauge({ name: 'inferd_inflight_batches', help: 'Batches being computed',
      labelNames: ['model'], registers,
      collect() { for (const [model, source] of sources) this.set({ model }, source.inFlight); } });
    this.workerBusyRatio = new Gauge({ name: 'inferd_worker_busy_ratio',
      help: 'Share of worker thread time spent computing since start', registers, aggregator: 'average',
      collect() { this.set(workerUtilization()); } });
    this.gpu = new GpuMetrics(registry);
  }

  // Registers a model: its gauges read `source` when collected; the returned tally counts its
  // successful requests (bump `count`).
  watchModel(model: string, source: ModelGaugeSource): Tally {
    this.#sources.set(model, source);
    let tally = this.#okTallies.get(model);
    if (tally === undefined) this.#okTallies.set(model, (tally = { count: 0 }));
    return tally;
  }

  // Drops an unloaded model's gauges (its counters and histograms keep their history).
  forgetModel(model: string): void {
    this.#sources.delete(model);
    this.queueDepth.remove({ model });
    this.inflightBatches.remove({ model });
  }
}
