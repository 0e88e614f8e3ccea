// Stage `rejection-sampling` (R1 §2.3.3): sample K completions per prompt from the RL model,
// keep the correct, well-formatted, single-language, non-repetitive ones within the length
// bounds, deduplicate, cap per prompt, and write them to a review file for a person (or
// `autoAccept`) to accept before `sft` trains on them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkpointExists, loadCheckpoint } from '../checkpoint/checkpoint';
import { PipelineConfig, resolveData } from '../config/pipelineConfig';
import { loadRl } from '../data/loaders';
import { RlExample } from '../data/records';
import { nanMeanStd } from '../grpo/stats';
import { generate } from '../model/sampling';
import { RewardSet } from '../rewards';
import { encodePrompt } from '../tokenizer/chatTemplate';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/fsAtomic';
import { StageClock } from '../util/stageClock';
import { MetricsWriter } from '../util/metrics';
import { Rng } from '../util/rng';
import { yieldToEventLoop } from '../util/yieldToEventLoop';
import { StageContext, StageSummary } from './context';
import { checkpointDir, stageDir } from './lmStage';
import { readStageConfig } from './stageConfig';
import { REJECT_RULES, TraceFilter, TraceRules } from './traceFilter';

export interface RejectionSamplingConfig extends TraceRules {
  /** RL prompts with answers (default: the reasoning-rl stage's `data`). */
  data: string;
  /** Completions sampled per prompt (K). */
  samplesPerPrompt: number;
  /** Prompts used at most (a seeded random subset of the file; 0 = all). */
  maxPrompts: number;
  /** Prompts per generation batch (each with its K completions). */
  batchSize: number;
  temperature: number;
  topK: number;
  topP: number;
  maxNewTokens: number;
  /** Write kept traces as `accepted` instead of `pending` (skips the human review). */
  autoAccept: boolean;
}

export const REJECTION_SAMPLING_DEFAULTS: Omit<RejectionSamplingConfig, 'data'> & { data?: string } = {
  data: undefined,
  samplesPerPrompt: 4,
  maxPrompts: 400,
  batchSize: 25,
  temperature: 0.7,
  topK: 0,
  topP: 1,
  maxNewTokens: 64,
  autoAccept: false,
  minAccuracy: 1,
  minFormat: 1,
  minLanguage: 1,
  minRepetition: -0.1,
  minTokens: 8,
  maxTokens: 64,
  maxPerPrompt: 2,
};

export function rejectionSamplingConfig(c: PipelineConfig): RejectionSamplingConfig {
  const cfg = readStageConfig(c, 'rejection-sampling', REJECTION_SAMPLING_DEFAULTS, { signed: ['minRepetition'] });
  const data = cfg.data ?? (c.stages['reasoning-rl']?.data as string | undefined);
  if (typeof data !== 'string')
    throw new UserError(
      'config: field "stages.rejection-sampling.data" is required (no reasoning-rl data to default to)',
    );
  if (cfg.samplesPerPrompt < 1 || cfg.batchSize < 1)
    throw new UserError('config: "stages.rejection-sampling.samplesPerPrompt" and "batchSize" must be at least 1');
  return { ...cfg, data: resolveData(c, data) };
}

/** The rewards a trace is judged by (their values go into the review file; weights are unused). */
export function traceRewards(): RewardSet {
  return new RewardSet(['accuracy', 'format', 'language', 'repetition'].map((name) => ({ name, weight: 1 })));
}

/** The review file of a run (what `sft` reads by default). */
export function reviewFile(runDir: string): string {
  return path.join(stageDir(runDir, 'rejection-sampling'), 'review.jsonl');
}

/** Where a trace came from: the model's stage, checkpoint and step, the sample's index and the sampling settings. */
export interface TraceSource {
  stage: string;
  checkpoint: string;
  step: number;
  sample: number;
  temperature: number;
  top_p: number;
}

/** One line of the review file (spec §3). */
export interface ReviewLine {
  prompt: RlExample['prompt'];
  completion: string;
  answer?: string;
  rewards: Record<string, number>;
  status: 'pending' | 'accepted';
  source: TraceSource;
}

