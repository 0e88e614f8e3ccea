// What every stage gets from its caller (CLI, daemon, tests) and what it gives back.
import { PipelineConfig, StageId } from '../config/pipelineConfig';
import { EvalResult } from '../eval/evaluate';
import { MetricRecord } from '../util/metrics';

/** How a stage reports progress; the CLI draws bars, the daemon streams events. */
export interface StageReporter {
  log(message: string): void;
  /** `stage` is a stage id, or a derived run's name such as `reasoning-rl-control`. */
  progressStart(stage: string, total: number, start: number): void;
  progress(step: number, info: Record<string, number>): void;
  progressStop(): void;
  metric?(m: MetricRecord): void;
}

export interface StageContext {
  config: PipelineConfig;
  /** The run folder; each stage writes `<runDir>/<stage id>/`. */
  runDir: string;
  /** Checkpoint to start from instead of the previous stage's. */
  from?: string;
  reporter: StageReporter;
  /** Cancels between steps; the stage checkpoints before returning. */
  signal?: AbortSignal;
  /** `sft`: after an RL stage, spend the same wall time continuing SFT from the same start (the honest control). */
  control?: 'sft';
}

export interface StageSummary {
  /** Stage id, or a derived run's name such as `reasoning-rl-control`. */
  stage: StageId | string;
  wall_seconds: number;
  /** CPU seconds of this process (all threads): the compute a comparison should match. */
  cpu_seconds?: number;
  steps: number;
  checkpoint?: string;
  eval?: Omit<EvalResult, 'examples'>;
  /** Stage-specific figures (e.g. eval loss, plain-layout accuracy); the summary table shows them. */
  figures?: Record<string, number>;
  /** Detail counts kept out of the summary table (e.g. rejection sampling's rejections per rule). */
  counts?: Record<string, number>;
  /** Files the stage wrote besides its checkpoint, by role (e.g. `review`: the review file). */
  outputs?: Record<string, string>;
  cancelled?: boolean;
  /** The compute-matched SFT control, when one was run (`--control sft`). */
  control?: StageSummary;
}

export const silentReporter: StageReporter = {
  log: () => {},
  progressStart: () => {},
  progress: () => {},
  progressStop: () => {},
};
