// OpenTelemetry spans per request: `infer` with children `queue`, `compute` and `serialize`. The API
// is a no-op until an SDK registers a tracer provider, so with no configuration a span costs a
// function call. When the standard OTEL_* environment variables ask for an exporter, startTracing()
// starts the OpenTelemetry Node SDK (which reads those same variables) if it is installed.
import { type Span, type Tracer, context, trace } from '@opentelemetry/api';

const tracer: Tracer = trace.getTracer('inferd');

export function startRequestSpan(name: string, attributes: Record<string, string | number>): Span {
  return tracer.startSpan(name, { attributes });
}

// A child span for a phase measured elsewhere (the queue wait and compute are timed by the engine).
export function recordPhase(parent: Span, name: string, startMs: number, endMs: number): void {
  if (!parent.isRecording()) return;
  const ctx = trace.setSpan(context.active(), parent);
  const toHr = (ms: number) => performance.timeOrigin + ms;
  tracer.startSpan(name, { startTime: toHr(startMs) }, ctx).end(toHr(endMs));
}

export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const exporter = env['OTEL_TRACES_EXPORTER'];
  if (exporter !== undefined) return exporter !== 'none';
  return env['OTEL_EXPORTER_OTLP_ENDPOINT'] !== undefined || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] !== undefined;
}

// Returns a function that flushes and stops the SDK, or undefined when tracing is off.
export async function startTracing(log: (message: string) => void): Promise<(() => Promise<void>) | undefined> {
  if (!tracingRequested()) return undefined;
  try {
    // Optional: installed by users who export traces (npm install @opentelemetry/sdk-node).
    const moduleName = '@opentelemetry/sdk-node';
    const { NodeSDK } = (await import(moduleName)) as { NodeSDK: new (options: object) => { start(): void; shutdown(): Promise<void> } };
    const sdk = new NodeSDK({ serviceName: process.env['OTEL_SERVICE_NAME'] ?? 'inferd' });
    sdk.start();
    log('tracing: OpenTelemetry SDK started from OTEL_* settings');
    return () => sdk.shutdown();
  } catch {
    log('tracing: OTEL_* settings ask for traces, but @opentelemetry/sdk-node is not installed; spans stay no-ops');
    return undefined;
  }
}
