// The honest control for an RL stage: the same compute (CPU seconds) spent continuing SFT from the same
// starting checkpoint on the data a user has (the cold-start set; RL prompts carry only answers).
import { lmStageConfig, LmStageConfig } from '../config/pipelineConfig';
import { StageContext, StageSummary } from './context';
import { checkpointDir, runLmStage } from './lmStage';

/** Defaults for the control's SFT; `stages.reasoning-rl.control` in the config overrides them. */
const CONTROL_DEFAULTS: Partial<LmStageConfig> = {
  lr: 3e-4,
  warmupSteps: 0,
  minLrRatio: 1,
  evalEvery: 0,
  checkpointEvery: 50,
};

export async function runSftControl(ctx: StageContext, rl: StageSummary): Promise<StageSummary> {
  const overrides = (ctx.config.stages['reasoning-rl']?.control ?? {}) as Partial<LmStageConfig>;
  const cfg: LmStageConfig = {
    ...lmStageConfig(ctx.config, 'cold-start'),
    ...CONTROL_DEFAULTS,
    ...overrides,
    // The CPU-time budget ends the run, not the step count.
    steps: Number.MAX_SAFE_INTEGER,
  };
  // Match CPU time, not wall time: other work on the machine must not tilt the comparison.
  const budget = rl.cpu_seconds ?? rl.wall_seconds;
  ctx.reporter.log(
    `${rl.stage}-control: continuing SFT from the same start for ${Math.round(budget)} CPU seconds (as RL used)`,
  );
  return runLmStage({ ...ctx, from: ctx.from ?? checkpointDir(ctx.runDir, 'cold-start') }, 'cold-start', {
    name: `${rl.stage}-control`,
    cfg,
    maxCpuSeconds: budget,
  });
}
