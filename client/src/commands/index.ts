// The command table: id -> handler. Each handler runs behind one error boundary, so a daemon
// that is down or refuses a request is a message with a way out, never an unhandled rejection.
import * as vscode from 'vscode';
import { Commands, CommandId } from '../commandIds';
import { Ctx, DaemonError, messageOf } from '../ctx';
import { DashboardPanel } from '../panels/dashboardPanel';
import { RewardsPanel } from '../panels/rewardsPanel';
import { editRecord } from '../review/recordFs';
import { resolveTarget, reviewTrace, scoreSample } from '../review/reviewActions';
import { revealTrace, TracesTree } from '../review/tracesTree';
import { isStageId } from '../stages';
import type { RewardsState } from '../webview/messages';
import { copySamples, newDataset, reviewTraces } from './datasets';
import { runPipeline, runStage, stop } from './run';
import { openRun } from './runs';
import { tryModel } from './tryModel';

type Handler = (...args: unknown[]) => unknown;

export function commandTable(ctx: Ctx, traces: TracesTree): Record<CommandId, Handler> {
  return {
    [Commands.runStage]: (stage) => runStage(ctx, stage),
    [Commands.runPipeline]: () => runPipeline(ctx),
    [Commands.stop]: () => stop(ctx),
    [Commands.showDashboard]: () => void DashboardPanel.createOrShow(ctx),
    [Commands.showRewards]: (at) => {
      const s = at && typeof at === 'object' ? (at as RewardsState) : undefined;
      RewardsPanel.createOrShow(ctx, s && { ...s, stage: isStageId(s.stage) ? s.stage : undefined });
    },
    [Commands.reviewTraces]: () => reviewTraces(),
    [Commands.acceptTrace]: (uri, line) => reviewTrace(ctx, 'accept', uri, line),
    [Commands.rejectTrace]: (uri, line) => reviewTrace(ctx, 'reject', uri, line),
    [Commands.editTrace]: async (uri, line) => {
      const target = await resolveTarget(uri, line);
      if (target) await editRecord(target);
    },
    [Commands.scoreSample]: (uri, line) => scoreSample(ctx, uri, line),
    [Commands.tryModel]: () => tryModel(ctx),
    [Commands.newDataset]: () => newDataset(),
    [Commands.openRun]: () => openRun(ctx),
    [Commands.restartDaemon]: async () => {
      await ctx.restart();
      if (ctx.state === 'running') void vscode.window.showInformationMessage('R1: daemon restarted.');
      else throw new DaemonError(ctx.lastError ?? 'the daemon did not start');
    },
    [Commands.showLogs]: () => ctx.output.show(true),
    [Commands.copySamples]: () => copySamples(ctx.extension.extensionUri),
    [Commands.filterTraces]: () => traces.pickFilter(),
    [Commands.refreshTraces]: () => traces.refresh(),
    [Commands.revealTrace]: (uri, line) => revealTrace(uri, line),
  };
}

export function registerCommands(ctx: Ctx, traces: TracesTree): vscode.Disposable[] {
  return Object.entries(commandTable(ctx, traces)).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        if (err instanceof vscode.CancellationError) return;
        ctx.output.appendLine(`[${id}] ${err instanceof Error && err.stack ? err.stack : messageOf(err)}`);
        const actions = err instanceof DaemonError ? ['Restart Daemon', 'Show Logs'] : ['Show Logs'];
        const pick = await vscode.window.showErrorMessage(`R1: ${messageOf(err)}`, ...actions);
        if (pick === 'Restart Daemon') void vscode.commands.executeCommand(Commands.restartDaemon);
        if (pick === 'Show Logs') ctx.output.show(true);
      }
    }),
  );
}
