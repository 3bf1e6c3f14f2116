// Model files for tests that load by path, in a directory removed when the process exits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let directory: string | undefined;

export function writeTempFile(name: string, bytes: Uint8Array): string {
  if (directory === undefined) {
    const created = mkdtempSync(path.join(tmpdir(), 'inferd-test-'));
    directory = created;
    process.on('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  const file = path.join(directory, name);
  writeFileSync(file, bytes);
  return file;
}
