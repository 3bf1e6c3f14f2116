// CPU time (user + system, Linux /proc) of a server: its process and every process under it, since
// a server may answer from several processes (inferd serve --processes N: a node:cluster primary and
// its workers). Children are found by parent pid in /proc/*/stat, which every Linux kernel has
// (/proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN, which some kernels lack).
import { readFileSync, readdirSync } from 'node:fs';

const US_PER_TICK = 10_000;  // clock ticks of 10 ms (USER_HZ 100)

// Per process: its main thread's CPU and all its threads' CPU, in µs.
export interface ServerCpu {
  root: number;
  processes: Map<number, { main: number; all: number }>;
}

function statFields(file: string): string[] {
  const stat = readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');  // from field 3 (state) on: the name may hold spaces
}

const cpuUs = (fields: string[]) => (Number(fields[11]) + Number(fields[12])) * US_PER_TICK;  // utime + stime

// undefined without /proc or when the server is gone.
export function serverCpu(pid: number | undefined): ServerCpu | undefined {
  if (pid === undefined) return undefined;
  const parentOf = new Map<number, number>();
  const allOf = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = statFields(`/proc/${entry}/stat`);
        parentOf.set(Number(entry), Number(fields[1]));
        allOf.set(Number(entry), cpuUs(fields));
      } catch {
        // exited between the listing and the read
      }
    }
  } catch {
    return undefined;
  }
  if (!allOf.has(pid)) return undefined;
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parentOf) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  const processes = new Map<number, { main: number; all: number }>();
  for (const p of tree) {
    try {
      processes.set(p, { main: cpuUs(statFields(`/proc/${p}/task/${p}/stat`)), all: allOf.get(p)! });
    } catch {
      // exited meanwhile
    }
  }
  return { root: pid, processes };
}

// CPU spent between two snapshots, in µs:
//   loop   the event loop(s) that answer HTTP: the root's main thread when it is alone, else the sum
//          of its descendants' main threads (a cluster primary hands connections out; its workers answer)
//   total  every thread of every process
// A process that appeared in between counts from zero; one that exited in between is lost (its CPU
// can no longer be read), which undercounts — the process count says when that may have happened.
export function cpuSpent(before: ServerCpu | undefined, after: ServerCpu | undefined): { loop: number; total: number; processes: number } {
  if (before === undefined || after === undefined) return { loop: NaN, total: NaN, processes: NaN };
  let loop = 0;
  let total = 0;
  const alone = after.processes.size === 1;
  for (const [pid, now] of after.processes) {
    const then = before.processes.get(pid) ?? { main: 0, all: 0 };
    total += now.all - then.all;
    if (alone || pid !== after.root) loop += now.main - then.main;
  }
  return { loop, total, processes: after.processes.size };
}
