// The WebGPU backend in Node: Dawn (`webgpu` on npm, a prebuilt dawn.node) under
// @tensorflow/tfjs-backend-webgpu. Both are optional dependencies, loaded with dynamic import()
// only when asked for, so a missing package is a one-line install hint.
//
// Environment:
//   R1_WEBGPU_BACKEND  Dawn backend: vulkan | opengles | opengl | metal | d3d12 | ... (default:
//                      Dawn's choice: Vulkan on Linux, Metal on macOS, D3D12 on Windows).
//                      `opengles` runs on stock Mesa EGL without a display (CI's CPU adapter).
//   R1_WEBGPU_ADAPTER  Dawn adapter name, when there are several (a wrong name lists them).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { AdapterInfoLike } from './select';

export const WEBGPU_PACKAGES = '`npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0`';
export const WEBGPU_INSTALL_HINT =
  `backend "webgpu" needs the optional packages webgpu and @tensorflow/tfjs-backend-webgpu: run ${WEBGPU_PACKAGES} ` +
  '(prebuilt Dawn, no download; a GPU needs its Vulkan driver and libvulkan1; see README "GPU")';

// Just the parts of the WebGPU API used here (the full types would turn on DOM-ish globals).
interface GpuAdapter {
  readonly info?: AdapterInfoLike;
}
interface Gpu {
  requestAdapter(options?: Record<string, unknown>): Promise<GpuAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

export interface WebGpuOptions {
  /** Dawn backend toggle (`backend=<name>`); undefined lets Dawn choose. */
  backend?: string;
  adapter?: string;
}

export function webgpuOptions(env: NodeJS.ProcessEnv = process.env): WebGpuOptions {
  const backend = env.R1_WEBGPU_BACKEND?.trim().toLowerCase() || undefined;
  const adapter = env.R1_WEBGPU_ADAPTER?.trim() || undefined;
  return { backend, adapter };
}

/** Dawn's toggles for `create([...])`. */
export function dawnFlags(o: WebGpuOptions): string[] {
  const flags: string[] = [];
  if (o.backend) flags.push(`backend=${o.backend}`);
  if (o.adapter) flags.push(`adapter=${o.adapter}`);
  return flags;
}

/** Dawn offers its OpenGL (ES) adapters only to requests for the `compatibility` feature level. */
export function isGlBackend(backend: string | undefined): boolean {
  return backend === 'opengles' || backend === 'opengl';
}

/** How this configuration is described in messages: "vulkan", "opengles", "default backend". */
export function describeVia(o: WebGpuOptions): string {
  return o.backend ?? 'default backend';
}

/**
 * Whether a GPU could be present: on Linux a GPU shows up as /dev/dri/renderD* or /dev/nvidia*.
 * `auto` skips the Dawn probe without one (no 21 MB native module, no Vulkan warnings on stderr)
 * unless R1_WEBGPU_BACKEND/R1_WEBGPU_ADAPTER ask for a specific adapter.
 */
export function gpuDeviceNodesPresent(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    if (fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))) return true;
  } catch {
    // no /dev/dri
  }
  try {
    return fs.readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f));
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

// The specifier goes through a variable so neither tsc nor esbuild resolve the optional package.
async function importOptional<T>(name: string): Promise<T> {
  return (await import(name)) as T;
}

/** The optional packages' names (a test points them at a missing package). */
export const webgpuPackages = { dawn: 'webgpu', tfjs: '@tensorflow/tfjs-backend-webgpu' };

let dawn: DawnModule | undefined;

async function loadDawn(o: WebGpuOptions): Promise<DawnModule> {
  if (dawn) return dawn;
  try {
    dawn = await importOptional<DawnModule>(webgpuPackages.dawn);
  } catch (err) {
    throw new WebGpuUnavailable('missing', `${WEBGPU_INSTALL_HINT} (load failed: ${firstLine(err)})`);
  }
  // GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  if (isGlBackend(o.backend) && !process.env.EGL_PLATFORM) {
    // Mesa EGL without a window system: no X/Wayland needed (CI, servers).
    process.env.EGL_PLATFORM = 'surfaceless';
  }
  return dawn;
}

export class WebGpuUnavailable extends Error {
  constructor(
    readonly reason: 'missing' | 'no-adapter' | 'init-failed',
    message: string,
  ) {
    super(message);
  }
}

/** A Dawn GPU object whose requestAdapter asks for high performance (and compatibility for GL). */
function makeGpu(d: DawnModule, o: WebGpuOptions): Gpu {
  const gpu = d.create(dawnFlags(o));
  const request = gpu.requestAdapter.bind(gpu);
  const extra: Record<string, unknown> = isGlBackend(o.backend) ? { featureLevel: 'compatibility' } : {};
  return {
    requestAdapter: (opts = {}) => request({ powerPreference: 'high-performance', ...opts, ...extra }),
  };
}

// One Dawn instance for the probe and the backend. It must outlive the device tfjs holds (Dawn
// aborts the process when a collected instance takes a live device with it), and a reference to
// it keeps Node from exiting, so releaseWebGpu() drops it.
let pendingGpu: { key: string; gpu: Gpu } | undefined;

async function dawnGpu(o: WebGpuOptions): Promise<Gpu> {
  const d = await loadDawn(o);
  const key = dawnFlags(o).join(' ');
  if (pendingGpu?.key !== key) pendingGpu = { key, gpu: makeGpu(d, o) };
  return pendingGpu.gpu;
}

