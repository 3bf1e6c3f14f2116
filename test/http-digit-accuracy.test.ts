// The bundled default model, served over HTTP: at least 95% of the held-out digits come back with
// the right class, one request per digit over a real socket.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { argmax, digitsModel, root, startServer } from './helpers/http-server.js';

test('the served digit classifier is at least 95% accurate on held-out digits over HTTP', async () => {
  const { splitDigits } = (await import(pathToFileURL(path.join(root, 'scripts', 'digits-dataset.mjs')).href)) as {
    splitDigits(): { heldOut: { pixels: number[]; digit: number }[] };
  };
  const { heldOut } = splitDigits();
  const server = await startServer([{ file: digitsModel, options: { name: 'digits', maxBatchSize: 32 } }], { workers: 2 });
  try {
    const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
    let correct = 0;
    let next = 0;
    const client = async () => {
      while (next < heldOut.length) {
        const { pixels, digit } = heldOut[next++]!;
        const res = await fetch(`${address}/v2/models/digits/infer`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: pixels }] }),
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { outputs: { data: number[] }[] };
        if (argmax(body.outputs[0]!.data) === digit) ++correct;
      }
    };
    await Promise.all(Array.from({ length: 16 }, client));
    const accuracy = correct / heldOut.length;
    assert.ok(accuracy >= 0.95, `accuracy ${(accuracy * 100).toFixed(2)}% on ${heldOut.length} held-out digits`);
  } finally {
    await server.close();
  }
});
