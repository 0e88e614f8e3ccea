// Runs one stage or several in order, each from the previous one's checkpoint.
import { STAGE_IDS, StageId } from '../config/pipelineConfig';
import { UserError } from '../util/errors';
import { StageContext, StageSummary } from './context';
import { runGrpoStage } from './grpoStage';
import { runLmStage } from './lmStage';
import { runRejectionSampling } from './rejectionSampling';
import { runRewardModelStage } from './rewardModelStage';
import { runRlAllStage } from './rlAllStage';
import { runSftControl } from './sftControl';
import { runSftStage } from './sftStage';

type StageRunner = (ctx: StageContext) => Promise<StageSummary>;

const RUNNERS: Partial<Record<StageId, StageRunner>> = {
  pretrain: (ctx) => runLmStage(ctx, 'pretrain'),
  'cold-start': (ctx) => runLmStage(ctx, 'cold-start'),
  'reasoning-rl': async (ctx) => {
    const rl = await runGrpoStage(ctx, 'reasoning-rl');
    if (ctx.control === 'sft' && !rl.cancelled) rl.control = await runSftControl(ctx, rl);
    return rl;
  },
  'rejection-sampling': runRejectionSampling,
  sft: runSftStage,
  'reward-model': runRewardModelStage,
  'rl-all': runRlAllStage,
};

export const STAGE_DESCRIPTIONS: Record<StageId, string> = {
  pretrain: 'next-token training of the base model on the corpus',
  'cold-start': 'SFT on a small set of long chain-of-thought examples',
  'reasoning-rl': 'GRPO with rule rewards (accuracy, format, language)',
  'rejection-sampling': 'sample the RL model, keep correct well-formed traces for review',
  sft: 'SFT on curated reasoning traces mixed with general data',
  'reward-model': 'Bradley-Terry reward model on preference pairs',
  'rl-all': 'GRPO over all scenarios with rule rewards and the reward model',
};

export function parseStageList(list: string): StageId[] {
  const ids = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!(STAGE_IDS as readonly string[]).includes(id))
      throw new UserError(`--stages: unknown stage "${id}" (stages: ${STAGE_IDS.join(', ')})`);
  }
  return ids as StageId[];
}

export async function runStage(ctx: StageContext, stage: StageId): Promise<StageSummary> {
  const runner = RUNNERS[stage];
  if (!runner)
    throw new UserError(
      `stage "${stage}" is not available in this version (available: ${Object.keys(RUNNERS).join(', ')})`,
    );
  try {
    return await runner(ctx);
  } catch (err) {
    // A progress bar left running keeps its timer, and the process, alive after the error.
    ctx.reporter.progressStop();
    throw err;
  }
}

/** The stages present in the config, in pipeline order. */
export function configuredStages(ctx: StageContext): StageId[] {
  return STAGE_IDS.filter((id) => ctx.config.stages[id] !== undefined && RUNNERS[id]);
}

export async function runPipeline(ctx: StageContext, stages: StageId[]): Promise<StageSummary[]> {
  const out: StageSummary[] = [];
  for (const stage of stages) {
    const summary = await runStage({ ...ctx, from: out.length ? undefined : ctx.from }, stage);
    out.push(summary);
    if (summary.cancelled) break;
  }
  return out;
}
