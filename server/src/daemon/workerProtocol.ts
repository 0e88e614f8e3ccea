// Messages between the daemon's main thread and its worker threads (training and sampling).
// Internal to the daemon: clients see JobEvents and MetricNotifications (protocol/messages.ts).
import type { BackendName } from '../backend/backend';
import type { ChatMessage } from '../tokenizer/chatTemplate';
import type { MetricRecord, StageId } from '../protocol/messages';

/** What a training worker runs: stages in order, as `r1 pipeline` would. */
export interface JobSpec {
  /** Absent: every stage the config lists. */
  stages?: StageId[];
  /** Absolute path of the pipeline config. */
  config: string;
  preset?: string;
  /** Absolute run folder. */
  runDir: string;
  /** Checkpoint the first stage starts from. */
  from?: string;
  backend?: BackendName;
}

/** One generation request for the sampling worker. */
export interface SampleSpec {
  checkpoint: string;
  prompt: string | ChatMessage[];
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  backend?: BackendName;
}

export interface SampleOutcome {
  text: string;
  tokens: number;
  promptTokens: number;
  /** `length` when generation hit the token limit without an end-of-text token. */
  finishReason: 'stop' | 'length';
}

export type ToWorker =
  /**
   * `cancelFlag` (4 bytes, shared): set to 1 to cancel. A stage's step loop is synchronous, so a
   * `cancel` message would wait until it ends; the worker polls the flag between steps instead.
   */
  | { type: 'run'; job: JobSpec; cancelFlag: SharedArrayBuffer }
  | { type: 'cancel' }
  | { type: 'sample'; id: number; spec: SampleSpec };

export type FromWorker =
  | { type: 'log'; message: string }
  | { type: 'backend'; name: string }
  | { type: 'stages'; stages: StageId[] }
  /** `stage`: a stage id, or a derived run's name such as `reasoning-rl-control`. */
  | { type: 'progress'; stage: string; step: number; total: number }
  | { type: 'metric'; record: MetricRecord }
  | { type: 'stageDone'; stage: string; summary: Record<string, unknown> }
  | { type: 'done'; cancelled: boolean }
  | { type: 'error'; message: string; userError: boolean }
  | { type: 'chunk'; id: number; text: string }
  | { type: 'sampled'; id: number; outcome: SampleOutcome }
  | { type: 'sampleError'; id: number; message: string; userError: boolean };
