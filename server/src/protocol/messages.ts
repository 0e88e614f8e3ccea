// The one place where message names and payloads between the extension, the daemon, the
// webviews and `r1` clients are defined. Import from here; never write a method name as a
// string literal elsewhere. Plain types only (no runtime deps) so webviews can import it too.

import type { MetricRecord } from '../util/metrics';

export type { MetricRecord };

export type StageId =
  'pretrain' | 'cold-start' | 'reasoning-rl' | 'rejection-sampling' | 'sft' | 'reward-model' | 'rl-all';

// ---- requests: extension -> daemon (LSP custom requests) ----

export const Requests = {
  runStage: 'r1/runStage',
  runPipeline: 'r1/runPipeline',
  cancel: 'r1/cancel',
  status: 'r1/status',
  listRuns: 'r1/listRuns',
  metrics: 'r1/metrics',
  groups: 'r1/groups',
  generate: 'r1/generate',
  score: 'r1/score',
  review: 'r1/review',
} as const;

export interface RunStageParams {
  stage: StageId;
  /** Pipeline config file (absolute, or relative to the workspace). */
  config?: string;
  /** Run folder (default: the workspace's `runs/default`). */
  out?: string;
  preset?: string;
  from?: string;
}

export interface RunPipelineParams extends Omit<RunStageParams, 'stage'> {
  stages?: StageId[];
}

export interface JobRef {
  jobId: string;
  /** Jobs ahead of this one (0 = running now). */
  position: number;
}

export interface CancelParams {
  /** Absent: the running job. */
  jobId?: string;
}

export interface JobInfo {
  jobId: string;
  kind: 'stage' | 'pipeline';
  stages: StageId[];
  runDir: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  stage?: StageId;
  step?: number;
  total?: number;
  startedAt?: string;
  error?: string;
}

export interface DaemonStatus {
  version: string;
  backend?: string;
  state: 'idle' | 'running';
  job?: JobInfo;
  queue: JobInfo[];
  /** WebSocket endpoint and the file holding its token. */
  ws?: string;
  http?: string;
  tokenFile?: string;
  /** Checkpoint served by the OpenAI-compatible API, if any. */
  serving?: string;
}

export interface ListRunsParams {
  /** Folder holding run folders (default: the workspace's `runs`). */
  root?: string;
}

export interface StageInfo {
  stage: StageId;
  step: number;
  totalSteps: number;
  done: boolean;
  checkpoint?: string;
  eval?: Record<string, number>;
}

export interface RunInfo {
  runDir: string;
  name: string;
  stages: StageInfo[];
}

export interface MetricsParams {
  runDir: string;
  stage: StageId;
  /** Only records with step > sinceStep. */
  sinceStep?: number;
}

export interface GroupsParams {
  runDir: string;
  stage: StageId;
  /** A step's groups; absent: the latest step. */
  step?: number;
}

export interface GroupCompletion {
  text: string;
  rewards: Record<string, number>;
  reward: number;
  advantage: number;
  length: number;
  truncated: boolean;
}

/** One line of a GRPO stage's groups.jsonl. */
export interface GroupRecord {
  step: number;
  prompt: unknown;
  answer?: string;
  trained: boolean;
  completions: GroupCompletion[];
  reward_names: string[];
}

export interface GenerateParams {
  /** Checkpoint folder; absent: the served one. */
  checkpoint?: string;
  prompt: string;
  maxTokens?: number;
  temperature?: number;
  /** Client-chosen id echoed in `r1/generateChunk` notifications for streaming. */
  streamId?: string;
}

export interface GenerateResult {
  text: string;
  tokens: number;
}

export interface ScoreParams {
  /** Score a record of an open document by line (0-based)... */
  uri?: string;
  line?: number;
  /** ...or an explicit completion. */
  completion?: string;
  answer?: string;
}

export interface ScoreResult {
  rewards: Record<string, number>;
  total: number;
  tokens: number;
}

export interface ReviewParams {
  uri: string;
  /** 0-based line of the record in the review file. */
  line: number;
  action: 'accept' | 'reject' | 'edit' | 'pending';
  /** New completion text for `edit`. */
  completion?: string;
}

/** Edits for the client to apply through the editor (undoable; nothing is written behind its back). */
export interface ReviewResult {
  edits: {
    uri: string;
    range: { start: { line: number; character: number }; end: { line: number; character: number } };
    newText: string;
  }[];
}

// ---- notifications: daemon -> extension ----

export const Notifications = {
  metric: 'r1/metric',
  jobEvent: 'r1/jobEvent',
  generateChunk: 'r1/generateChunk',
} as const;

export interface MetricNotification {
  jobId: string;
  runDir: string;
  record: MetricRecord;
}

export interface JobEvent {
  jobId: string;
  kind: 'queued' | 'started' | 'log' | 'progress' | 'stageDone' | 'finished' | 'failed' | 'cancelled';
  stage?: StageId;
  step?: number;
  total?: number;
  message?: string;
  /** Stage summary on `stageDone`. */
  summary?: Record<string, unknown>;
}

export interface GenerateChunk {
  streamId: string;
  text: string;
}

// ---- WebSocket stream (daemon -> webviews / r1 clients) ----

/** First message after a client connects with the right token: everything so far, then live messages. */
export type WsMessage =
  | { type: 'hello'; version: string; status: DaemonStatus }
  | { type: 'replay'; metrics: MetricNotification[]; events: JobEvent[] }
  | { type: 'metric'; data: MetricNotification }
  | { type: 'event'; data: JobEvent };

/** The line `r1 daemon` prints on stdout when ready (spec §2). */
export interface DaemonReadyLine {
  http: string;
  ws: string;
  tokenFile: string;
}

// ---- code lens commands (daemon -> extension); arguments: [uri, line (0-based)] ----

/** Command ids the daemon's code lenses invoke; the extension registers them. */
export const LensCommands = {
  scoreSample: 'r1.scoreSample',
  acceptTrace: 'r1.acceptTrace',
  rejectTrace: 'r1.rejectTrace',
} as const;

/**
 * The daemon's token file (`<workspace>/.r1/daemon.json`, mode 0600): how `r1` clients and
 * webviews find and authenticate to the WebSocket and HTTP endpoints. Removed when the daemon exits.
 */
export interface DaemonTokenFile extends DaemonReadyLine {
  token: string;
  pid: number;
  workspace: string;
}

/** WebSocket path on the daemon's HTTP server; the token goes in `?token=` or `Authorization: Bearer`. */
export const WS_PATH = '/ws';
