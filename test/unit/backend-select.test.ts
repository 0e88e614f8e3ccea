// `auto` backend selection as a function of what loads and what the WebGPU adapter says it is,
// with fake probes; and the WebGPU loader's options and missing-package message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKEND_NAMES, BackendUnavailableError, initBackend, realProbes } from '../../server/src/backend/backend';
import {
  AdapterInfoLike,
  adapterName,
  AutoProbes,
  chooseAuto,
  classifyAdapter,
  LoadProbe,
  NodeGpuProbe,
  WebGpuProbe,
} from '../../server/src/backend/select';
import { dawnFlags, isGlBackend, webgpuOptions, webgpuPackages } from '../../server/src/backend/webgpu';

// Adapter infos as Dawn reports them (the GL one measured on this project's CPU-only machines).
const LLVMPIPE_GL: AdapterInfoLike = {
  vendor: '',
  architecture: '',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6',
  isFallbackAdapter: false,
};
const LAVAPIPE: AdapterInfoLike = {
  vendor: 'mesa',
  architecture: '',
  device: 'llvmpipe (LLVM 19.1.7, 256 bits)',
  description: 'Mesa 25.0.7 (LLVM 19.1.7)',
};
const SWIFTSHADER: AdapterInfoLike = { vendor: 'google', device: 'SwiftShader Device (Subzero)', description: '' };
const WARP: AdapterInfoLike = { vendor: 'microsoft', device: 'Microsoft Basic Render Driver', description: '' };
const NVIDIA: AdapterInfoLike = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: 'NVIDIA H200',
  description: 'NVIDIA: 570.124.06 570.124.6.0',
};
const AMD: AdapterInfoLike = { vendor: 'amd', architecture: 'rdna-3', device: 'AMD Radeon RX 7900 XTX (RADV NAVI31)' };
const APPLE: AdapterInfoLike = { vendor: 'apple', architecture: 'metal-3', device: 'Apple M2 Pro' };

test('classifyAdapter: CPU/software renderers are not GPUs', () => {
  for (const info of [LLVMPIPE_GL, LAVAPIPE, SWIFTSHADER, WARP]) assert.equal(classifyAdapter(info), 'software');
  assert.equal(classifyAdapter({ ...NVIDIA, isFallbackAdapter: true }), 'software');
  for (const info of [NVIDIA, AMD, APPLE]) assert.equal(classifyAdapter(info), 'gpu');
  assert.equal(classifyAdapter({}), 'unknown');
  assert.equal(classifyAdapter({ vendor: ' ', device: '' }), 'unknown');
});

test('adapterName: vendor and device without repeating the vendor', () => {
  assert.equal(adapterName(NVIDIA), 'NVIDIA H200');
  assert.equal(adapterName(AMD), 'AMD Radeon RX 7900 XTX (RADV NAVI31)');
  assert.equal(adapterName({ vendor: 'intel', device: 'Arc A770' }), 'intel Arc A770');
  assert.equal(adapterName(LLVMPIPE_GL), 'llvmpipe-llvm-15-0-6-256-bits-');
  assert.equal(adapterName({}), 'an adapter with no name');
});

interface World {
  nodeGpu: NodeGpuProbe;
  webgpu: WebGpuProbe;
  node: LoadProbe;
  wasm: LoadProbe;
}

const NOT_INSTALLED = (what: string) => ({ loaded: false as const, why: `${what} not installed` });
const CPU_ONLY_BOX: World = {
  nodeGpu: NOT_INSTALLED('tfjs-node-gpu'),
  webgpu: { loaded: true, adapter: LLVMPIPE_GL, via: 'opengles' },
  node: { ok: false, why: 'tfjs-node not installed' },
  wasm: { ok: true },
};

/** Fake probes over a world, recording which ran (and what `node` was told). */
function fakes(world: World): { probes: AutoProbes; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    probes: {
      nodeGpu: async () => (calls.push('nodeGpu'), world.nodeGpu),
      webgpu: async () => (calls.push('webgpu'), world.webgpu),
      node: async (nodeGpuLoaded) => (calls.push(`node(${nodeGpuLoaded})`), world.node),
      wasm: async () => (calls.push('wasm'), world.wasm),
    },
  };
}

async function decide(world: Partial<World>) {
  const { probes, calls } = fakes({ ...CPU_ONLY_BOX, ...world });
  const d = await chooseAuto(probes);
  assert.match(d.message, /^backend: auto picked \w+ \(.+\)$/);
  assert.ok(!d.message.includes('\n'), 'one line');
  return { ...d, calls };
}

test('auto: tfjs-node-gpu that sees a CUDA GPU wins, and nothing else is probed', async () => {
  const d = await decide({
    nodeGpu: { loaded: true, gpu: true },
    webgpu: { loaded: true, adapter: NVIDIA, via: 'vulkan' },
  });
  assert.equal(d.choice, 'gpu');
  assert.deepEqual(d.calls, ['nodeGpu']);
  assert.equal(d.message, 'backend: auto picked gpu (tfjs-node-gpu sees a CUDA GPU)');
});

