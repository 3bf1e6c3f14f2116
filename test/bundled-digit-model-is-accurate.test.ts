// The bundled default model is a real classifier: on the digits held out from its training (the
// last 20% of each class of the `mnist` package) the native engine must get at least 95% right.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InferenceSession } from '../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Digit {
  pixels: number[];
  digit: number;
}

test('the bundled digit classifier is at least 95% accurate on held-out digits', async () => {
  const dataset = (await import(pathToFileURL(path.join(root, 'scripts', 'digits-dataset.mjs')).href)) as {
    splitDigits(): { heldOut: Digit[] };
  };
  const { heldOut } = dataset.splitDigits();
  const session = InferenceSession.load(path.join(root, 'models', 'digits', 'model.onnx'));
  const images = new Float32Array(heldOut.length * 784);
  heldOut.forEach((d, i) => images.set(d.pixels, i * 784));

  const { probabilities } = session.run({ image: { dtype: 'float32', dims: [heldOut.length, 784], data: images } });
  const p = probabilities!.data as Float32Array;
  let correct = 0;
  heldOut.forEach((d, i) => {
    const row = p.subarray(i * 10, i * 10 + 10);
    correct += row.indexOf(Math.max(...row)) === d.digit ? 1 : 0;
  });
  const accuracy = correct / heldOut.length;
  assert.ok(heldOut.length > 1900, `expected about 2000 held-out digits, got ${heldOut.length}`);
  assert.ok(accuracy >= 0.95, `accuracy ${(accuracy * 100).toFixed(2)}% on ${heldOut.length} held-out digits`);
});
