// Entry point: wires the Ctx (daemon lifecycle), the command table, the status bar, the review
// features and the webview serializers. Everything it creates is disposed with the extension.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { DashboardPanel } from './panels/dashboardPanel';
import { RewardsPanel } from './panels/rewardsPanel';
import { RecordFileSystem } from './review/recordFs';
import { RECORD_SCHEME } from './review/recordText';
import { ReviewController } from './review/reviewController';
import { TracesTree } from './review/tracesTree';
import { StatusBar } from './statusBar';
import type { DashboardState, RewardsState } from './webview/messages';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context);
  const traces = new TracesTree(context.workspaceState);
  context.subscriptions.push(
    ctx,
    new StatusBar(ctx),
    traces,
    new ReviewController(context.extensionUri),
    vscode.workspace.registerFileSystemProvider(RECORD_SCHEME, new RecordFileSystem(), { isCaseSensitive: true }),
    ...registerCommands(ctx, traces),
    vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
      deserializeWebviewPanel: async (panel, state: DashboardState | undefined) =>
        DashboardPanel.revive(ctx!, panel, state),
    }),
    vscode.window.registerWebviewPanelSerializer(RewardsPanel.viewType, {
      deserializeWebviewPanel: async (panel, state: RewardsState | undefined) =>
        RewardsPanel.revive(ctx!, panel, state),
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('r1.backend')) return;
      const pick = await vscode.window.showInformationMessage(
        'R1: the backend is chosen when the daemon starts. Restart it now?',
        'Restart Daemon',
      );
      if (pick) await ctx?.restart();
    }),
  );
  // Do not hold up activation on the daemon: commands wait for it when they need it.
  void ctx.start();
}

export async function deactivate(): Promise<void> {
  await ctx?.stop();
  ctx = undefined;
}
