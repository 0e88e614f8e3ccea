// The Training Dashboard: live charts of a run's metrics and a stage timeline. The extension
// forwards `r1/metric` notifications; on open (and after a reload) it backfills with `r1/metrics`.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type {
  JobEvent,
  MetricNotification,
  MetricRecord,
  RunInfo,
  StageInfo,
} from '../../../server/src/protocol/messages';
import { Commands } from '../commandIds';
import { Ctx, messageOf } from '../ctx';
import * as ext from '../lspExt';
import { STAGE_IDS } from '../stages';
import type { DashboardState, DashboardToExtension, ExtensionToDashboard } from '../webview/messages';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class DashboardPanel implements vscode.Disposable {
  static readonly viewType = 'r1.dashboard';
  private static current: DashboardPanel | undefined;

  private readonly subscriptions: vscode.Disposable[] = [];
  private ready = false;
  private runDir: string | undefined;
  private loading: Promise<void> | undefined;
  private backfillWanted = false;
  private disposed = false;

  static createOrShow(ctx: Ctx): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      DashboardPanel.viewType,
      'R1 Training',
      vscode.ViewColumn.Active,
      webviewOptions(ctx.extension.extensionUri),
    );
    return new DashboardPanel(panel, ctx, {});
  }

  static revive(ctx: Ctx, panel: vscode.WebviewPanel, state: DashboardState | undefined): void {
    panel.webview.options = webviewOptions(ctx.extension.extensionUri);
    new DashboardPanel(panel, ctx, state ?? {});
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: Ctx,
    state: DashboardState,
  ) {
    DashboardPanel.current = this;
    this.runDir = state.runDir ?? ctx.currentRun;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'icons', 'r1.svg');
    panel.webview.html = webviewHtml(panel.webview, ctx.extension.extensionUri, {
      title: 'R1 Training',
      script: 'dashboard.js',
      styles: ['webview.css', 'dashboard.css'],
      body: '<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>',
    });
    this.subscriptions.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: DashboardToExtension) => this.onMessage(m)),
      ctx.onMetric((m) => this.onMetric(m)),
      ctx.onJobEvent((e) => this.onJobEvent(e)),
      ctx.onDidChangeCurrentRun((run) => {
        if (run && !samePath(run, this.runDir)) {
          this.runDir = run;
          this.backfill();
        }
      }),
      ctx.onDidChangeState(() => this.postDaemon()),
    );
  }

  private onMessage(m: DashboardToExtension): void {
    switch (m.type) {
      case 'initialized':
        // The webview (re)loaded: a fresh page needs everything again.
        this.ready = true;
        this.runDir = m.state.runDir ?? this.runDir ?? this.ctx.currentRun;
        this.postDaemon();
        this.backfill();
        break;
      case 'openRun':
        void vscode.commands.executeCommand(Commands.openRun);
        break;
      case 'showRewards':
        void vscode.commands.executeCommand(Commands.showRewards, {
          runDir: this.runDir,
          stage: m.stage,
          step: m.step,
        });
        break;
    }
  }

  private post(m: ExtensionToDashboard): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private postDaemon(): void {
    const { state, lastError } = this.ctx;
    this.post({
      type: 'daemon',
      ok: state === 'running',
      text: state === 'running' ? '' : `Daemon ${state}${lastError ? `: ${lastError}` : ''}`,
    });
  }

  private onMetric(m: MetricNotification): void {
    if (!this.runDir) {
      this.runDir = m.runDir; // the first run that logs anything
      this.backfill();
      return;
    }
    if (samePath(m.runDir, this.runDir)) this.post({ type: 'metrics', records: [m.record] });
  }

  private onJobEvent(e: JobEvent): void {
    const job = this.ctx.status?.job;
    if (!job || job.jobId !== e.jobId || samePath(job.runDir, this.runDir)) this.post({ type: 'event', event: e });
  }

  /** Sends everything logged so far for the run; live lines that overlap are deduplicated by the webview. */
  private backfill(): void {
    this.backfillWanted = true;
    this.loading ??= (async () => {
      while (this.backfillWanted && !this.disposed) {
        this.backfillWanted = false;
        await this.doBackfill();
      }
    })().finally(() => (this.loading = undefined));
  }

  private async doBackfill(): Promise<void> {
    if (!this.ready) return;
    this.runDir ??= await this.ctx.resolveRun();
    const runDir = this.runDir;
    if (!runDir) {
      this.post({
        type: 'reset',
        stages: [],
        records: [],
        error: 'No run yet: run a stage or pick one with Open Run.',
      });
      return;
    }
    this.panel.title = `R1 Training — ${path.basename(runDir)}`;
    let stages: StageInfo[] = [];
    try {
      const runs = ext.asList<RunInfo>(await this.ctx.request(ext.listRuns, { root: path.dirname(runDir) }), 'runs');
      stages = runs.find((r) => samePath(r.runDir, runDir))?.stages ?? [];
    } catch (err) {
      this.ctx.output.appendLine(`[dashboard] listRuns: ${messageOf(err)}`);
    }
    const wanted = stages.length ? stages.map((s) => s.stage) : STAGE_IDS;
    const results = await Promise.allSettled(wanted.map((stage) => this.ctx.request(ext.metrics, { runDir, stage })));
    const records: MetricRecord[] = [];
    let error: string | undefined;
    for (const r of results) {
      if (r.status === 'fulfilled') records.push(...ext.asList<MetricRecord>(r.value, 'records'));
      else error ??= messageOf(r.reason);
    }
    if (runDir !== this.runDir) return; // switched run meanwhile: the loop loads the new one
    const allFailed = results.length > 0 && results.every((r) => r.status === 'rejected');
    this.post({
      type: 'reset',
      runDir,
      runName: path.basename(runDir),
      stages,
      records,
      error: allFailed ? `Could not load the run's metrics: ${error}` : undefined,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    for (const d of this.subscriptions) d.dispose();
    this.panel.dispose();
  }
}

export function samePath(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && path.resolve(a) === path.resolve(b);
}
