// Picks and initialises the TensorFlow.js backend. wasm is the default that installs
// everywhere; tfjs-node(-gpu) and WebGPU (Dawn) are optional and loaded lazily so a missing
// package is a one-line message, never a crash at import time.
import * as tf from '@tensorflow/tfjs';
import { registerFastWasmSlicing } from './wasmSlice';
import { AutoProbes, chooseAuto, NodeGpuProbe } from './select';
import {
  describeVia,
  gpuDeviceNodesPresent,
  initWebGpu,
  probeWebGpuAdapter,
  releaseWebGpu,
  WebGpuUnavailable,
  webgpuOptions,
} from './webgpu';

export type BackendName = 'auto' | 'gpu' | 'webgpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'gpu', 'webgpu', 'node', 'wasm', 'cpu'];

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

const INSTALL_HINT: Record<'gpu' | 'node', string> = {
  gpu:
    'backend "gpu" needs @tensorflow/tfjs-node-gpu: run `npm install @tensorflow/tfjs-node-gpu@4.22.0` ' +
    '(needs CUDA 11.2 + cuDNN 8.1 and internet access for its libtensorflow download; see README "GPU")',
  node:
    'backend "node" needs @tensorflow/tfjs-node: run `npm install @tensorflow/tfjs-node@4.22.0` ' +
    '(its install downloads libtensorflow; see README "GPU")',
};

let active: string | undefined;
/** Which native package registered the `tensorflow` backend (they cannot both load). */
let nativeLoaded: 'gpu' | 'node' | undefined;

/** Loads a native tfjs package that registers the `tensorflow` backend on import. */
function loadNative(kind: 'gpu' | 'node'): void {
  if (nativeLoaded) return; // either one provides the `tensorflow` backend
  const pkg = kind === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
    nativeLoaded = kind;
  } catch (err) {
    throw new BackendUnavailableError(`${INSTALL_HINT[kind]} (load failed: ${firstLine(err)})`);
  }
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

async function initWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new BackendUnavailableError('the wasm backend failed to initialise');
  registerFastWasmSlicing();
}

async function initTensorflow(kind: 'gpu' | 'node'): Promise<void> {
  loadNative(kind);
  if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError(INSTALL_HINT[kind]);
}

async function initOne(name: Exclude<BackendName, 'auto'>): Promise<string> {
  switch (name) {
    case 'gpu':
    case 'node':
      await initTensorflow(name);
      return 'tensorflow';
    case 'webgpu':
      try {
        await initWebGpu();
      } catch (err) {
        throw err instanceof WebGpuUnavailable ? new BackendUnavailableError(err.message) : err;
      }
      return 'webgpu';
    case 'wasm':
      await initWasm();
      return 'wasm';
    case 'cpu':
      await tf.setBackend('cpu');
      return 'cpu';
  }
}

/** The probes `auto` runs on this machine: they load the real packages. */
export function realProbes(): AutoProbes {
  return {
    async nodeGpu(): Promise<NodeGpuProbe> {
      try {
        await initTensorflow('gpu');
      } catch (err) {
        return { loaded: false, why: notInstalledOr('tfjs-node-gpu', err) };
      }
      const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
      return { loaded: true, gpu: backend.isUsingGpuDevice === true };
    },
    async webgpu() {
      const o = webgpuOptions();
      const via = describeVia(o);
      if (!o.backend && !o.adapter && !gpuDeviceNodesPresent()) {
        return { loaded: false, why: 'no GPU device (/dev/dri/renderD*, /dev/nvidia*)' };
      }
      try {
        const { adapter } = await probeWebGpuAdapter(o);
        return { loaded: true, adapter, via };
      } catch (err) {
        return { loaded: false, why: notInstalledOr('webgpu', err) };
      }
    },
    async node(nodeGpuLoaded) {
      try {
        // tfjs-node-gpu, when it loaded, already provides the `tensorflow` backend on the CPU.
        await initTensorflow(nodeGpuLoaded ? 'gpu' : 'node');
        return { ok: true };
      } catch (err) {
        return { ok: false, why: notInstalledOr('tfjs-node', err) };
      }
    },
    async wasm() {
      try {
        await initWasm();
        return { ok: true };
      } catch (err) {
        return { ok: false, why: firstLine(err) };
      }
    },
  };
}

/** "tfjs-node not installed" for a missing package, the error's first line for anything else. */
function notInstalledOr(what: string, err: unknown): string {
  const msg = firstLine(err);
  if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND/.test(msg)) return `${what} not installed`;
  const inner = /\(load failed: (.*)\)$/.exec(msg)?.[1];
  if (inner && /Cannot find (module|package)/.test(inner)) return `${what} not installed`;
  return inner ?? msg;
}

/**
 * Initialises the requested backend (idempotent) and returns a description of what runs.
 * `auto` prefers a GPU (tfjs-node-gpu with CUDA, then WebGPU on a real GPU adapter), then
 * tfjs-node, then wasm, and says which it picked and why, in one line, through `log`.
 */
export async function initBackend(
  requested: BackendName = 'auto',
  log: (msg: string) => void = () => {},
): Promise<string> {
  if (active && (requested === 'auto' || active === requested)) return active;
  if (requested !== 'auto') {
    await initOne(requested);
    active = requested;
  } else {
    const probes = realProbes();
    let decision = await chooseAuto(probes);
    // The probes already set gpu/node/wasm up; webgpu (and the cpu fallback) still need it.
    if (decision.choice === 'webgpu') {
      try {
        await initOne('webgpu');
      } catch (err) {
        // An adapter but no working backend (e.g. tfjs-backend-webgpu missing): the next best.
        const why = `a GPU adapter, but ${firstLine(err)}`;
        decision = await chooseAuto({ ...probes, webgpu: async () => ({ loaded: false, why }) });
      }
    }
    if (decision.choice !== 'webgpu') releaseWebGpu(); // drop a probed Dawn instance
    if (decision.choice === 'cpu') await initOne('cpu');
    active = decision.choice;
    log(decision.message);
  }
  if (active === 'webgpu') process.once('beforeExit', releaseBackend);
  return active;
}

export function activeBackend(): string | undefined {
  return active;
}

/** Lets go of GPU resources (WebGPU's Dawn device) so the process can exit. */
export function releaseBackend(): void {
  releaseWebGpu();
  if (active === 'webgpu') active = undefined;
}
