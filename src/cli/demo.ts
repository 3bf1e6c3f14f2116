// `inferd demo`: the engine end to end on the bundled digit classifier — load the ONNX model, run
// the held-out sample digits as one batch, print each prediction.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InferenceSession } from '../engine/session.js';
import { bundledModels } from './package-paths.js';

interface Sample {
  digit: number;
  pixels: number[];
}

export function runDemo(modelDir = path.join(bundledModels, 'digits')): number {
  const session = InferenceSession.load(path.join(modelDir, 'model.onnx'));
  const samples = JSON.parse(readFileSync(path.join(modelDir, 'samples.json'), 'utf8')) as Sample[];
  const batch = new Float32Array(samples.length * 784);
  samples.forEach((s, i) => batch.set(s.pixels, i * 784));

  const started = process.hrtime.bigint();
  const { probabilities } = session.run({ image: { dtype: 'float32', dims: [samples.length, 784], data: batch } });
  const micros = Number(process.hrtime.bigint() - started) / 1000;

  const p = probabilities!.data as Float32Array;
  let correct = 0;
  console.log(`model ${path.join(modelDir, 'model.onnx')}: ${session.nodeCount} nodes, opset ${session.opset}`);
  samples.forEach((s, i) => {
    const row = p.subarray(i * 10, i * 10 + 10);
    const predicted = row.indexOf(Math.max(...row));
    correct += predicted === s.digit ? 1 : 0;
    console.log(`  digit ${s.digit} → predicted ${predicted} (p = ${row[predicted]!.toFixed(3)})`);
  });
  console.log(`${correct}/${samples.length} correct, batch of ${samples.length} in ${micros.toFixed(0)} µs`);
  return 0;
}
