// Typed custom requests and notifications of the daemon (the rust-analyzer `lsp_ext.ts` idea):
// method names come from the shared protocol module, payload types are bound to them here once.
import { NotificationType, RequestType } from 'vscode-languageclient/node';
import {
  CancelParams,
  DaemonStatus,
  GenerateChunk,
  GenerateParams,
  GenerateResult,
  GroupRecord,
  GroupsParams,
  JobEvent,
  JobRef,
  ListRunsParams,
  MetricNotification,
  MetricRecord,
  MetricsParams,
  Notifications,
  Requests,
  ReviewParams,
  ReviewResult,
  RunInfo,
  RunPipelineParams,
  RunStageParams,
  ScoreParams,
  ScoreResult,
} from '../../server/src/protocol/messages';

export const runStage = new RequestType<RunStageParams, JobRef, void>(Requests.runStage);
export const runPipeline = new RequestType<RunPipelineParams, JobRef, void>(Requests.runPipeline);
export const cancel = new RequestType<CancelParams, unknown, void>(Requests.cancel);
export const status = new RequestType<Record<string, never>, DaemonStatus, void>(Requests.status);
// List-valued results are read with `asList`, which also accepts `{ runs | records | groups: [...] }`.
export const listRuns = new RequestType<ListRunsParams, RunInfo[] | { runs: RunInfo[] }, void>(Requests.listRuns);
export const metrics = new RequestType<MetricsParams, MetricRecord[] | { records: MetricRecord[] }, void>(
  Requests.metrics,
);
export const groups = new RequestType<GroupsParams, GroupRecord[] | GroupRecord | { groups: GroupRecord[] }, void>(
  Requests.groups,
);
export const generate = new RequestType<GenerateParams, GenerateResult, void>(Requests.generate);
export const score = new RequestType<ScoreParams, ScoreResult, void>(Requests.score);
export const review = new RequestType<ReviewParams, ReviewResult, void>(Requests.review);

export const metric = new NotificationType<MetricNotification>(Notifications.metric);
export const jobEvent = new NotificationType<JobEvent>(Notifications.jobEvent);
export const generateChunk = new NotificationType<GenerateChunk>(Notifications.generateChunk);

/**
 * A list result, whether the daemon sends the bare array or wraps it as `{ [key]: [...] }`;
 * `isItem` accepts a single bare item too.
 */
export function asList<T>(result: unknown, key: string, isItem?: (x: object) => boolean): T[] {
  if (result === null || typeof result !== 'object') return [];
  if (Array.isArray(result)) return result as T[];
  const inner = (result as Record<string, unknown>)[key];
  if (Array.isArray(inner)) return inner as T[];
  return isItem?.(result) ? [result as T] : [];
}
