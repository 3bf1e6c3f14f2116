// The measurements the engine keeps, in a prom-client registry that the HTTP server exposes as
// /metrics. One registry per Engine, so several engines (or tests) never share counters.
import { Counter, Gauge, Registry } from 'prom-client';
import { ModelHistogram } from './model-histogram.js';

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

  constructor(registry = new Registry(), workerUtilization: () => number = () => 0) {
    this.registry = registry;
    const registers = [registry];
    this.requests = new Counter({ name: 'inferd_requests_total', help: 'Inference requests by model and outcome',
      labelNames: ['model', 'status'], registers });
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
    this.queueDepth = new Gauge({ name: 'inferd_queue_depth', help: 'Requests queued', labelNames: ['model'], registers });
    this.inflightBatches = new Gauge({ name: 'inferd_inflight_batches', help: 'Batches being computed',
      labelNames: ['model'], registers });
    this.workerBusyRatio = new Gauge({ name: 'inferd_worker_busy_ratio',
      help: 'Share of worker thread time spent computing since start', registers,
      collect() { this.set(workerUtilization()); } });
  }

  // Drops an unloaded model's gauges (its counters and histograms keep their history).
  forgetModel(model: string): void {
    this.queueDepth.remove({ model });
    this.inflightBatches.remove({ model });
  }
}
