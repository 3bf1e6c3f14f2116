#!/usr/bin/env node
// The `inferd` command line.
//   inferd serve [options]                  serve a model repository over HTTP (Open Inference Protocol v2)
//   inferd demo [--model models/digits]     classify the bundled held-out digits with the native engine
//   inferd inspect <model.onnx> [--json]    inputs, outputs, opsets, op census, unsupported ops
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';
import { runInspect } from './inspect.js';
import { SERVE_USAGE, runServe } from './serve.js';

const USAGE = `usage:
  ${SERVE_USAGE.replace(/\n/g, '\n  ')}
  inferd demo [--model <dir>]           classify the bundled sample digits with the native engine
  inferd inspect <model.onnx> [--json]  show a model's inputs, outputs, opsets, ops and unsupported ops`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { model: { type: 'string' } } });
      return runDemo(values.model);
    }
    case 'inspect': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      if (positionals.length !== 1) {
        console.error(USAGE);
        return 2;
      }
      return runInspect(positionals[0]!, values.json ?? false);
    }
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`inferd: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(`inferd: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
