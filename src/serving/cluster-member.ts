// A server process's side of `inferd serve --processes N` (the primary's is cluster-primary.ts). It
// serves as a lone server does, with three differences: a failed start-up is reported to the primary,
// which prints it once for all the processes; it drains when the primary says so; and /metrics
// answers with every process's figures, which only the primary can gather.
import type { Server } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { ServingError } from '../scheduler/errors.js';
import { type ToPrimary, type ToServerProcess, isMessage } from './cluster-messages.js';

// How long a /metrics request waits for the primary's answer. The primary's own gathering gives up
// after 5 s (prom-client's bound) and says so; this only covers a primary that cannot answer at all.
const METRICS_WAIT_MS = 10_000;

interface PendingScrape {
  resolve(text: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

type MetricsReply = Extract<ToServerProcess, { type: 'inferd:metrics' }>;

export class ClusterMember {
  #drain: ((signal: string) => void) | undefined;
  #drainRequested: string | undefined;
  #listening = false;
  #nextScrape = 0;
  readonly #scrapes = new Map<number, PendingScrape>();

  // Call before loading models: from then on the primary's requests for this process's metrics are
  // answered (empty until shareMetrics), so a process still starting never keeps a scrape waiting.
  constructor() {
    new AggregatorRegistry();  // installs prom-client's answer to the primary's requests
    AggregatorRegistry.setRegistries([]);
    process.on('message', (message: unknown) => this.#received(message));
    sendToPrimary({ type: 'inferd:joined' });
  }

  // The registry this process contributes to the cluster's /metrics.
  shareMetrics(registry: Registry): void {
    AggregatorRegistry.setRegistries([registry]);
  }

  // Call before `server` listens. Until it does, a drain request ends the process at once (there is
  // nothing to drain); from then on it waits for drainWith.
  listensOn(server: Server): void {
    server.once('listening', () => { this.#listening = true; });
  }

  // The drain to run when the primary says so (installShutdown's).
  drainWith(drain: (signal: string) => void): void {
    this.#drain = drain;
    if (this.#drainRequested !== undefined) drain(this.#drainRequested);
  }

  // Every server process's metrics, aggregated by the primary, as Prometheus text.
  readonly scrapeMetrics = (): Promise<string> => new Promise((resolve, reject) => {
    const id = ++this.#nextScrape;
    const timer = setTimeout(() => {
      this.#scrapes.delete(id);
      reject(new ServingError('INFERD_ERR_METRICS_UNAVAILABLE', `the cluster primary did not answer within ${METRICS_WAIT_MS} ms`));
    }, METRICS_WAIT_MS);
    this.#scrapes.set(id, { resolve, reject, timer });
    sendToPrimary({ type: 'inferd:metrics-request', id });
  });

  // Tells the primary why start-up failed (it prints the message) and exits 1.
  async failStartup(error: unknown): Promise<never> {
    const message = error instanceof Error ? error.message : String(error);
    await new Promise<void>((resolve) => {
      if (!sendToPrimary({ type: 'inferd:startup-failed', message }, () => resolve())) resolve();
    });
    process.exit(1);
  }

  #received(message: unknown): void {
    if (isMessage<MetricsReply>(message, 'inferd:metrics')) {
      const scrape = this.#scrapes.get(message.id);
      if (scrape === undefined) return;
      this.#scrapes.delete(message.id);
      clearTimeout(scrape.timer);
      if ('text' in message) scrape.resolve(message.text);
      else scrape.reject(new ServingError('INFERD_ERR_METRICS_UNAVAILABLE', `the server processes' metrics could not be gathered: ${message.error}`));
    } else if (isMessage<Extract<ToServerProcess, { type: 'inferd:drain' }>>(message, 'inferd:drain')) {
      if (this.#drain !== undefined) this.#drain(message.signal);
      // Listening, but the drain is not installed yet: drainWith runs it.
      else if (this.#listening) this.#drainRequested = message.signal;
      // Still loading models: nothing to drain.
      else process.exit(0);
    }
  }
}

// False when there is no primary to send to (the channel has closed).
function sendToPrimary(message: ToPrimary, sent?: () => void): boolean {
  if (process.send === undefined || !process.connected) return false;
  process.send(message, undefined, undefined, sent);
  return true;
}
