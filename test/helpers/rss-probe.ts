// Run as a child process: node rss-probe.js <model.onnx> <workers>. Loads the model in an engine of
// that many workers, makes every worker compute (so every worker holds a session), prints the
// process's resident set size in bytes.
import { Engine } from '../../src/index.js';

const [modelPath, workersArg] = process.argv.slice(2);
const workers = Number(workersArg);
const engine = await Engine.create({ workers });
const model = await engine.load(modelPath!, { name: 'big', maxBatchSize: 1, instances: workers });
const width = model.describe().inputs[0]!.dims[1]!;
for (let round = 0; round < 3; ++round) {
  await Promise.all(Array.from({ length: workers * 2 }, () => model.infer(new Float32Array(width))));
}
const sessions = engine.nativeRuns;
console.log(JSON.stringify({ rss: process.memoryUsage().rss, nativeRuns: sessions }));
await engine.close();
