// Checkpoint folder: the standard TensorFlow.js weights layout (model.json + weights.bin)
// plus tokenizer.json, config.json (architecture) and state.json (stage, step, RNG, optimizer).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelConfig } from '../model/config';
import { GPT } from '../model/gpt';
import { Tokenizer, TokenizerJson } from '../tokenizer/tokenizer';
import { AdamW } from '../train/optimizer';
import { UserError } from '../util/errors';
import { previousDir, recoverDir, replaceDirAtomic } from '../util/fsAtomic';
import { checkpointProblems, writeManifest } from './integrity';

export interface TrainState {
  stage: string;
  /** Optimizer steps completed. */
  step: number;
  totalSteps: number;
  /** True once the stage finished all its steps. */
  done: boolean;
  seed: number;
  /** Data-order / sampling RNG state at `step`, so a resumed run continues the same stream. */
  rngState: number;
  /** File holding the optimizer moments, or null when none was saved. */
  optimizer: string | null;
  optimizerStep: number;
  /** Free-form extras a stage needs to resume (e.g. best eval so far). */
  extra?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  model: GPT;
  tokenizer: Tokenizer;
  state: TrainState;
  dir: string;
}

const WEIGHTS = 'weights.bin';
const OPTIMIZER = 'optimizer.bin';

/** What a checkpoint holds besides the GPT, e.g. the reward model's scalar head. */
export interface CheckpointExtras {
  /** More weights, saved in the same manifest as the GPT's. */
  weights?: Map<string, tf.Tensor>;
  /** Fields merged into config.json beside the architecture (e.g. `kind: "reward-model"`). */
  config?: Record<string, unknown>;
  /** `modelTopology.architecture` in model.json (default `gpt`). */
  architecture?: string;
}

/** Every tensor of a checkpoint's manifest (`model.json`) or optimizer file, by name; the caller disposes them. */
export function readWeights(dir: string, manifestFile: string): Map<string, tf.Tensor> {
  const manifest = readJson(path.join(dir, manifestFile)) as {
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const out = new Map<string, tf.Tensor>();
  try {
    for (const group of manifest.weightsManifest) {
      const buffers = group.paths.map((p) => fs.readFileSync(path.join(dir, p)));
      const data = Buffer.concat(buffers);
      const decoded = tf.io.decodeWeights(
        data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
        group.weights,
      );
      for (const [k, v] of Object.entries(decoded)) out.set(k, v);
    }
  } catch (err) {
    tf.dispose([...out.values()]);
    const why = err instanceof Error ? err.message : String(err);
    throw new UserError(`${path.join(dir, manifestFile)}: cannot read the weights it lists (${why})`);
  }
  return out;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UserError(`${file}: cannot read checkpoint file (${why})`);
  }
}