/** The review-file record of a kept trace (no `answer` for a record that has none). */
export function reviewLine(
  ex: RlExample,
  completion: string,
  rewards: Record<string, number>,
  autoAccept: boolean,
  source: TraceSource,
): ReviewLine {
  return {
    prompt: ex.prompt,
    completion,
    ...(ex.answer !== '' ? { answer: ex.answer } : {}),
    rewards,
    status: autoAccept ? 'accepted' : 'pending',
    source,
  };
}

export async function runRejectionSampling(ctx: StageContext): Promise<StageSummary> {
  const { config, reporter } = ctx;
  const stage = 'rejection-sampling';
  const cfg = rejectionSamplingConfig(config);
  const dir = stageDir(ctx.runDir, stage);
  const file = reviewFile(ctx.runDir);
  const summaryFile = path.join(dir, 'summary.json');
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(file)) {
    if (fs.existsSync(summaryFile)) {
      reporter.log(`${stage}: already complete (${file})`);
      return JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as StageSummary;
    }
    // Never overwrite traces a person may have reviewed.
    throw new UserError(
      `${file} already exists but this stage did not finish writing it (no summary.json beside it); it may hold reviewed traces: move it away (or delete it) to sample again`,
    );
  }
  writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify({ ...config, stage: cfg }, null, 2));

  const from = ctx.from ?? checkpointDir(ctx.runDir, 'reasoning-rl');
  if (!checkpointExists(from))
    throw new UserError(
      `${stage} samples from a checkpoint, but ${from} has none: run stage "reasoning-rl" first, or pass --from DIR`,
    );
  const { model, tokenizer, state } = loadCheckpoint(from);
  const rng = new Rng(config.seed * 7907 + 11);
  const all = loadRl(cfg.data);
  const prompts =
    cfg.maxPrompts > 0 && cfg.maxPrompts < all.length ? rng.shuffle([...all]).slice(0, cfg.maxPrompts) : all;
  const K = cfg.samplesPerPrompt;
  reporter.log(
    `${stage}: sampling ${K} completions for each of ${prompts.length} prompts from ${from} (${weightsStep(state)}) at T=${cfg.temperature}`,
  );
  const rewards = traceRewards();
  const filter = new TraceFilter(cfg);
  const metrics = new MetricsWriter(path.join(dir, 'metrics.jsonl'), reporter.metric?.bind(reporter));
  fs.rmSync(metrics.file, { force: true });
  const kept: ReviewLine[] = [];
  const clock = new StageClock();
  const batches = Math.ceil(prompts.length / cfg.batchSize);
  const counts = (): Record<string, number> => ({
    sampled: filter.sampled,
    kept: filter.kept,
    acceptance_rate: filter.acceptanceRate,
    ...Object.fromEntries(REJECT_RULES.map((r) => [`rejected/${r}`, filter.rejected[r]])),
  });

  reporter.progressStart(stage, batches, 0);
  let cancelled = false;
  for (let b = 0; b < batches; b++) {
    await yieldToEventLoop();
    if (ctx.signal?.aborted) {
      cancelled = true;
      break;
    }
    const t0 = performance.now();
    const batch = prompts.slice(b * cfg.batchSize, (b + 1) * cfg.batchSize);
    const rows = batch.flatMap((ex) => new Array<number[]>(K).fill(encodePrompt(tokenizer, ex.prompt)));
    const { tokens, truncated } = await generate(model, rows, {
      maxNewTokens: cfg.maxNewTokens,
      temperature: cfg.temperature,
      topK: cfg.topK,
      topP: cfg.topP,
      stopIds: [tokenizer.eos],
      padId: tokenizer.pad,
      rng,
    });
    const ids = tokens.map((t) => t.filter((id) => id !== tokenizer.eos));
    const texts = ids.map((t) => tokenizer.decode(t));
    const scores = await rewards.scoreMany(
      texts.map((completion, i) => {
        const ex = batch[Math.floor(i / K)];
        return { completion, answer: ex.answer, task: ex.task, language: ex.language, length: ids[i].length };
      }),
    );
    texts.forEach((completion, i) => {
      const ex = batch[Math.floor(i / K)];
      const promptKey = JSON.stringify(ex.prompt);
      const r = scores[i].rewards;
      if (filter.consider({ promptKey, completion, tokens: ids[i].length, truncated: truncated[i], rewards: r }))
        return;
      kept.push(
        reviewLine(ex, completion, r, cfg.autoAccept, {
          stage: state.stage,
          checkpoint: from,
          step: state.step,
          sample: i % K,
          temperature: cfg.temperature,
          top_p: cfg.topP,
        }),
      );
    });
    const dt = (performance.now() - t0) / 1000;
    const sampledTokens = tokens.reduce((a, t) => a + t.length, 0);
    const batchMeans = Object.fromEntries(
      rewards.names.map((n) => [`rewards/${n}/mean`, nanMeanStd(scores.map((s) => s.rewards[n] ?? NaN)).mean]),
    );
    metrics.write({
      stage,
      step: b + 1,
      ...counts(),
      ...batchMeans,
      'tokens_per_second/sample': sampledTokens / dt,
      step_time: dt,
    });
    reporter.progress(b + 1, { tokps: sampledTokens / dt });
  }
  reporter.progressStop();
  model.dispose();
  const wall = clock.wallSeconds;
  const cpu = clock.cpuSeconds;
  if (cancelled) {
    reporter.log(`${stage}: cancelled; nothing written (run again to sample from the start)`);
    return { stage, wall_seconds: wall, cpu_seconds: cpu, steps: 0, cancelled: true };
  }

  const rejected = REJECT_RULES.filter((r) => filter.rejected[r] > 0).map((r) => `${r} ${filter.rejected[r]}`);
  reporter.log(
    `${stage}: kept ${filter.kept} of ${filter.sampled} samples (${(100 * filter.acceptanceRate).toFixed(1)}%) for ${filter.promptsKept} of ${prompts.length} prompts; rejected: ${rejected.join(', ') || 'none'}`,
  );
  reporter.log(
    `${stage}: wrote ${file} (${kept.length} traces, status "${cfg.autoAccept ? 'accepted' : 'pending'}")${cfg.autoAccept ? '' : '; review them (accept or reject each) before stage sft'}`,
  );
  const summary: StageSummary = {
    stage,
    wall_seconds: wall,
    cpu_seconds: cpu,
    steps: batches,
    figures: {
      acceptance_rate: filter.acceptanceRate,
      kept: filter.kept,
      sampled: filter.sampled,
      prompts_kept: filter.promptsKept,
    },
    counts: Object.fromEntries(REJECT_RULES.map((r) => [`rejected/${r}`, filter.rejected[r]])),
    outputs: { review: file },
  };
  // The review file first, never over one that appeared while sampling; then the summary. A crash
  // between the two leaves a whole review file without a summary, which the next run leaves alone.
  writeReviewFile(file, kept.map((r) => JSON.stringify(r)).join('\n') + (kept.length ? '\n' : ''));
  writeFileAtomic(summaryFile, JSON.stringify(summary, null, 2));
  return summary;
}

/**
 * Writes a new review file whole (a temp file, then a hard link, which fails instead of
 * replacing). A review file that appeared since the stage started (another `r1` on the same run,
 * one a person put there) may hold reviewed traces: it is left as it is, the new traces go beside
 * it, and the stage fails saying where they are.
 */
export function writeReviewFile(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, text);
  try {
    try {
      fs.linkSync(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw err;
      // No hard links on this file system: an exclusive copy (not atomic, but never replacing).
      fs.copyFileSync(tmp, file, fs.constants.COPYFILE_EXCL);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const aside = file.replace(/(\.jsonl)?$/, `.${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
    fs.renameSync(tmp, aside);
    throw new UserError(
      `${file} appeared while this stage was sampling (another run of it?); it was left as it is, and the new traces are in ${aside}`,
    );
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Which step's weights a checkpoint holds: a GRPO stage that kept its best eval hands those on. */
function weightsStep(state: { step: number; extra?: Record<string, unknown> }): string {
  const best = state.extra?.bestStep;
  return typeof best === 'number' && best !== state.step
    ? `step ${best}, its best eval; trained to ${state.step}`
    : `step ${state.step}`;
}
