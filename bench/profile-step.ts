import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../server/src/backend/backend';
import { GPT } from '../server/src/model/gpt';
import { presetConfig } from '../server/src/model/config';
import { pickLogProbs } from '../server/src/model/ops';
(async () => {
  await initBackend('wasm');
  const m = new GPT(presetConfig('small', 265), 1);
  const B = 16,
    T = 80;
  const opt = tf.train.adam(1e-3);
  const ids = tf.randomUniform([B, T], 0, 265, 'int32') as tf.Tensor2D;
  const tg = tf.randomUniform([B * T], 0, 265, 'int32') as tf.Tensor1D;
  const step = () => {
    const l = opt.minimize(() => tf.neg(tf.mean(pickLogProbs(m.forward(ids).logits, tg))) as tf.Scalar, true)!;
    l.dataSync();
    l.dispose();
  };
  step();
  step();
  const prof = await tf.profile(step);
  const agg = new Map<string, number>();
  for (const k of prof.kernels) {
    const key = k.name + ' ' + JSON.stringify(k.inputShapes);
    agg.set(key, (agg.get(key) ?? 0) + (k.kernelTimeMs as number));
  }
  const total = [...agg.values()].reduce((a, b) => a + b, 0);
  console.log('total', total.toFixed(0));
  for (const [k, v] of [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(v.toFixed(1), k);
})();