/** Writes a checkpoint atomically (the previous one stays intact until the new one is complete). */
export async function saveCheckpoint(
  dir: string,
  model: GPT,
  tokenizer: Tokenizer,
  state: TrainState,
  optimizer?: AdamW,
  extras: CheckpointExtras = {},
): Promise<void> {
  const weights = new Map<string, tf.Tensor>([...model.params, ...(extras.weights ?? [])]);
  const { data, specs } = await tf.io.encodeWeights(Object.fromEntries(weights));
  const optData = optimizer ? await tf.io.encodeWeights(Object.fromEntries(optimizer.stateTensors())) : undefined;
  replaceDirAtomic(
    dir,
    (tmp) => {
      fs.writeFileSync(path.join(tmp, WEIGHTS), Buffer.from(data));
      const modelJson = {
        format: 'r1-workbench-gpt',
        generatedBy: `TensorFlow.js v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: { architecture: extras.architecture ?? 'gpt', config: model.config },
        weightsManifest: [{ paths: [WEIGHTS], weights: specs }],
      };
      fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(modelJson, null, 1));
      fs.writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON(), null, 1));
      fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ ...model.config, ...extras.config }, null, 1));
      const fullState: TrainState = {
        ...state,
        optimizer: optData ? 'optimizer.json' : null,
        optimizerStep: optimizer?.t ?? 0,
      };
      if (optData) {
        fs.writeFileSync(path.join(tmp, OPTIMIZER), Buffer.from(optData.data));
        fs.writeFileSync(
          path.join(tmp, 'optimizer.json'),
          JSON.stringify({ weightsManifest: [{ paths: [OPTIMIZER], weights: optData.specs }] }),
        );
      }
      fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(fullState, null, 1));
      writeManifest(tmp);
    },
    { keepPrevious: true },
  );
}

/**
 * Whether `dir` holds a checkpoint. A crash mid-save is recovered first, and a damaged checkpoint
 * is swapped for the previous good one (`dir.prev`, kept by `saveCheckpoint`) with a warning,
 * so a resumed stage loses the steps since that one instead of failing. A damaged checkpoint
 * without a good previous one still counts as existing: loading it then says what is wrong.
 */
export function checkpointExists(dir: string): boolean {
  if (!recoverDir(dir)) return false;
  fallBackIfDamaged(dir);
  return fs.existsSync(path.join(dir, 'state.json'));
}

// Where warnings about damaged checkpoints go: stderr, which the CLI shows and the daemon logs.
let warnCheckpoint: (message: string) => void = (message) => console.warn(`warning: ${message}`);

/** Sends checkpoint warnings elsewhere (tests capture them); returns the previous handler. */
export function setCheckpointWarningHandler(handler: (message: string) => void): (message: string) => void {
  const previous = warnCheckpoint;
  warnCheckpoint = handler;
  return previous;
}

function fallBackIfDamaged(dir: string): void {
  const problems = checkpointProblems(dir);
  if (problems.length === 0) return;
  const prev = previousDir(dir);
  if (!fs.existsSync(prev) || checkpointProblems(prev).length > 0) return;
  // Kept for inspection rather than deleted; one damaged copy at a time.
  const damaged = `${dir}.damaged`;
  fs.rmSync(damaged, { recursive: true, force: true });
  fs.renameSync(dir, damaged);
  fs.renameSync(prev, dir);
  const step = (readJson(path.join(dir, 'state.json')) as Partial<TrainState>).step;
  warnCheckpoint(
    `${dir} is damaged (${problems.join('; ')}); using the previous checkpoint (step ${step}) instead and moving the damaged one to ${damaged}`,
  );
}

/** Throws a UserError saying what is wrong when `dir` is not an intact checkpoint. */
export function assertIntact(dir: string): void {
  const problems = checkpointProblems(dir);
  if (problems.length === 0) return;
  throw new UserError(
    `${dir}: the checkpoint is damaged: ${problems.join('; ')}. There is no intact previous checkpoint to fall back to; ` +
      'delete the folder to start that stage over, or restore it from a copy',
  );
}

export function readState(dir: string): TrainState {
  return readJson(path.join(dir, 'state.json')) as TrainState;
}

/** Loads weights, tokenizer and state; throws a message naming the folder when it is not a checkpoint. */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  if (!checkpointExists(dir)) {
    throw new UserError(
      `${dir}: not a checkpoint folder (expected model.json, config.json, tokenizer.json, state.json)`,
    );
  }
  assertIntact(dir);
  const config = readJson(path.join(dir, 'config.json')) as ModelConfig & { kind?: string };
  if (config.kind === 'reward-model') {
    // Its LM head is the base model's, untrained since: generating from it would mislead.
    throw new UserError(
      `${dir}: this is a reward-model checkpoint (a scalar scoring head), not a language model; it scores completions in stage rl-all`,
    );
  }
  const tokenizer = Tokenizer.fromJSON(readJson(path.join(dir, 'tokenizer.json')) as TokenizerJson);
  const tensors = readWeights(dir, 'model.json');
  const model = gptFromWeights(dir, config, tensors);
  for (const t of tensors.values()) if (!t.isDisposed) t.dispose();
  return { model, tokenizer, state: readState(dir), dir };
}

/** Builds a GPT from a checkpoint's tensors, taking (and disposing) the ones it uses. */
export function gptFromWeights(dir: string, config: ModelConfig, tensors: Map<string, tf.Tensor>): GPT {
  const params = new Map<string, tf.Variable>();
  for (const name of GPT.paramNames(config)) {
    const t = tensors.get(name);
    if (!t) throw new UserError(`${dir}/model.json: weight "${name}" is missing`);
    params.set(name, tf.variable(t, true));
    t.dispose();
  }
  return new GPT(config, 0, params);
}

/** Reads a checkpoint's JSON file; a missing or broken one is a UserError naming it. */
export function readCheckpointJson(dir: string, file: string): unknown {
  return readJson(path.join(dir, file));
}

/** Restores the optimizer moments saved with a checkpoint, if any. */
export function loadOptimizerState(dir: string, optimizer: AdamW, state: TrainState): boolean {
  if (!state.optimizer) return false;
  const tensors = readWeights(dir, state.optimizer);
  optimizer.loadState(tensors, state.optimizerStep);
  tf.dispose([...tensors.values()]);
  return true;
}
