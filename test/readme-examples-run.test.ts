// The README's TypeScript examples are the API's contract: each one runs as written (they are kept
// free of type annotations, so they run as JavaScript), importing this package from its build.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeTempFile } from './helpers/temp-files.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = pathToFileURL(path.join(root, 'dist', 'src', 'index.js')).href;
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes("from 'inferd'"));

test('the README has examples to run', () => {
  assert.ok(examples.length >= 2, `found ${examples.length}`);
});

examples.forEach((code, index) => {
  test(`README example ${index + 1} runs`, () => {
    const file = writeTempFile(`readme-example-${index + 1}.mjs`, new TextEncoder().encode(code.replaceAll("from 'inferd'", `from '${entry}'`)));
    execFileSync(process.execPath, [file], { cwd: root, stdio: 'pipe', timeout: 60_000 });
  });
});
