// Reward-model checkpoints: the same folder layout as a policy's (model.json + weights.bin,
// tokenizer.json, config.json, state.json), with the scalar head as one more weight in the
// manifest and config.json marking the folder as a reward model, so no one samples from it by
// mistake (`loadCheckpoint` refuses it) and any tfjs program still finds every weight.
import * as tf from '@tensorflow/tfjs';
import { ModelConfig } from '../model/config';
import { RewardModel, RM_HEAD } from '../model/rewardModel';
import { Tokenizer, TokenizerJson } from '../tokenizer/tokenizer';
import { AdamW } from '../train/optimizer';
import { UserError } from '../util/errors';
import {
  assertIntact,
  checkpointExists,
  gptFromWeights,
  readCheckpointJson,
  readState,
  readWeights,
  saveCheckpoint,
  TrainState,
} from './checkpoint';

/** `config.json`'s `kind` for a reward model. */
export const REWARD_MODEL_KIND = 'reward-model';

export interface LoadedRewardModel {
  model: RewardModel;
  tokenizer: Tokenizer;
  state: TrainState;
  dir: string;
}

/** Writes a reward model atomically: trunk + `rm.head`, with optimizer moments when given. */
export async function saveRewardModel(
  dir: string,
  rm: RewardModel,
  tokenizer: Tokenizer,
  state: TrainState,
  optimizer?: AdamW,
): Promise<void> {
  await saveCheckpoint(dir, rm.gpt, tokenizer, state, optimizer, {
    weights: new Map([[RM_HEAD, rm.head]]),
    config: { kind: REWARD_MODEL_KIND, rewardHead: RM_HEAD },
    architecture: 'gpt-reward-model',
  });
}

/** Whether `dir` holds a reward-model checkpoint (false for a policy checkpoint or no checkpoint). */
export function isRewardModelCheckpoint(dir: string): boolean {
  if (!checkpointExists(dir)) return false;
  return (readCheckpointJson(dir, 'config.json') as { kind?: string }).kind === REWARD_MODEL_KIND;
}

/** Loads a reward model; a missing folder or a policy checkpoint is a UserError naming the folder. */
export function loadRewardModel(dir: string): LoadedRewardModel {
  if (!checkpointExists(dir)) {
    throw new UserError(`${dir}: no reward-model checkpoint here (run stage "reward-model" first)`);
  }
  assertIntact(dir);
  const { kind, rewardHead, ...config } = readCheckpointJson(dir, 'config.json') as ModelConfig & {
    kind?: string;
    rewardHead?: string;
  };
  if (kind !== REWARD_MODEL_KIND) {
    throw new UserError(
      `${dir}: not a reward-model checkpoint (its config.json has no "kind": "${REWARD_MODEL_KIND}")`,
    );
  }
  const tokenizer = Tokenizer.fromJSON(readCheckpointJson(dir, 'tokenizer.json') as TokenizerJson);
  const tensors = readWeights(dir, 'model.json');
  const headName = rewardHead ?? RM_HEAD;
  const head = tensors.get(headName);
  if (!head) throw new UserError(`${dir}/model.json: the reward head "${headName}" is missing`);
  const gpt = gptFromWeights(dir, config, tensors);
  const model = new RewardModel(gpt, tf.variable(head, true));
  for (const t of tensors.values()) if (!t.isDisposed) t.dispose();
  return { model, tokenizer, state: readState(dir), dir };
}
