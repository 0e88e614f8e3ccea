// Stage `sft` (R1 §2.3.3, round 2): SFT on the accepted traces of the review file, mixed with
// general SFT data at a fixed share of every batch, starting again from the base checkpoint as
// R1 does (or from a chosen stage). The training loop is `runLmStage`'s; this file only decides
// what goes into the batches.
import * as fs from 'node:fs';
import { LM_STAGE_DEFAULTS, LmStageConfig, PipelineConfig, resolveData } from '../config/pipelineConfig';
import { loadReview, loadSft } from '../data/loaders';
import { SftExample } from '../data/records';
import { encodeCompletion, encodePrompt } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { pairBatch, TokenizedPair } from '../train/batches';
import { LmBatch } from '../train/lmStep';
import { UserError } from '../util/errors';
import { Rng } from '../util/rng';
import { StageContext, StageSummary } from './context';
import { isStageComplete, runLmStage } from './lmStage';
import { MixedSampler } from './mix';
import { reviewFile } from './rejectionSampling';
import { readStageConfig } from './stageConfig';

export interface SftConfig extends LmStageConfig {
  /** Review file whose accepted traces are trained on (default: this run's rejection-sampling output). */
  review: string;
  /** More reasoning SFT records trained alongside the accepted traces (e.g. the cold-start set); optional. */
  extraData?: string;
  /** General (non-reasoning) SFT records: writing, factual QA. */
  generalData: string;
  /** Share of every batch drawn from `generalData` (0..1). */
  generalRatio: number;
  /** Stage whose checkpoint training starts from (R1 starts round 2 from the base model). */
  startFrom: 'pretrain' | 'cold-start' | 'reasoning-rl';
}

const SFT_DEFAULTS = {
  ...LM_STAGE_DEFAULTS,
  review: undefined as string | undefined,
  data: undefined as string | undefined,
  generalData: 'general-sft.jsonl',
  generalRatio: 0.2,
  startFrom: 'pretrain',
};

export function sftConfig(c: PipelineConfig, runDir: string): SftConfig {
  const cfg = readStageConfig(c, 'sft', SFT_DEFAULTS, {
    fractions: ['generalRatio'],
    enums: { startFrom: ['pretrain', 'cold-start', 'reasoning-rl'] },
  });
  return {
    ...cfg,
    // `data` here is extra reasoning data: the stage's own data is the review file.
    data: cfg.review ? resolveData(c, cfg.review) : reviewFile(runDir),
    review: cfg.review ? resolveData(c, cfg.review) : reviewFile(runDir),
    extraData: cfg.data ? resolveData(c, cfg.data) : undefined,
    generalData: resolveData(c, cfg.generalData),
    startFrom: cfg.startFrom as SftConfig['startFrom'],
  };
}

/** The accepted traces of a review file; a missing file or none accepted is a UserError that says what to do. */
export function acceptedTraces(file: string): SftExample[] {
  if (!fs.existsSync(file))
    throw new UserError(`${file}: no review file (run stage "rejection-sampling" first, or set stages.sft.review)`);
  const records = loadReview(file);
  const accepted = records.filter((r) => r.status === 'accepted');
  if (records.length === 0)
    throw new UserError(
      `${file}: the review file is empty: rejection sampling kept no traces (its summary.json counts the rejections per rule); loosen its rules, sample more prompts, or train the RL model longer, then move this file away to sample again`,
    );
  if (accepted.length === 0) {
    const pending = records.filter((r) => r.status === 'pending').length;
    throw new UserError(
      `${file}: no accepted traces to train on (${records.length} records: ${pending} pending, ${records.length - pending} rejected); ` +
        'review them first (accept in the editor, or set "status": "accepted"), or set stages.rejection-sampling.autoAccept ' +
        'to true and move this file away to sample again',
    );
  }
  return accepted.map((r) => ({ prompt: r.prompt, completion: r.completion, line: r.line }));
}

/** Batches of `batchSize` pairs with `generalRatio` of them general; see `MixedSampler`. */
export function mixedPairBatches(
  reasoning: SftExample[],
  general: SftExample[],
  generalRatio: number,
  batchSize: number,
  tok: Tokenizer,
  contextLength: number,
  rng: Rng,
): () => LmBatch {
  const encode = (ex: SftExample): TokenizedPair => ({
    prompt: encodePrompt(tok, ex.prompt),
    completion: encodeCompletion(tok, ex.completion),
  });
  const sampler = new MixedSampler(reasoning.map(encode), general.map(encode), generalRatio, rng);
  return () => pairBatch(sampler.next(batchSize), tok.pad, contextLength);
}

export async function runSftStage(ctx: StageContext): Promise<StageSummary> {
  const cfg = sftConfig(ctx.config, ctx.runDir);
  let reasoning: SftExample[] = [];
  let general: SftExample[] = [];
  if (!isStageComplete(ctx.runDir, 'sft')) {
    // Check the data before loading a model, so a review still pending stops at once.
    const accepted = acceptedTraces(cfg.review);
    const extra = cfg.extraData ? loadSft(cfg.extraData) : [];
    reasoning = [...accepted, ...extra];
    general = cfg.generalRatio > 0 ? loadSft(cfg.generalData) : [];
    ctx.reporter.log(
      `sft: ${accepted.length} accepted traces from ${cfg.review}${extra.length ? ` + ${extra.length} from ${cfg.extraData}` : ''}, ` +
        `${general.length} general records at ${Math.round(cfg.generalRatio * 100)}% of each batch`,
    );
  }
  return runLmStage(ctx, 'sft', {
    cfg,
    fromStage: cfg.startFrom,
    batches: (tok, contextLength, rng) =>
      mixedPairBatches(reasoning, general, cfg.generalRatio, cfg.batchSize, tok, contextLength, rng),
  });
}
