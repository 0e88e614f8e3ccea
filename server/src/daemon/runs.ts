// Read-only views of run folders for the dashboard and the rewards panel: which runs and
// stages exist, a stage's metrics.jsonl, a GRPO stage's groups.jsonl. Lines cut short by a
// crash (or still being written) are skipped rather than failing the request.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STAGE_IDS } from '../config/pipelineConfig';
import type { GroupRecord, MetricRecord, RunInfo, StageId, StageInfo } from '../protocol/messages';
import { UserError } from '../util/errors';

/** Parses a JSONL file, skipping blank and unparsable lines; a missing file is empty. */
export function readJsonlLenient<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // partial line: skip
    }
  }
  return out;
}

function readJsonOrUndefined(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A stage id checked against the known ones (it becomes a path segment). */
export function checkStage(stage: unknown): StageId {
  if (typeof stage !== 'string' || !(STAGE_IDS as readonly string[]).includes(stage))
    throw new UserError(`stage: expected one of ${STAGE_IDS.join(', ')}, got ${JSON.stringify(stage)}`);
  return stage as StageId;
}

function stageInfo(runDir: string, stage: StageId): StageInfo {
  const dir = path.join(runDir, stage);
  const ckpt = path.join(dir, 'checkpoint');
  const state = readJsonOrUndefined(path.join(ckpt, 'state.json'));
  const summary = readJsonOrUndefined(path.join(dir, 'summary.json'));
  const evalFigures = Object.fromEntries(
    Object.entries((summary?.eval as Record<string, unknown> | undefined) ?? {}).filter(
      (e): e is [string, number] => typeof e[1] === 'number',
    ),
  );
  return {
    stage,
    step: Number(state?.step ?? 0),
    totalSteps: Number(state?.totalSteps ?? 0),
    done: state?.done === true,
    checkpoint: state ? ckpt : undefined,
    eval: Object.keys(evalFigures).length ? evalFigures : undefined,
  };
}

function runInfo(runDir: string): RunInfo | undefined {
  const stages = STAGE_IDS.filter((s) => isDir(path.join(runDir, s))).map((s) => stageInfo(runDir, s));
  return stages.length ? { runDir, name: path.basename(runDir), stages } : undefined;
}

/** Run folders under `root` (and `root` itself when it is one), by name. */
export function listRuns(root: string): RunInfo[] {
  const runs: RunInfo[] = [];
  const self = runInfo(root);
  if (self) runs.push(self);
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return runs;
  }
  for (const e of entries) {
    if (!e.isDirectory() || (STAGE_IDS as readonly string[]).includes(e.name)) continue;
    const info = runInfo(path.join(root, e.name));
    if (info) runs.push(info);
  }
  return runs.sort((a, b) => a.name.localeCompare(b.name));
}

/** A stage's metric records with step > sinceStep. */
export function stageMetrics(runDir: string, stage: StageId, sinceStep = -Infinity): MetricRecord[] {
  return readJsonlLenient<MetricRecord>(path.join(runDir, checkStage(stage), 'metrics.jsonl')).filter(
    (m) => typeof m.step === 'number' && m.step > sinceStep,
  );
}

/** One step's GRPO groups (the latest step when `step` is absent). */
export function stageGroups(runDir: string, stage: StageId, step?: number): GroupRecord[] {
  const all = readJsonlLenient<GroupRecord>(path.join(runDir, checkStage(stage), 'groups.jsonl'));
  const wanted = step ?? all.reduce((max, g) => Math.max(max, g.step), -1);
  return all.filter((g) => g.step === wanted);
}
