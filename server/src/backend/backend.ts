// Picks and initialises the TensorFlow.js backend. wasm is the default that installs
// everywhere; tfjs-node(-gpu) are optional and loaded lazily so a missing native build is a
// one-line message, never a crash at import time.
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'auto' | 'gpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'gpu', 'node', 'wasm', 'cpu'];

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

/** Loads a native tfjs package that registers the `tensorflow` backend on import. */
function loadNative(kind: 'gpu' | 'node'): void {
  const pkg = kind === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new BackendUnavailableError(`${INSTALL_HINT[kind]} (load failed: ${reason})`);
  }
}

async function initWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new BackendUnavailableError('the wasm backend failed to initialise');
}

async function initOne(name: Exclude<BackendName, 'auto'>): Promise<string> {
  switch (name) {
    case 'gpu':
    case 'node':
      loadNative(name);
      if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError(INSTALL_HINT[name]);
      return 'tensorflow';
    case 'wasm':
      await initWasm();
      return 'wasm';
    case 'cpu':
      await tf.setBackend('cpu');
      return 'cpu';
  }
}

/**
 * Initialises the requested backend (idempotent) and returns a description of what runs.
 * `auto` tries gpu, node, then wasm, and reports which it picked through `log`.
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
    for (const candidate of ['gpu', 'node', 'wasm'] as const) {
      try {
        await initOne(candidate);
        active = candidate;
        break;
      } catch {
        // fall through to the next candidate; only the last failure is fatal
      }
    }
    if (!active) {
      await initOne('cpu');
      active = 'cpu';
    }
    log(`backend: auto picked ${active}`);
  }
  return active;
}

export function activeBackend(): string | undefined {
  return active;
}
