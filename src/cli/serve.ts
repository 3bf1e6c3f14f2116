// `inferd serve`: load a model repository (or one model file) into an Engine and serve it over HTTP.
// Every setting is a flag and an environment variable; flags win. A bad model or config.json stops
// start-up with a message naming the file and the field. SIGTERM/SIGINT drain and exit 0.
// With --processes N > 1 this process becomes a cluster primary (serving/cluster-primary.ts) that
// forks N server processes sharing the port, each of which runs serve() below with its own engine.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Engine } from '../engine/engine.js';
import { type ModelLoadOptions, parseProvider } from '../engine/model-config.js';
import { startTracing } from '../observability/tracing.js';
import { DEFAULT_BODY_LIMIT, buildServer } from '../http/server.js';
import { workersWithoutOversubscription } from '../pool/worker-pool.js';
import { ClusterMember } from '../serving/cluster-member.js';
import { runClusterPrimary } from '../serving/cluster-primary.js';
import { type RepositoryModel, scanRepository, singleModel } from '../serving/model-repository.js';
import { installShutdown } from '../serving/shutdown.js';
import { packageRoot } from './package-paths.js';

// flag → [environment variable, description]
const SETTINGS = {
  host: ['INFERD_HOST', 'address to listen on (default 127.0.0.1)'],
  port: ['PORT', 'port to listen on (default 8000; INFERD_PORT also works)'],
  'model-repository': ['INFERD_MODEL_REPOSITORY', 'directory of models laid out as Triton\'s'],
  model: ['INFERD_MODEL', 'serve one model file instead of a repository'],
  processes: ['INFERD_PROCESSES', 'server processes sharing the port, each loading every model (default 1)'],
  workers: ['INFERD_WORKERS', 'worker threads per process (default: cores ÷ (threads × processes))'],
  threads: ['INFERD_THREADS', 'intra-op threads per worker (default 1)'],
  'max-batch': ['INFERD_MAX_BATCH', 'default max batch size for models without config.json'],
  'preferred-batch': ['INFERD_PREFERRED_BATCH', 'default preferred batch sizes, comma-separated'],
  'max-delay-ms': ['INFERD_MAX_DELAY_MS', 'default max queue delay in ms'],
  'priority-levels': ['INFERD_PRIORITY_LEVELS', 'default number of priority levels'],
  'queue-capacity': ['INFERD_QUEUE_CAPACITY', 'default queued requests per model before 503'],
  'timeout-ms': ['INFERD_TIMEOUT_MS', 'default queue timeout in ms (0: none)'],
  instances: ['INFERD_INSTANCES', 'default batches of a model in flight'],
  provider: ['INFERD_PROVIDER', 'default provider: cpu, cuda (fails without a GPU) or auto (default cpu)'],
  'body-limit': ['INFERD_BODY_LIMIT', `largest request body in bytes (default ${DEFAULT_BODY_LIMIT})`],
  'shutdown-timeout-ms': ['INFERD_SHUTDOWN_TIMEOUT_MS', 'longest drain on SIGTERM before exiting anyway (default 30000)'],
  'log-level': ['INFERD_LOG_LEVEL', 'pino log level (default info; silent for none)'],
} as const;

type Setting = keyof typeof SETTINGS;

export const SERVE_USAGE = `inferd serve [options]\n${Object.entries(SETTINGS)
  .map(([flag, [env, help]]) => `  --${flag.padEnd(20)} ${help} [${env}]`).join('\n')}`;

function settings(args: string[]): Partial<Record<Setting, string>> {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(Object.keys(SETTINGS).map((flag) => [flag, { type: 'string' as const }])),
    strict: true,
  });
  const out: Partial<Record<Setting, string>> = {};
  for (const [flag, [env]] of Object.entries(SETTINGS) as [Setting, readonly [string, string]][]) {
    const value = (values as Record<string, string | undefined>)[flag] ?? process.env[env] ??
      (flag === 'port' ? process.env['INFERD_PORT'] : undefined);
    if (value !== undefined) out[flag] = value;
  }
  return out;
}

