// What every stage gets from its caller (CLI, daemon, tests) and what it gives back.
import { PipelineConfig, StageId } from '../config/pipelineConfig';
import { EvalResult } from '../eval/evaluate';
import { MetricRecord } from '../util/metrics';

/** How a stage reports progress; the CLI draws bars, the daemon streams events. */
export interface StageReporter {
  log(message: string): void;
  progressStart(stage: StageId, total: number, start: number): void;
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
}

export interface StageSummary {
  stage: StageId;
  wall_seconds: number;
  steps: number;
  checkpoint?: string;
  eval?: Omit<EvalResult, 'examples'>;
  /** Stage-specific figures (e.g. eval loss, plain-layout accuracy). */
  figures?: Record<string, number>;
  cancelled?: boolean;
}

export const silentReporter: StageReporter = {
  log: () => {},
  progressStart: () => {},
  progress: () => {},
  progressStop: () => {},
};
