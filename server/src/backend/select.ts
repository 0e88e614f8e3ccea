// What `auto` picks, as a function of what loads and what the WebGPU adapter says it is. No
// I/O here: backend.ts passes probes that load the real packages, the tests pass fakes.

/** What a WebGPU adapter says about itself (GPUAdapterInfo, plus the Dawn backend we asked for). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export type AdapterKind = 'gpu' | 'software' | 'unknown';

// CPU rasterisers and software implementations that WebGPU stacks offer as adapters: Mesa's
// llvmpipe (GL) / lavapipe (Vulkan) / softpipe / swrast, Google's SwiftShader, Microsoft WARP.
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swrast|swiftshader|software|microsoft basic render|\bwarp\b|\bcpu\b/i;

/** Whether an adapter is a real GPU, a CPU/software implementation, or says too little to tell. */
export function classifyAdapter(info: AdapterInfoLike): AdapterKind {
  if (info.isFallbackAdapter) return 'software';
  const fields = [info.vendor, info.architecture, info.device, info.description].filter(
    (s): s is string => typeof s === 'string' && s.trim() !== '',
  );
  if (fields.some((s) => SOFTWARE.test(s))) return 'software';
  return fields.length ? 'gpu' : 'unknown';
}

/** A short human name for an adapter: "nvidia NVIDIA H200", "llvmpipe (LLVM 15.0.6, 256 bits)". */
export function adapterName(info: AdapterInfoLike): string {
  const device = info.device?.trim() || info.description?.trim() || '';
  const vendor = info.vendor?.trim() || '';
  const name = vendor && !device.toLowerCase().includes(vendor.toLowerCase()) ? `${vendor} ${device}` : device;
  return name.trim() || 'an adapter with no name';
}

/** tfjs-node-gpu: did it load, and does libtensorflow see a CUDA device? */
export type NodeGpuProbe = { loaded: false; why: string } | { loaded: true; gpu: boolean };

/** Dawn: did `webgpu` + the tfjs backend load, and which adapter did Dawn offer? */
export type WebGpuProbe =
  { loaded: false; why: string } | { loaded: true; adapter: AdapterInfoLike | null; via: string; why?: string };

/** A backend that either loads or says why not. */
export type LoadProbe = { ok: true } | { ok: false; why: string };

export interface AutoProbes {
  nodeGpu(): Promise<NodeGpuProbe>;
  webgpu(): Promise<WebGpuProbe>;
  /** tfjs-node; `nodeGpuLoaded` says tfjs-node-gpu already registered the `tensorflow` backend. */
  node(nodeGpuLoaded: boolean): Promise<LoadProbe>;
  wasm(): Promise<LoadProbe>;
}

export type AutoChoice = 'gpu' | 'webgpu' | 'node' | 'wasm' | 'cpu';

export interface AutoDecision {
  choice: AutoChoice;
  /** One line: `backend: auto picked <choice> (<why>)`. */
  message: string;
}

/**
 * Prefers a GPU: tfjs-node-gpu when it loads and sees a CUDA device, then WebGPU when Dawn
 * offers a real GPU adapter (not llvmpipe/lavapipe/SwiftShader), then tfjs-node (native CPU),
 * then wasm, then the pure-JS cpu backend. Probes run lazily, in that order, and stop at the
 * first usable backend.
 */
export async function chooseAuto(probes: AutoProbes): Promise<AutoDecision> {
  const skipped: string[] = [];
  const done = (choice: AutoChoice, why: string): AutoDecision => ({
    choice,
    message: `backend: auto picked ${choice} (${[why, ...skipped].filter(Boolean).join('; ')})`,
  });

  const nodeGpu = await probes.nodeGpu();
  if (nodeGpu.loaded && nodeGpu.gpu) return done('gpu', 'tfjs-node-gpu sees a CUDA GPU');
  skipped.push(nodeGpu.loaded ? 'tfjs-node-gpu loaded but sees no CUDA GPU' : `gpu: ${nodeGpu.why}`);

  const web = await probes.webgpu();
  if (!web.loaded) skipped.push(`webgpu: ${web.why}`);
  else if (!web.adapter) skipped.push(`webgpu: Dawn (${web.via}) offered no adapter${web.why ? `: ${web.why}` : ''}`);
  else {
    const kind = classifyAdapter(web.adapter);
    const name = adapterName(web.adapter);
    if (kind === 'gpu') return done('webgpu', `WebGPU adapter ${name} via Dawn ${web.via}`);
    skipped.push(
      kind === 'software'
        ? `webgpu: ${name} is a CPU/software adapter`
        : `webgpu: the adapter does not say what it is (${name})`,
    );
  }

  const node = await probes.node(nodeGpu.loaded);
  if (node.ok) return done('node', nodeGpu.loaded ? 'tfjs-node-gpu on the CPU' : 'tfjs-node on the CPU');
  skipped.push(`node: ${node.why}`);

  const wasm = await probes.wasm();
  if (wasm.ok) return done('wasm', 'no GPU found');
  skipped.push(`wasm: ${wasm.why}`);
  return done('cpu', 'nothing faster loads');
}
