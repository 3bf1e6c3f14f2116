// `inferd serve --processes N` end to end, as real processes on a real socket: every server process
// answers on the shared port, /metrics reports all of them whichever answers it, a crashed process is
// replaced, SIGTERM or a terminal's Ctrl-C drains each and leaves none running, one that hangs while
// draining is killed at the bound, a bad model stops start-up with one message, and the flag is checked.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { matmulModelFile } from './helpers/engine-models.js';
import { argmax, binaryBody, digitsModel, root, until } from './helpers/http-server.js';
import { type ServeProcess, modelRepository, serveProcess } from './helpers/serve-process.js';
import { writeTempFile } from './helpers/temp-files.js';

// The primary's line once every server process listens.
const CLUSTER_LISTENING = /"msg":"\d+ processes listening at (http:\/\/127\.0\.0\.1:\d+)"/;

const digit = readFileSync(path.join(root, 'examples', 'digit.json'));

// A server that never listens, or a primary that never exits, fails its test rather than hang the run.
const bounded = { timeout: 60_000 };

// Every server started here; whatever of them is left when the file's tests end is killed, so that
// a failed test (or one that timed out) leaves nothing running.
const started: ServeProcess[] = [];
after(() => started.forEach(killAll));

function serveCluster(args: string[], options: { detached?: boolean } = {}): ServeProcess {
  const server = serveProcess(['--processes', '2', ...args], { listening: CLUSTER_LISTENING, ...options });
  started.push(server);
  return server;
}

// One request on a connection of its own (no keep-alive), which the cluster may give any process.
function send(url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body ? 'POST' : 'GET', agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const inferDigit = (address: string) => send(`${address}/v2/models/digits/infer`, digit, { 'content-type': 'application/json' });

interface LogLine { pid: number; msg: string; req?: { url: string } }

// The pino lines written so far (the primary writes its own in the same shape).
function logLines(server: ServeProcess): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of server.output().split('\n')) {
    try {
      if (line.startsWith('{')) lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line still being written
    }
  }
  return lines;
}

// The processes that logged an incoming request for `url`.
function answeredBy(server: ServeProcess, url: string): Set<number> {
  return new Set(logLines(server).filter((l) => l.msg === 'incoming request' && l.req?.url === url).map((l) => l.pid));
}

// Every server process that has listened so far, in order.
function serverPids(server: ServeProcess): number[] {
  return logLines(server).filter((l) => l.msg.startsWith('Server listening at')).map((l) => l.pid);
}

// The first `count` server processes, once each has logged that it listens (the primary's line
// saying all listen may reach the output before theirs).
async function listeningPids(server: ServeProcess, count = 2): Promise<number[]> {
  await until(() => serverPids(server).length >= count, `${count} server processes have logged that they listen`);
  return serverPids(server).slice(0, count);
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Kills the primary and every server process it started (a stopped one included).
function killAll(server: ServeProcess): void {
  for (const pid of [server.child.pid!, ...serverPids(server)]) if (running(pid)) process.kill(pid, 'SIGKILL');
}

async function digitRequestsCounted(address: string): Promise<number> {
  const { status, body } = await send(`${address}/metrics`);
  assert.equal(status, 200, body.toString());
  return Number(/^inferd_requests_total\{model="digits",status="ok"\} (\d+)$/m.exec(body.toString())?.[1] ?? 0);
}

describe('two server processes on the bundled digits model', bounded, () => {
  let server: ServeProcess;
  let address: string;
  // Detached: the last test signals its process group, as a terminal's Ctrl-C does.
  before(async () => {
    server = serveCluster(['--workers', '1'], { detached: true });
    address = await server.address;
  }, bounded);

  test('requests on separate connections all answer 7, and more than one process answers them', bounded, async () => {
    for (let round = 0; round < 5; ++round) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => inferDigit(address)));
      for (const { status, body } of answers) {
        assert.equal(status, 200, body.toString());
        const { outputs } = JSON.parse(body.toString()) as { outputs: { data: number[] }[] };
        assert.equal(argmax(outputs[0]!.data), 7);
      }
    }
    await until(() => answeredBy(server, '/v2/models/digits/infer').size === 2, 'both server processes have answered');
    assert.ok(!answeredBy(server, '/v2/models/digits/infer').has(server.child.pid!), 'the primary serves nothing');
  });

  test('/metrics counts every request of every process, whichever process answers the scrape', bounded, async () => {
    const before = await digitRequestsCounted(address);
    const sent = 30;
    const answers = await Promise.all(Array.from({ length: sent }, () => inferDigit(address)));
    assert.ok(answers.every((a) => a.status === 200));
    const scrapes: number[] = [];
    for (let i = 0; i < 6; ++i) scrapes.push(await digitRequestsCounted(address));
    assert.deepEqual(scrapes, Array(6).fill(before + sent));
    await until(() => answeredBy(server, '/metrics').size === 2, 'both server processes have answered a scrape');
  });

  test('a server process that crashes is replaced, and the server keeps answering', bounded, async () => {
    const [victim] = await listeningPids(server);
    process.kill(victim!, 'SIGKILL');
    // The primary's word, and the replacement's own line (the two processes write independently).
    await until(() => /listening in place of one that exited/.test(server.output()) && serverPids(server).length === 3,
      'a replacement listens', 30_000);
    assert.match(server.output(), new RegExp(`server process ${victim} exited with signal SIGKILL; starting another`));
    const live = serverPids(server).filter(running);
    assert.equal(live.length, 2, `live server processes: ${live.join(', ')}`);
    assert.ok(!live.includes(victim!));
    const answers = await Promise.all(Array.from({ length: 8 }, () => inferDigit(address)));
    assert.ok(answers.every((a) => a.status === 200));
  });

  test('Ctrl-C, which signals the whole process group, drains every process and exits 0', bounded, async () => {
    const pids = serverPids(server).filter(running);
    process.kill(-server.child.pid!, 'SIGINT');
    assert.equal(await server.exit, 0, server.output());
    for (const pid of pids) assert.ok(!running(pid), `server process ${pid} is still running`);
  });
});