function integer(s: Partial<Record<Setting, string>>, flag: Setting, min = 0): number | undefined {
  const raw = s[flag];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${flag} must be an integer ≥ ${min}, got '${raw}'`);
  return value;
}

function defaultsFrom(s: Partial<Record<Setting, string>>): ModelLoadOptions {
  const defaults: ModelLoadOptions = {};
  const set = <K extends keyof ModelLoadOptions>(key: K, value: ModelLoadOptions[K] | undefined) => {
    if (value !== undefined) defaults[key] = value;
  };
  set('maxBatchSize', integer(s, 'max-batch'));
  set('maxQueueDelayMs', integer(s, 'max-delay-ms'));
  set('priorityLevels', integer(s, 'priority-levels', 1));
  set('queueCapacity', integer(s, 'queue-capacity', 1));
  set('defaultTimeoutMs', integer(s, 'timeout-ms'));
  set('instances', integer(s, 'instances', 1));
  if (s.provider !== undefined) set('provider', parseProvider(s.provider, '--provider'));
  if (s['preferred-batch'] !== undefined) {
    set('preferredBatchSizes', s['preferred-batch'].split(',').map((v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--preferred-batch must list positive integers, got '${s['preferred-batch']}'`);
      return n;
    }));
  }
  return defaults;
}

// Every setting, checked before any model loads (and, with several processes, before any fork).
interface ServeConfig {
  models: RepositoryModel[];
  processes: number;
  workers: number | undefined;
  threads: number | undefined;
  bodyLimit: number;
  logLevel: string;
  host: string;
  port: number;
  shutdownTimeoutMs: number;
}

function serveConfig(args: string[]): ServeConfig {
  const s = settings(args);
  const processes = integer(s, 'processes', 1) ?? 1;
  const defaults = defaultsFrom(s);
  const models: RepositoryModel[] = s.model !== undefined
    ? [singleModel(path.resolve(s.model), defaults)]
    : scanRepository(path.resolve(s['model-repository'] ?? path.join(packageRoot, 'models')))
      .map((m) => ({ ...m, options: { ...defaults, ...m.options } }));
  return {
    models,
    processes,
    workers: integer(s, 'workers', 1),
    threads: integer(s, 'threads', 1),
    bodyLimit: integer(s, 'body-limit', 1) ?? DEFAULT_BODY_LIMIT,
    logLevel: s['log-level'] ?? 'info',
    host: s.host ?? '127.0.0.1',
    port: integer(s, 'port') ?? 8000,
    shutdownTimeoutMs: integer(s, 'shutdown-timeout-ms', 1) ?? 30_000,
  };
}

export async function runServe(args: string[]): Promise<number> {
  const config = serveConfig(args);
  if (config.processes === 1) return serve(config);
  if (cluster.isPrimary) {
    return runClusterPrimary({ processes: config.processes, serveArgs: args, shutdownTimeoutMs: config.shutdownTimeoutMs,
      log: pino({ level: config.logLevel }) });
  }
  const member = new ClusterMember();
  return serve(config, member).catch((error: unknown) => member.failStartup(error));
}

// Loads the models into an engine and serves them until a signal (or the cluster primary) drains it.
async function serve(config: ServeConfig, member?: ClusterMember): Promise<number> {
  const { models } = config;
  const stopTracing = await startTracing((message) => console.error(message));
  // Each of a cluster's processes has a pool of its own: by default together they fill the cores once.
  const workers = config.workers ??
    (member !== undefined ? workersWithoutOversubscription(config.threads ?? 1, cpus().length, config.processes) : undefined);
  const threads = config.threads;
  const engine = await Engine.create({ ...(workers !== undefined && { workers }), ...(threads !== undefined && { threadsPerWorker: threads }) });
  try {
    for (const m of models) {
      try {
        await engine.load(m.file, m.options);
      } catch (error) {
        throw new Error(`${m.file}: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    await engine.close();
    throw error;
  }

  const version = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const { app, state } = buildServer({
    engine,
    versions: new Map(models.map((m) => [m.name, m.version])),
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    version,
    ...(member !== undefined && { scrapeMetrics: member.scrapeMetrics }),
  });
  member?.shareMetrics(engine.metrics.registry);
  member?.listensOn(app.server);
  await app.listen({ host: config.host, port: config.port });
  app.log.info(`serving ${models.map((m) => `${m.name} (v${m.version})`).join(', ')} with ${engine.workers} worker(s)`);
  const drain = installShutdown({ app, state, engine, timeoutMs: config.shutdownTimeoutMs, stopTracing });
  member?.drainWith(drain);
  return new Promise<number>(() => undefined);  // runs until a signal ends the process
}
