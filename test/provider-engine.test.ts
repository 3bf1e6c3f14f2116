// The provider through the engine and the server: an engine-wide default and a per-model choice,
// shown in describe(), in the OIP model metadata and as an info series in /metrics; a model that
// cannot load on its provider is refused without harming the engine; the GPU gauges have no samples
// (or zeros) where there is no GPU, and the scrape works either way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../src/index.js';
import { loadAddon } from '../src/engine/native-addon.js';
import { affineModelFile } from './helpers/engine-models.js';
import { digitsModel, startServer } from './helpers/http-server.js';

const gpuVisible = loadAddon().gpuStats() !== null;
const autoBackend = gpuVisible ? 'cuda' : 'cpu';

test('the engine default and a model\'s own provider decide where each model computes', async () => {
  const engine = await Engine.create({ workers: 1, provider: 'auto' });
  try {
    const byDefault = await engine.load(affineModelFile(), { name: 'by-default', maxBatchSize: 4 });
    const onCpu = await engine.load(affineModelFile(), { name: 'on-cpu', provider: 'cpu', maxBatchSize: 4 });
    assert.equal(byDefault.describe().provider, autoBackend);
    assert.equal(onCpu.describe().provider, 'cpu');
    for (const model of [byDefault, onCpu]) {
      const results = await Promise.all([0, 1, 2].map((k) => model.infer(new Float32Array([k, k, k, k]))));
      results.forEach((r, k) => assert.deepEqual([...(r['y']!.data as Float32Array)], [2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1]));
    }

    const text = await engine.metrics.registry.metrics();
    assert.match(text, new RegExp(`inferd_model_provider_info\\{model="by-default",provider="${autoBackend}"\\} 1\\n`));
    assert.match(text, /inferd_model_provider_info\{model="on-cpu",provider="cpu"\} 1\n/);

    await onCpu.unload();
    const after = await engine.metrics.registry.metrics();
    assert.doesNotMatch(after, /model="on-cpu",provider=/, 'an unloaded model has no provider series');
    assert.match(after, /inferd_model_provider_info\{model="by-default"/);
  } finally {
    await engine.close();
  }
});

test('a model that cannot load on its provider is refused by name; the engine serves on', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    if (!gpuVisible) {
      await assert.rejects(engine.load(affineModelFile(), { name: 'gpu-only', provider: 'cuda' }),
        /provider 'cuda': (no CUDA GPU is visible|this build of inferd has no CUDA backend)/);
    }
    await assert.rejects(engine.load(affineModelFile(), { name: 'tpu', provider: 'tpu' as 'cpu' }), /unknown provider 'tpu'/);
    await assert.rejects(Engine.create({ provider: 'tpu' as 'cpu' }).then((e) => e.load(affineModelFile()).finally(() => e.close())),
      /unknown provider 'tpu'/);
    assert.deepEqual(engine.modelNames, []);
    const model = await engine.load(affineModelFile(), { name: 'fine' });
    assert.equal(model.describe().provider, 'cpu');
    assert.deepEqual([...((await model.infer(new Float32Array(4)))['y']!.data as Float32Array)], [1, 1, 1, 1]);
    assert.doesNotMatch(await engine.metrics.registry.metrics(), /model="(gpu-only|tpu)"/);
  } finally {
    await engine.close();
  }
});

test('GPU gauges: no samples or zeros without a GPU, figures with one; the scrape works', async () => {
  const engine = await Engine.create({ workers: 1 });
  try {
    await engine.load(affineModelFile(), { name: 'm' });
    const text = await engine.metrics.registry.metrics();
    for (const name of ['inferd_gpu_utilization_ratio', 'inferd_gpu_memory_used_bytes', 'inferd_gpu_memory_total_bytes']) {
      assert.match(text, new RegExp(`# TYPE ${name} gauge`));
      const samples = [...text.matchAll(new RegExp(`^${name}\\{gpu="[^"]*"\\} (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
      if (gpuVisible) {
        assert.equal(samples.length, 1, `${name} has a sample`);
        assert.ok(samples[0]! >= 0);
      } else {
        assert.ok(samples.every((v) => v === 0), `${name} without a GPU: ${samples.join(', ')}`);
      }
    }
    if (gpuVisible) assert.match(text, /inferd_gpu_memory_total_bytes\{gpu="[^"]+"\} [1-9]/);
  } finally {
    await engine.close();
  }
});

test('OIP model metadata and /metrics show the provider; the metadata keeps the OIP fields', async () => {
  const server = await startServer([
    { file: digitsModel, options: { name: 'digits', provider: 'auto' } },
    { file: affineModelFile(), options: { name: 'affine', provider: 'cpu' } },
  ]);
  try {
    const digits = await server.app.inject({ method: 'GET', url: '/v2/models/digits' });
    assert.equal(digits.statusCode, 200);
    const metadata = digits.json() as { name: string; versions: string[]; platform: string; inputs: unknown[];
      outputs: unknown[]; parameters: Record<string, unknown> };
    assert.equal(metadata.name, 'digits');
    assert.equal(typeof metadata.platform, 'string');
    assert.ok(Array.isArray(metadata.versions) && Array.isArray(metadata.inputs) && Array.isArray(metadata.outputs));
    assert.equal(metadata.parameters['provider'], autoBackend);
    const affine = (await server.app.inject({ method: 'GET', url: '/v2/models/affine' })).json() as { parameters: Record<string, unknown> };
    assert.equal(affine.parameters['provider'], 'cpu');

    const scrape = await server.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(scrape.statusCode, 200);
    assert.match(scrape.body, new RegExp(`inferd_model_provider_info\\{model="digits",provider="${autoBackend}"\\} 1`));
    assert.match(scrape.body, /inferd_model_provider_info\{model="affine",provider="cpu"\} 1/);
  } finally {
    await server.close();
  }
});
