// The provider in `inferd serve`: the --provider flag (or INFERD_PROVIDER) is every model's default,
// a model's config.json `provider` (and `cpuFallback`) overrides it, and a bad value — or "cuda"
// without a GPU — stops start-up with a message naming where it came from.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadAddon } from '../src/engine/native-addon.js';
import { parseProvider } from '../src/engine/model-config.js';
import { readModelConfig } from '../src/serving/model-repository.js';
import { affineModelFile } from './helpers/engine-models.js';
import { digitsModel } from './helpers/http-server.js';
import { modelRepository, serveProcess } from './helpers/serve-process.js';

const gpuVisible = loadAddon().gpuStats() !== null;

function serve(args: string[], env: Record<string, string> = {}) {
  return serveProcess(['--workers', '1', ...args], { env });
}

test('config.json accepts provider and cpuFallback and names a bad value', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'inferd-provider-config-'));
  const write = (config: object) => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    return file;
  };
  assert.deepEqual(readModelConfig(write({ provider: 'auto', cpuFallback: false })), { provider: 'auto', cpuFallback: false });
  assert.throws(() => readModelConfig(write({ provider: 'tpu' })),
    /config\.json: field 'provider' must be one of "cpu", "cuda", "auto", got "tpu"/);
  assert.throws(() => readModelConfig(write({ cpuFallback: 'yes' })), /config\.json: field 'cpuFallback' must be true or false, got "yes"/);
  assert.equal(parseProvider('cuda', '--provider'), 'cuda');
  assert.throws(() => parseProvider('gpu', '--provider'), /--provider: provider must be one of 'cpu', 'cuda', 'auto', got "gpu"/);
});

test('INFERD_PROVIDER is the default and config.json overrides it; metadata and /metrics show each', async () => {
  const repo = modelRepository({
    digits: { file: digitsModel },
    affine: { file: affineModelFile(), config: { provider: 'cpu', cpuFallback: true } },
  });
  const server = serve(['--model-repository', repo], { INFERD_PROVIDER: 'auto' });
  const address = await server.address;
  try {
    const expected = { digits: gpuVisible ? 'cuda' : 'cpu', affine: 'cpu' };
    for (const [name, provider] of Object.entries(expected)) {
      const metadata = await (await fetch(`${address}/v2/models/${name}`)).json() as { parameters: { provider: string } };
      assert.equal(metadata.parameters.provider, provider, name);
    }
    const metrics = await (await fetch(`${address}/metrics`)).text();
    assert.match(metrics, new RegExp(`inferd_model_provider_info\\{model="digits",provider="${expected.digits}"\\} 1`));
    assert.match(metrics, /inferd_model_provider_info\{model="affine",provider="cpu"\} 1/);
  } finally {
    server.child.kill('SIGINT');
    assert.equal(await server.exit, 0, server.output());
  }
});

test('--provider with an unknown name stops start-up naming the flag', async () => {
  const server = serve(['--model', digitsModel, '--provider', 'tpu']);
  await assert.rejects(server.address);
  assert.notEqual(await server.exit, 0);
  assert.match(server.output(), /--provider: provider must be one of 'cpu', 'cuda', 'auto', got "tpu"/);
});

test('--provider cuda without a GPU stops start-up naming the model file and the reason', { skip: gpuVisible && 'a GPU is visible' }, async () => {
  const server = serve(['--model', digitsModel, '--provider', 'cuda']);
  await assert.rejects(server.address);
  assert.notEqual(await server.exit, 0);
  assert.match(server.output(), /model\.onnx: provider 'cuda': (no CUDA GPU is visible|this build of inferd has no CUDA backend)/);
});
