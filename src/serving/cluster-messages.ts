// What a cluster primary and its server processes (`inferd serve --processes N`) say to each other
// over the cluster's IPC channel. prom-client's AggregatorRegistry has messages of its own on the same
// channel (the primary gathering each process's registry); every kind here is prefixed to stay apart.

// From a server process to the primary.
export type ToPrimary =
  // The process listens for the primary's messages from now on (a message sent before is lost).
  | { type: 'inferd:joined' }
  // Start-up failed (a bad model file, say); the primary prints the message once for all processes.
  | { type: 'inferd:startup-failed'; message: string }
  // A /metrics request arrived here: the primary gathers every process's figures and answers.
  | { type: 'inferd:metrics-request'; id: number };

// From the primary to a server process.
export type ToServerProcess =
  // The primary got SIGTERM or SIGINT: drain as on that signal.
  | { type: 'inferd:drain'; signal: string }
  | { type: 'inferd:metrics'; id: number; text: string }
  | { type: 'inferd:metrics'; id: number; error: string };

export function isMessage<M extends { type: string }>(value: unknown, type: M['type']): value is M {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}