test('SIGTERM drains: the request in flight finishes, the primary exits 0, no server process is left', bounded, async () => {
  const repository = modelRepository({ slow: { file: matmulModelFile(2048), config: { maxBatchSize: 4096, instances: 1 } } });
  const server = serveCluster(['--model-repository', repository, '--workers', '1']);
  const address = await server.address;
  const rows = 4096;
  const { body, headerLength } = binaryBody({ inputs: [{ name: 'x', shape: [rows, 2048], datatype: 'FP32',
    parameters: { binary_data_size: rows * 2048 * 4 } }], parameters: { binary_data_output: true } }, [new Uint8Array(rows * 2048 * 4)]);
  const inFlight = send(`${address}/v2/models/slow/infer`, body,
    { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) });
  await until(async () => /inferd_inflight_batches\{model="slow"\} 1/.test((await send(`${address}/metrics`)).body.toString()),
    'the request is being computed');
  const pids = await listeningPids(server);
  server.child.kill('SIGTERM');
  const response = await inFlight;
  assert.equal(response.status, 200, 'the in-flight request finishes');
  assert.equal(await server.exit, 0, server.output());
  for (const pid of pids) assert.ok(!running(pid), `server process ${pid} is still running`);
});

test('a server process that hangs while draining is killed at the drain bound and the primary exits 1', bounded, async () => {
  const server = serveCluster(['--workers', '1', '--shutdown-timeout-ms', '300']);
  await server.address;
  const [hung, other] = await listeningPids(server);
  process.kill(hung!, 'SIGSTOP');
  const signalledAt = Date.now();
  server.child.kill('SIGTERM');
  assert.equal(await server.exit, 1, server.output());
  const tookMs = Date.now() - signalledAt;
  // The bound, a second's margin, and slack for a loaded machine — far below the default 30 s.
  assert.ok(tookMs >= 300 && tookMs < 6000, `exited after ${tookMs} ms`);
  assert.match(server.output(), /still running \d+ ms after SIGTERM; killing them/);
  assert.ok(!running(hung!), 'the hung process is killed');
  assert.ok(!running(other!), 'the other process drained');
});

test('a bad model file stops start-up quickly, with one message naming the file', bounded, async () => {
  const broken = writeTempFile('broken.onnx', new TextEncoder().encode('not an ONNX model'));
  const repository = modelRepository({ digits: { file: digitsModel }, broken: { file: broken } });
  const launchedAt = Date.now();
  const server = serveCluster(['--model-repository', repository, '--workers', '1']);
  assert.equal(await server.exit, 1, server.output());
  // A primary that waited out its processes' drain bound would take over 30 s.
  const tookMs = Date.now() - launchedAt;
  assert.ok(tookMs < 15_000, `exited after ${tookMs} ms`);
  const messages = server.output().split('\n').filter((line) => line.startsWith('inferd: '));
  assert.equal(messages.length, 1, server.output());
  assert.match(messages[0]!, /^inferd: .*broken[/\\]model\.onnx: /);
});

test('--processes must be an integer of at least 1; another value is refused naming the flag', bounded, async () => {
  const cases: [string[], Record<string, string>, string][] = [
    [['--processes', '0'], {}, '0'],
    [['--processes', 'two'], {}, 'two'],
    [[], { INFERD_PROCESSES: '1.5' }, '1.5'],
  ];
  await Promise.all(cases.map(async ([args, env, shown]) => {
    const server = serveProcess(args, { env });
    assert.equal(await server.exit, 1, server.output());
    assert.match(server.output(), new RegExp(`inferd: --processes must be an integer ≥ 1, got '${shown.replace('.', '\\.')}'`));
  }));
});
