// `inferd serve` as a child process on a port of its own choosing (--port 0), for tests that need the
// real command: its flags, its output, its signals and its exit code.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './http-server.js';

export const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

export interface ServeProcess {
  child: ChildProcess;
  // The server's base URL once it says it listens; rejects if the process exits first.
  address: Promise<string>;
  exit: Promise<number | null>;
  // Everything written to stdout and stderr so far.
  output: () => string;
}

// Single-process Fastify's line; a cluster primary's differs (pass `listening`).
const FASTIFY_LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/;

export function serveProcess(
  args: string[],
  // detached: the process leads a process group of its own (a terminal's Ctrl-C signals a whole group).
  options: { env?: Record<string, string>; listening?: RegExp; detached?: boolean } = {},
): ServeProcess {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, detached: options.detached ?? false });
  const listening = options.listening ?? FASTIFY_LISTENING;
  let output = '';
  const address = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = listening.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`server exited before listening:\n${output}`)));
  });
  address.catch(() => undefined);  // tests that expect a failed start-up await `exit` instead
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, address, exit, output: () => output };
}

// A model repository in a new temporary directory: each model's file copied in as
// <name>/model.onnx, with its config.json when given.
export function modelRepository(models: Record<string, { file: string; config?: object }>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'inferd-repository-'));
  for (const [name, { file, config }] of Object.entries(models)) {
    mkdirSync(path.join(dir, name));
    copyFileSync(file, path.join(dir, name, 'model.onnx'));
    if (config) writeFileSync(path.join(dir, name, 'config.json'), JSON.stringify(config));
  }
  return dir;
}
