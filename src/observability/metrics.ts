// The measurements the engine keeps, in a prom-client registry that the HTTP server exposes as
// /metrics. One registry per Engine, so several engines (or tests) never share counters.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

// Latency buckets from 100 µs to 10 s: a small MLP computes in tens of µs, a queue may hold seconds.
const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class EngineMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'model' | 'status'>;
  readonly rejections: Counter<'model' | 'reason'>;
  readonly requestSeconds: Histogram<'model'>;
  readonly queueSeconds: Histogram<'model'>;
  readonly computeSeconds: Histogram<'model'>;
  readonly batchSize: Histogram<'model'>;
  readonly batchFillRatio: Histogram<'model'>;
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
    this.requestSeconds = new Histogram({ name: 'inferd_request_duration_seconds',
      help: 'Time from intake to result, per request', labelNames: ['model'], buckets: SECONDS, registers });
    this.queueSeconds = new Histogram({ name: 'inferd_queue_duration_seconds',
      help: 'Time a request waited before its batch was dispatched', labelNames: ['model'], buckets: SECONDS, registers });
    this.computeSeconds = new Histogram({ name: 'inferd_compute_duration_seconds',
      help: 'Native compute time of the batch a request was part of', labelNames: ['model'], buckets: SECONDS, registers });
    this.batchSize = new Histogram({ name: 'inferd_batch_size', help: 'Rows per dispatched batch',
      labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers });
    this.batchFillRatio = new Histogram({ name: 'inferd_batch_fill_ratio',
      help: 'Rows per dispatched batch divided by the model\'s max batch size', labelNames: ['model'],
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1], registers });
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