/** Loads Dawn and asks it for an adapter (no device yet); null when it offers none. */
export async function probeWebGpuAdapter(
  o: WebGpuOptions = webgpuOptions(),
): Promise<{ adapter: AdapterInfoLike | null }> {
  const adapter = await (await dawnGpu(o)).requestAdapter();
  if (!adapter) return { adapter: null };
  const info = adapter.info ?? {};
  return {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter,
    },
  };
}

let adapterInUse: AdapterInfoLike | undefined;

/** The adapter the webgpu backend runs on, once initialised. */
export function webgpuAdapter(): AdapterInfoLike | undefined {
  return adapterInUse;
}

/**
 * Registers and selects tfjs's `webgpu` backend on Dawn. tfjs-backend-webgpu registers itself at
 * import time only when `navigator.gpu` exists, and its factory calls navigator.gpu.requestAdapter
 * when the backend is first set, so navigator is in place for exactly that span and then restored
 * (Node 21+ has a navigator of its own; a leftover global would also pin Dawn's GPU object).
 */
export async function initWebGpu(o: WebGpuOptions = webgpuOptions()): Promise<AdapterInfoLike> {
  const gpu = await dawnGpu(o);
  const { adapter } = await probeWebGpuAdapter(o);
  if (!adapter) {
    throw new WebGpuUnavailable(
      'no-adapter',
      `backend "webgpu": Dawn (${describeVia(o)}) offered no adapter. A GPU needs its Vulkan driver and libvulkan1; ` +
        'for a CPU adapter set R1_WEBGPU_BACKEND=opengles with Mesa EGL installed (Debian: libegl-dev libegl-mesa0 libgl1-mesa-dri); see README "GPU"',
    );
  }
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu },
    configurable: true,
    writable: true,
    enumerable: false,
  });
  try {
    try {
      await importOptional(webgpuPackages.tfjs);
    } catch (err) {
      throw new WebGpuUnavailable('missing', `${WEBGPU_INSTALL_HINT} (load failed: ${firstLine(err)})`);
    }
    if (!tf.findBackendFactory('webgpu')) {
      throw new WebGpuUnavailable(
        'init-failed',
        'backend "webgpu": @tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed, so it did not register',
      );
    }
    let ok = false;
    let why = '';
    try {
      ok = await tf.setBackend('webgpu');
    } catch (err) {
      why = `: ${firstLine(err)}`;
    }
    if (!ok) throw new WebGpuUnavailable('init-failed', `backend "webgpu" failed to initialise${why}`);
  } catch (err) {
    pendingGpu = undefined;
    throw err;
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
  guardSyncReads();
  chunkAddN();
  adapterInUse = adapter;
  return adapter;
}

/**
 * tfjs-backend-webgpu reads synchronously (dataSync/arraySync) through OffscreenCanvas, which Node
 * lacks; the error would say only "OffscreenCanvas is not defined". Say what to do instead.
 */
function guardSyncReads(): void {
  const backend = tf.findBackend('webgpu') as unknown as { readSync?: (id: object) => unknown } | null;
  if (!backend?.readSync || (backend.readSync as { r1Guarded?: boolean }).r1Guarded) return;
  const readSync = backend.readSync.bind(backend);
  const guarded = (dataId: object) => {
    try {
      return readSync(dataId);
    } catch (err) {
      if (err instanceof ReferenceError && /OffscreenCanvas/.test(err.message)) {
        throw new Error(
          'backend "webgpu" cannot read tensors synchronously in Node (dataSync/arraySync/bufferSync): ' +
            'use `await tensor.data()` there, or another backend',
        );
      }
      throw err;
    }
  };
  (guarded as { r1Guarded?: boolean }).r1Guarded = true;
  backend.readSync = guarded;
}

/**
 * tfjs-backend-webgpu's AddN binds every input as a storage buffer in one shader, and WebGPU
 * allows only maxStorageBuffersPerShaderStage (8 by default, 16 on Mesa GL) per stage, so
 * tf.addN over many tensors (a global gradient norm) fails validation. Sum in chunks instead.
 */
function chunkAddN(): void {
  const config = tf.getKernel('AddN', 'webgpu');
  if (!config || (config.kernelFunc as { r1Chunked?: boolean }).r1Chunked) return;
  const backend = tf.findBackend('webgpu') as unknown as {
    device?: { limits?: { maxStorageBuffersPerShaderStage?: number } };
    disposeData(dataId: object): void;
  };
  const maxInputs = Math.max(2, (backend.device?.limits?.maxStorageBuffersPerShaderStage ?? 8) - 1);
  const addN = config.kernelFunc;
  const chunked: tf.KernelFunc = (args) => {
    let parts = args.inputs as unknown as tf.TensorInfo[];
    if (parts.length <= maxInputs) return addN(args);
    const temporaries: tf.TensorInfo[] = [];
    while (parts.length > maxInputs) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < parts.length; i += maxInputs) {
        const chunk = parts.slice(i, i + maxInputs);
        if (chunk.length === 1) {
          next.push(chunk[0]);
          continue;
        }
        const sum = addN({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
        temporaries.push(sum);
        next.push(sum);
      }
      parts = next;
    }
    const result = addN({ ...args, inputs: parts as unknown as tf.NamedTensorInfoMap });
    for (const t of temporaries) backend.disposeData(t.dataId);
    return result;
  };
  (chunked as { r1Chunked?: boolean }).r1Chunked = true;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ ...config, kernelFunc: chunked });
}

/** Drops the webgpu backend (and with it Dawn's device) so Node can exit; harmless when unused. */
export function releaseWebGpu(): void {
  pendingGpu = undefined;
  if (!adapterInUse) return;
  adapterInUse = undefined;
  try {
    if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  } catch {
    // already gone
  }
}
