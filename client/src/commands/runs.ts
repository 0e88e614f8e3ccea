// Open Run: pick a run folder (from `r1/listRuns`) for the dashboard and the rewards panel.
import * as vscode from 'vscode';
import type { RunInfo } from '../../../server/src/protocol/messages';
import { Ctx } from '../ctx';
import * as ext from '../lspExt';
import { DashboardPanel } from '../panels/dashboardPanel';
import { readSettings, runsRoot } from '../settings';

function describeRun(run: RunInfo): string {
  return run.stages
    .map((s) => {
      const pass = s.eval?.['pass@1'];
      return `${s.stage}${s.done ? '' : ` ${s.step}/${s.totalSteps}`}${typeof pass === 'number' ? ` (pass@1 ${pass.toFixed(2)})` : ''}`;
    })
    .join(' → ');
}

export async function openRun(ctx: Ctx): Promise<void> {
  const root = runsRoot(readSettings());
  const runs = ext.asList<RunInfo>(await ctx.request(ext.listRuns, { root }), 'runs');
  const browse = { label: '$(folder-opened) Browse…', description: 'a run folder elsewhere', runDir: '' };
  const picks = [
    ...runs.map((run) => ({
      label: run.name,
      description: run.runDir === ctx.currentRun ? 'current' : vscode.workspace.asRelativePath(run.runDir),
      detail: describeRun(run) || 'no stages yet',
      runDir: run.runDir,
    })),
    browse,
  ];
  const pick = await vscode.window.showQuickPick(picks, {
    title: 'R1: Open Run',
    placeHolder: runs.length
      ? 'Run to show in the dashboard and rewards panel'
      : `No runs in ${root ?? 'the workspace'} yet`,
    matchOnDetail: true,
  });
  if (!pick) return;
  let runDir = pick.runDir;
  if (pick === browse) {
    const folder = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Open Run',
    });
    if (!folder?.[0]) return;
    runDir = folder[0].fsPath;
  }
  ctx.setCurrentRun(runDir);
  DashboardPanel.createOrShow(ctx);
}
