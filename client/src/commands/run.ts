// Run Stage, Run Pipeline and Stop.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunPipelineParams, StageId } from '../../../server/src/protocol/messages';
import { Ctx } from '../ctx';
import { trackJob } from '../jobs';
import * as ext from '../lspExt';
import { readSettings, resolveConfigFile, runsRoot } from '../settings';
import { STAGE_IDS, STAGES } from '../stages';

interface StagePick extends vscode.QuickPickItem {
  stage: StageId;
}

/** Config, run folder and preset every run request carries. */
function runParams(ctx: Ctx): RunPipelineParams {
  const settings = readSettings();
  const config = resolveConfigFile(ctx.extensionPath, settings);
  const root = runsRoot(settings);
  return {
    config,
    out: ctx.currentRun ?? (root ? path.join(root, 'default') : undefined),
    preset: settings.preset || undefined,
  };
}

export async function runStage(ctx: Ctx, stageArg?: unknown): Promise<void> {
  let stage = STAGE_IDS.find((s) => s === stageArg);
  if (!stage) {
    const picks: StagePick[] = STAGE_IDS.map((id) => ({
      stage: id,
      label: id,
      description: STAGES[id].does,
      detail: `starts from ${STAGES[id].startsFrom} · writes ${STAGES[id].writes}`,
    }));
    const pick = await vscode.window.showQuickPick(picks, {
      title: 'R1: Run Stage',
      placeHolder: 'Stage to run (it starts from the previous stage’s checkpoint in the current run)',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!pick) return;
    stage = pick.stage;
  }
  const params = { ...runParams(ctx), stage };
  const ref = await ctx.request(ext.runStage, params);
  if (params.out) ctx.setCurrentRun(params.out);
  void trackJob(ctx, ref, `stage ${stage}`, 1);
}

export async function runPipeline(ctx: Ctx): Promise<void> {
  const params = runParams(ctx);
  const ref = await ctx.request(ext.runPipeline, params);
  if (params.out) ctx.setCurrentRun(params.out);
  void trackJob(ctx, ref, 'pipeline', configuredStages(params.config) ?? STAGE_IDS.length);
}

/** How many stages the config lists (the ones `r1 pipeline` runs), for the progress bar. */
function configuredStages(configFile: string | undefined): number | undefined {
  if (!configFile) return undefined;
  try {
    const stages = (JSON.parse(fs.readFileSync(configFile, 'utf8')) as { stages?: object }).stages;
    return stages ? Object.keys(stages).length : undefined;
  } catch {
    return undefined;
  }
}

export async function stop(ctx: Ctx): Promise<void> {
  const status = await ctx.refreshStatus();
  if (status && !status.job && status.queue.length === 0) {
    void vscode.window.showInformationMessage('R1: nothing is running.');
    return;
  }
  await ctx.request(ext.cancel, {});
  void vscode.window.showInformationMessage('R1: stopping the running job; running it again resumes it.');
}
