// The typed contract between the extension and its webviews: each webview says `initialized`
// once its script runs, and only then gets data.
import type { GroupRecord, JobEvent, MetricRecord, StageId, StageInfo } from '../../../server/src/protocol/messages';

// ---- Training dashboard ----

/** Persisted with `setState`, handed back to the serializer after a reload. */
export interface DashboardState {
  runDir?: string;
  /** Exponential smoothing of the charts, 0..0.99. */
  smoothing?: number;
}

export type DashboardToExtension =
  | { type: 'initialized'; state: DashboardState }
  | { type: 'openRun' }
  | { type: 'showRewards'; stage?: StageId; step?: number };

export type ExtensionToDashboard =
  /** Everything logged so far for a run (backfill): replaces what the webview shows. */
  | { type: 'reset'; runDir?: string; runName?: string; stages: StageInfo[]; records: MetricRecord[]; error?: string }
  /** Live metric lines of the shown run. */
  | { type: 'metrics'; records: MetricRecord[] }
  | { type: 'event'; event: JobEvent }
  | { type: 'daemon'; text: string; ok: boolean };

// ---- Rewards panel ----

export interface RewardsState {
  runDir?: string;
  stage?: StageId;
  /** Absent: the latest step. */
  step?: number;
  /** Which prompt of the step's groups. */
  group?: number;
  /** Reload the latest step when the stage logs a new one. */
  follow?: boolean;
}

export type RewardsToExtension = { type: 'initialized'; state: RewardsState } | { type: 'load'; state: RewardsState };

export type ExtensionToRewards =
  | {
      type: 'groups';
      state: RewardsState;
      runName?: string;
      /** GRPO stages of the run that have groups. */
      stages: StageId[];
      groups: GroupRecord[];
      error?: string;
    }
  | { type: 'daemon'; text: string; ok: boolean };
