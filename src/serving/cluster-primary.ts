// The primary of `inferd serve --processes N`. One event loop caps what one process can parse and
// answer, so N server processes share the port through node:cluster, each running the ordinary serve
// path with an engine (and models) of its own. The primary loads no model and serves nothing: it
// forks the N, reports once when all are listening, replaces one that crashes, gathers every
// process's metrics for whichever of them answers /metrics, and on SIGTERM/SIGINT has each drain.
import cluster, { type Address, type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import { type ToPrimary, type ToServerProcess, isMessage } from './cluster-messages.js';
import type { Logger } from 'pino';

// How long past a server process's own drain bound the primary waits before killing it: enough for
// a process that gave up at its bound to exit and be seen to.
const SHUTDOWN_MARGIN_MS = 1000;

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface ClusterPrimaryOptions {
  processes: number;
  // The `inferd serve` arguments each server process runs with (the primary's own).
  serveArgs: string[];
  // Each server process's drain bound (--shutdown-timeout-ms).
  shutdownTimeoutMs: number;
  // The primary runs no Fastify: its own pino logger writes lines of the same shape as its processes'.
  log: Pick<Logger, 'info' | 'error'>;
}

// Resolves with the exit code once every server process has drained (0 if all exited 0); rejects
// with the first start-up failure's message once every process has stopped.
export function runClusterPrimary(options: ClusterPrimaryOptions): Promise<number> {
  return new Promise((resolve, reject) => new ClusterPrimary(options, resolve, reject).start());
}

class ClusterPrimary {
  // Answers the server processes' metrics requests; its listener gathers their registries.
  readonly #metrics = new AggregatorRegistry();
  readonly #alive = new Set<Worker>();
  readonly #joined = new WeakSet<Worker>();  // takes messages
  readonly #listening = new WeakSet<Worker>();
  readonly #startupErrors = new WeakMap<Worker, string>();
  // 'failing': a process failed to start, the others are being stopped.
  #phase: 'starting' | 'serving' | 'stopping' | 'failing' = 'starting';
  #startupFailure: string | undefined;
  #stopSignal = 'SIGTERM';
  #drainFailed = false;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ClusterPrimaryOptions,
    private readonly resolve: (code: number) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  readonly #onListening = (worker: Worker, address: Address) => this.#listened(worker, address);
  readonly #onMessage = (worker: Worker, message: unknown) => this.#message(worker, message);
  readonly #onExit = (worker: Worker, code: number | null, signal: string | null) => void this.#exited(worker, code, signal);
  readonly #onSignal = (signal: NodeJS.Signals) => this.#stop(signal);

  start(): void {
    cluster.setupPrimary({ exec: MAIN, args: ['serve', ...this.options.serveArgs] });
    cluster.on('listening', this.#onListening);
    cluster.on('message', this.#onMessage);
    cluster.on('exit', this.#onExit);
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
    for (let i = 0; i < this.options.processes; ++i) this.#fork();
  }

  #fork(): void {
    this.#alive.add(cluster.fork());
  }

  #listened(worker: Worker, address: Address): void {
    if (this.#listening.has(worker)) return;  // one event per address ('localhost' may be two)
    this.#listening.add(worker);
    const serving = [...this.#alive].filter((w) => this.#listening.has(w)).length;
    if (this.#phase === 'starting' && serving === this.options.processes) {
      this.#phase = 'serving';
      this.options.log.info(`${serving} processes listening at ${url(address)}`);
    } else if (this.#phase === 'serving') {
      this.options.log.info(`server process ${worker.process.pid} listening in place of one that exited`);
    }
  }

  #message(worker: Worker, message: unknown): void {
    if (isMessage<Extract<ToPrimary, { type: 'inferd:joined' }>>(message, 'inferd:joined')) {
      this.#joined.add(worker);
      if (this.#phase === 'stopping') send(worker, { type: 'inferd:drain', signal: this.#stopSignal });
    } else if (isMessage<Extract<ToPrimary, { type: 'inferd:startup-failed' }>>(message, 'inferd:startup-failed')) {
      this.#startupErrors.set(worker, message.message);
      if (this.#phase === 'starting') this.#failStartup(message.message);
    } else if (isMessage<Extract<ToPrimary, { type: 'inferd:metrics-request' }>>(message, 'inferd:metrics-request')) {
      const { id } = message;
      this.#metrics.clusterMetrics().then(
        (text) => send(worker, { type: 'inferd:metrics', id, text }),
        (error: Error) => send(worker, { type: 'inferd:metrics', id, error: error.message }));
    }
  }

  async #exited(worker: Worker, code: number | null, signal: string | null): Promise<void> {
    const wasListening = this.#listening.has(worker);
    // A process that failed to start said why just before exiting; its exit may be seen before its
    // last message is read, which the channel's end (disconnect) comes after.
    if (!wasListening && worker.isConnected()) await once(worker, 'disconnect');
    this.#alive.delete(worker);
    const pid = worker.process.pid;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (this.#phase === 'stopping') {
      if (code !== 0) {
        this.#drainFailed = true;
        this.options.log.error(`server process ${pid} exited with ${how} while draining`);
      }
    } else if (this.#phase !== 'failing') {
      if (wasListening) {
        this.options.log.error(`server process ${pid} exited with ${how}; starting another in its place`);
        this.#fork();
      } else {
        const reason = this.#startupErrors.get(worker) ?? `server process ${pid} exited with ${how} before it was listening`;
        // At start-up the whole server fails; a replacement that cannot start is not retried (it
        // would most likely fail again, and again), so the server carries on with one process fewer.
        if (this.#phase === 'starting') this.#failStartup(reason);
        else if (this.#alive.size > 0) this.options.log.error(`a replacement server process failed to start and is not retried: ${reason}`);
        else this.#startupFailure = `no server process is left; the last replacement failed to start: ${reason}`;
      }
    }
    if (this.#alive.size === 0) this.#finish();
  }

  #failStartup(message: string): void {
    if (this.#phase === 'failing') return;
    this.#phase = 'failing';
    this.#startupFailure = message;
    // The others are loading models (SIGTERM ends them at once) or, if listening, drain quickly.
    for (const worker of this.#alive) worker.process.kill('SIGTERM');
    this.#armKillTimer('start-up failed');
  }

  #stop(signal: NodeJS.Signals): void {
    if (this.#phase === 'stopping' || this.#phase === 'failing') return;
    this.#phase = 'stopping';
    this.options.log.info(`${signal}: draining ${this.#alive.size} server processes`);
    // A message rather than the signal itself: after Ctrl-C a terminal has already signalled every
    // process of its group, and a second SIGINT to a draining server process would kill it.
    // One that has not joined yet would miss the message; it gets it when it joins.
    this.#stopSignal = signal;
    for (const worker of this.#alive) if (this.#joined.has(worker)) send(worker, { type: 'inferd:drain', signal });
    this.#armKillTimer(signal);
    if (this.#alive.size === 0) this.#finish();
  }

  #armKillTimer(reason: string): void {
    const boundMs = this.options.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS;
    this.#killTimer = setTimeout(() => {
      this.options.log.error(`server processes still running ${boundMs} ms after ${reason}; killing them`);
      this.#drainFailed = true;
      for (const worker of this.#alive) worker.process.kill('SIGKILL');
    }, boundMs);
  }

  #finish(): void {
    clearTimeout(this.#killTimer);
    cluster.off('listening', this.#onListening);
    cluster.off('message', this.#onMessage);
    cluster.off('exit', this.#onExit);
    process.off('SIGTERM', this.#onSignal);
    process.off('SIGINT', this.#onSignal);
    if (this.#startupFailure !== undefined) this.reject(new Error(this.#startupFailure));
    else this.resolve(this.#drainFailed ? 1 : 0);
  }
}

function send(worker: Worker, message: ToServerProcess): void {
  if (worker.isConnected()) worker.send(message);
}

function url(address: Address): string {
  const host = address.address ?? '0.0.0.0';
  return `http://${address.addressType === 6 ? `[${host}]` : host}:${address.port}`;
}
