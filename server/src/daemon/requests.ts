// The daemon's custom LSP requests (protocol/messages.ts `Requests`): jobs, runs, generation,
// scoring and review. Bad params or files answer with an error naming the problem; the
// daemon keeps serving either way.
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection, ErrorCodes, ResponseError, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { BackendName } from '../backend/backend';
import { documentFor, recordAt } from '../lsp/documents';
import { completionText } from '../lsp/records';
import { reviewEdits } from '../lsp/review';
import { scoreCompletion } from '../lsp/score';
import {
  Notifications,
  Requests,
  type CancelParams,
  type DaemonStatus,
  type GenerateParams,
  type GenerateResult,
  type GroupsParams,
  type JobInfo,
  type JobRef,
  type ListRunsParams,
  type MetricsParams,
  type ReviewParams,
  type RunPipelineParams,
  type RunStageParams,
  type ScoreParams,
} from '../protocol/messages';
import { isUserError, UserError } from '../util/errors';
import type { JobManager } from './jobs';
import { checkStage, listRuns, stageGroups, stageMetrics } from './runs';
import type { Sampler } from './sampler';
import type { JobSpec } from './workerProtocol';

/** Default length of an editor generation (the context length caps it further). */
const DEFAULT_GENERATE_TOKENS = 128;

export interface RequestDeps {
  workspace: string;
  jobs: JobManager;
  sampler: Sampler;
  documents?: TextDocuments<TextDocument>;
  status: () => DaemonStatus;
  /** The checkpoint served by default (`--checkpoint`). */
  served?: string;
  backend?: BackendName;
}

/** The pipeline config a job uses: the given one, else the workspace's `r1.config.json` or the samples'. */
export function resolveConfig(workspace: string, config?: string): string {
  if (config) return path.resolve(workspace, config);
  for (const candidate of ['r1.config.json', path.join('samples', 'r1.config.json')]) {
    const file = path.join(workspace, candidate);
    if (fs.existsSync(file)) return file;
  }
  throw new UserError(`no pipeline config: pass "config", or add r1.config.json to ${workspace}`);
}

function jobSpec(deps: RequestDeps, params: RunPipelineParams, stages: JobSpec['stages']): JobSpec {
  const ws = deps.workspace;
  return {
    stages,
    config: resolveConfig(ws, params?.config),
    preset: params?.preset,
    runDir: path.resolve(ws, params?.out ?? path.join('runs', 'default')),
    from: params?.from ? path.resolve(ws, params.from) : undefined,
    backend: deps.backend,
  };
}

function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof ResponseError) return err;
  if (isUserError(err)) return new ResponseError(ErrorCodes.InvalidParams, (err as Error).message);
  return new ResponseError(ErrorCodes.InternalError, err instanceof Error ? err.message : String(err));
}

/** Registers every custom request on the connection. */
export function registerRequests(connection: Connection, deps: RequestDeps): void {
  const on = <P, R>(method: string, handler: (params: P) => R | Promise<R>) =>
    connection.onRequest(method, async (params: P) => {
      try {
        return await handler(params);
      } catch (err) {
        throw toResponseError(err);
      }
    });
  const ws = (p: unknown, field = 'runDir') => {
    if (typeof p !== 'string') throw new UserError(`"${field}" must be a path`);
    return path.resolve(deps.workspace, p);
  };
  const open = (uri: string) => deps.documents?.get(uri);

  on<RunStageParams, JobRef>(Requests.runStage, (p) =>
    deps.jobs.submit('stage', jobSpec(deps, p, [checkStage(p?.stage)])),
  );
  on<RunPipelineParams, JobRef>(Requests.runPipeline, (p) =>
    deps.jobs.submit('pipeline', jobSpec(deps, p, p?.stages?.map(checkStage))),
  );
  on<CancelParams, JobInfo | null>(Requests.cancel, (p) => deps.jobs.cancel(p?.jobId) ?? null);
  on<void, DaemonStatus>(Requests.status, () => deps.status());
  on<ListRunsParams, ReturnType<typeof listRuns>>(Requests.listRuns, (p) => listRuns(ws(p?.root ?? 'runs', 'root')));
  on<MetricsParams, ReturnType<typeof stageMetrics>>(Requests.metrics, (p) =>
    stageMetrics(ws(p?.runDir), p.stage, p.sinceStep),
  );
  on<GroupsParams, ReturnType<typeof stageGroups>>(Requests.groups, (p) => stageGroups(ws(p?.runDir), p.stage, p.step));

  on<GenerateParams, GenerateResult>(Requests.generate, async (p) => {
    if (typeof p?.prompt !== 'string') throw new UserError('generate: "prompt" must be a string');
    const checkpoint = p.checkpoint ? ws(p.checkpoint, 'checkpoint') : deps.served;
    if (!checkpoint)
      throw new UserError('generate: no checkpoint: pass "checkpoint", or start the daemon with --checkpoint');
    const streamId = p.streamId;
    const outcome = await deps.sampler.sample(
      {
        checkpoint,
        prompt: p.prompt,
        maxTokens: p.maxTokens ?? DEFAULT_GENERATE_TOKENS,
        temperature: p.temperature ?? 0,
        topP: 1,
        seed: randomInt(2 ** 31),
        backend: deps.backend,
      },
      streamId === undefined
        ? undefined
        : (text) => void connection.sendNotification(Notifications.generateChunk, { streamId, text }),
    );
    return { text: outcome.text, tokens: outcome.tokens };
  });

  on<ScoreParams, Awaited<ReturnType<typeof scoreCompletion>>>(Requests.score, async (p) => {
    if (typeof p?.completion === 'string') return scoreCompletion(p.completion, { answer: p.answer });
    if (typeof p?.uri !== 'string' || typeof p.line !== 'number')
      throw new UserError('score: pass "uri" and "line", or "completion"');
    const rec = recordAt(documentFor(p.uri, open), p.line);
    const completion = completionText(rec.value);
    if (completion === undefined) throw new UserError(`${p.uri}:${p.line + 1}: the record has no completion to score`);
    return scoreCompletion(completion, rec.value);
  });

  on<ReviewParams, ReturnType<typeof reviewEdits>>(Requests.review, (p) => {
    if (typeof p?.uri !== 'string' || typeof p.line !== 'number') throw new UserError('review: pass "uri" and "line"');
    return reviewEdits(documentFor(p.uri, open), p);
  });
}
