// A cluster primary's log lines, in the shape of its server processes' (pino's JSON: level, time,
// pid, hostname, msg), so that whatever reads the server's log reads both. The primary runs no
// Fastify and hence has no pino of its own.
import { hostname } from 'node:os';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface PrimaryLog {
  info(message: string): void;
  error(message: string): void;
}

export function primaryLog(level: string): PrimaryLog {
  const threshold = level === 'silent' ? Infinity : LEVELS[level] ?? LEVELS['info']!;
  const host = hostname();
  const write = (value: number, msg: string) => {
    if (value < threshold) return;
    process.stdout.write(`${JSON.stringify({ level: value, time: Date.now(), pid: process.pid, hostname: host, msg })}\n`);
  };
  return { info: (message) => write(LEVELS['info']!, message), error: (message) => write(LEVELS['error']!, message) };
}
