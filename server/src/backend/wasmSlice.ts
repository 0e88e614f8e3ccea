// Faster Slice, SplitV and Unpack kernels for the wasm backend. tfjs-backend-wasm 4.22's slice
// first copies the WHOLE input out of the wasm heap (readSync) and then takes the slice, so
// cutting a tensor into E pieces costs E copies of it: unstacking 24 experts' weights cost ~50 ms
// for 3 MB. These versions read the input through a view of the heap and copy only the slice.
// Semantics are unchanged (test/unit/wasm-slice.test.ts compares them with the cpu backend).
import * as tf from '@tensorflow/tfjs';

/** The parts of the wasm backend these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Copies x[begin : begin + size] into a new tensor of shape `outShape` (same element count). */
function sliceInto(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
  outShape: number[] = size,
): tf.TensorInfo {
  if (x.dtype === 'string') throw new Error('wasm slice: string tensors are not supported');
  const out = backend.makeOutput(outShape, x.dtype);
  // Views only after makeOutput: allocating may grow (and so replace) the heap's buffer.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1));
    return out;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * x.shape[d + 1];
  // Innermost contiguous run: trailing axes taken whole, times the first partial one.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const index = new Array<number>(inner).fill(0);
  for (let o = 0; o < count; o++) {
    let offset = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) offset += (begin[d] + index[d]) * strides[d];
    dst.set(src.subarray(offset, offset + run), o * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d] < outer[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

function sliceKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as tf.Tensor,
    attrs!.begin as number | number[],
    attrs!.size as number | number[],
  );
  return sliceInto(backend as WasmBackendLike, x, begin, size);
}

function splitVKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] {
  const x = inputs.x!;
  const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs!.numOrSizeSplits as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const out = sliceInto(backend as WasmBackendLike, x, [...begin], size);
    begin[axis] += s;
    return out;
  });
}

function unpackKernel({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] {
  const x = inputs.value!;
  let axis = attrs!.axis as number;
  if (axis < 0) axis += x.shape.length;
  const outShape = x.shape.filter((_, d) => d !== axis);
  const size = [...x.shape];
  size[axis] = 1;
  return Array.from({ length: x.shape[axis] }, (_, i) => {
    const begin = new Array<number>(x.shape.length).fill(0);
    begin[axis] = i;
    return sliceInto(backend as WasmBackendLike, x, begin, size, outShape);
  });
}

let registered = false;

/** Replaces the wasm backend's Slice, SplitV and Unpack kernels (once per process). */
export function registerFastWasmSlicing(): void {
  if (registered) return;
  registered = true;
  // tfjs warns when a kernel is registered twice; drop the old one first.
  for (const [kernelName, kernelFunc] of [
    ['Slice', sliceKernel],
    ['SplitV', splitVKernel],
    ['Unpack', unpackKernel],
  ] as const) {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}
