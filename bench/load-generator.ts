// A load-generator child process (started by bench/load-processes.ts through child_process.fork, with
// advanced serialization so latencies cross as one typed array rather than a million JSON numbers).
// It says when it is ready, runs autocannon once on the spec it is then sent, sends back the sample
// and exits. Readiness is separate from the spec so that the parent can start all its generators
// at the same moment, after their start-up, and their runs cover the same span of time.
import { type LoadSample, type LoadSpec, runAutocannon } from './autocannon-load.js';

export type ToGenerator = { run: LoadSpec };
export type FromGenerator = { ready: true } | { sample: LoadSample } | { error: string };

const send = process.send?.bind(process);
if (send === undefined) {
  throw new Error('bench/load-generator.js runs as a child of the HTTP benchmark (child_process.fork), not on its own');
}

let finished = false;
// The parent gone (killed, crashed) leaves nobody to report to: stop loading its server.
process.once('disconnect', () => {
  if (!finished) process.exit(1);
});

process.once('message', (message: ToGenerator) => {
  runAutocannon(message.run).then(
    (sample) => ({ sample }),
    (error: unknown) => ({ error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  ).then((reply: FromGenerator) => {
    finished = true;
    send(reply, undefined, undefined, () => process.disconnect());
  });
});

send({ ready: true } satisfies FromGenerator);