test('auto: WebGPU on a real GPU adapter comes next, before tfjs-node', async () => {
  for (const nodeGpu of [NOT_INSTALLED('tfjs-node-gpu'), { loaded: true as const, gpu: false }]) {
    const d = await decide({
      nodeGpu,
      webgpu: { loaded: true, adapter: NVIDIA, via: 'default backend' },
      node: { ok: true },
    });
    assert.equal(d.choice, 'webgpu');
    assert.deepEqual(d.calls, ['nodeGpu', 'webgpu']);
    assert.match(d.message, /auto picked webgpu \(WebGPU adapter NVIDIA H200 via Dawn default backend; /);
    assert.match(
      d.message,
      nodeGpu.loaded ? /tfjs-node-gpu loaded but sees no CUDA GPU/ : /gpu: tfjs-node-gpu not installed/,
    );
  }
});

test('auto: a CPU/software WebGPU adapter is passed over for tfjs-node, then wasm', async () => {
  for (const adapter of [LLVMPIPE_GL, LAVAPIPE, SWIFTSHADER, { ...AMD, isFallbackAdapter: true }]) {
    const withNode = await decide({ webgpu: { loaded: true, adapter, via: 'vulkan' }, node: { ok: true } });
    assert.equal(withNode.choice, 'node');
    assert.match(withNode.message, /auto picked node \(tfjs-node on the CPU; .*webgpu: .* is a CPU\/software adapter/);
    const withoutNode = await decide({ webgpu: { loaded: true, adapter, via: 'vulkan' } });
    assert.equal(withoutNode.choice, 'wasm');
    assert.deepEqual(withoutNode.calls, ['nodeGpu', 'webgpu', 'node(false)', 'wasm']);
  }
});

test('auto: the CPU-only machine picks wasm and says why in one line', async () => {
  const d = await decide({});
  assert.equal(d.choice, 'wasm');
  assert.equal(
    d.message,
    'backend: auto picked wasm (no GPU found; gpu: tfjs-node-gpu not installed; ' +
      'webgpu: llvmpipe-llvm-15-0-6-256-bits- is a CPU/software adapter; node: tfjs-node not installed)',
  );
});

test('auto: tfjs-node-gpu without a GPU serves as the native CPU backend', async () => {
  const d = await decide({ nodeGpu: { loaded: true, gpu: false }, node: { ok: true } });
  assert.equal(d.choice, 'node');
  assert.deepEqual(d.calls, ['nodeGpu', 'webgpu', 'node(true)']);
  assert.match(d.message, /auto picked node \(tfjs-node-gpu on the CPU; tfjs-node-gpu loaded but sees no CUDA GPU; /);
});

test('auto: no adapter, an adapter of unknown kind, a missing package: each named, none chosen', async () => {
  const none = await decide({ webgpu: { loaded: true, adapter: null, via: 'vulkan' } });
  assert.equal(none.choice, 'wasm');
  assert.match(none.message, /webgpu: Dawn \(vulkan\) offered no adapter/);
  const unknown = await decide({ webgpu: { loaded: true, adapter: {}, via: 'vulkan' } });
  assert.equal(unknown.choice, 'wasm');
  assert.match(unknown.message, /webgpu: the adapter does not say what it is/);
  const missing = await decide({ webgpu: NOT_INSTALLED('webgpu') });
  assert.match(missing.message, /webgpu: webgpu not installed/);
});

test('auto: the pure-JS cpu backend when nothing else loads', async () => {
  const d = await decide({ wasm: { ok: false, why: 'the wasm backend failed to initialise' } });
  assert.equal(d.choice, 'cpu');
  assert.match(d.message, /auto picked cpu \(nothing faster loads; .*wasm: the wasm backend failed to initialise\)$/);
});

test('webgpu options: Dawn backend and adapter from the environment', () => {
  assert.deepEqual(webgpuOptions({}), { backend: undefined, adapter: undefined });
  const o = webgpuOptions({ R1_WEBGPU_BACKEND: ' OpenGLES ', R1_WEBGPU_ADAPTER: 'NVIDIA H200' });
  assert.deepEqual(o, { backend: 'opengles', adapter: 'NVIDIA H200' });
  assert.deepEqual(dawnFlags(o), ['backend=opengles', 'adapter=NVIDIA H200']);
  assert.deepEqual(dawnFlags({}), []);
  assert.ok(isGlBackend('opengles') && isGlBackend('opengl') && !isGlBackend('vulkan') && !isGlBackend(undefined));
  assert.ok(BACKEND_NAMES.includes('webgpu'));
});

test('webgpu: a missing optional package is a one-line install hint, and auto notes it', async () => {
  const saved = { ...webgpuPackages };
  const env = process.env.R1_WEBGPU_BACKEND;
  webgpuPackages.dawn = 'r1-test-missing-webgpu-package';
  process.env.R1_WEBGPU_BACKEND = 'opengles'; // probe even without a GPU device node
  try {
    await assert.rejects(initBackend('webgpu'), (err: Error) => {
      assert.ok(err instanceof BackendUnavailableError, String(err));
      assert.match(
        err.message,
        /^backend "webgpu" needs the optional packages webgpu and @tensorflow\/tfjs-backend-webgpu: run `npm install webgpu@0\.6\.2 @tensorflow\/tfjs-backend-webgpu@4\.22\.0`/,
      );
      assert.ok(!err.message.includes('\n'));
      return true;
    });
    assert.deepEqual(await realProbes().webgpu(), { loaded: false, why: 'webgpu not installed' });
  } finally {
    Object.assign(webgpuPackages, saved);
    if (env === undefined) delete process.env.R1_WEBGPU_BACKEND;
    else process.env.R1_WEBGPU_BACKEND = env;
  }
});
