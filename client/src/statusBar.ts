// The status bar item: daemon state, current stage, step/total and backend; opens the dashboard.
import * as vscode from 'vscode';
import type { JobEvent } from '../../server/src/protocol/messages';
import { Ctx } from './ctx';
import { Commands } from './commandIds';
import { readSettings } from './settings';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('r1.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Progress from the latest job event; fresher than the last status poll. */
  private progress: { stage?: string; step?: number; total?: number } | undefined;

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'R1 Workbench';
    this.item.command = Commands.showDashboard;
    this.subscriptions.push(
      this.item,
      ctx.onDidChangeState(() => this.render()),
      ctx.onDidChangeStatus(() => {
        this.progress = undefined;
        this.render();
      }),
      ctx.onJobEvent((e) => this.onJobEvent(e)),
    );
    this.render();
    this.item.show();
  }

  private onJobEvent(e: JobEvent): void {
    if (e.kind === 'progress' || e.kind === 'started') {
      this.progress = { stage: e.stage, step: e.step, total: e.total };
      this.render();
    } else if (e.kind === 'finished' || e.kind === 'failed' || e.kind === 'cancelled') {
      this.progress = undefined;
      this.render();
    }
  }

  private render(): void {
    const { state, status, lastError } = this.ctx;
    const backend = ` · ${status?.backend ?? readSettings().backend}`;
    this.item.backgroundColor = undefined;
    switch (state) {
      case 'starting':
        this.item.text = '$(loading~spin) R1';
        this.item.tooltip = 'R1 daemon: starting';
        return;
      case 'stopped':
        this.item.text = '$(circle-slash) R1';
        this.item.tooltip = `R1 daemon: stopped${lastError ? ` — ${lastError}` : ''}`;
        return;
      case 'failed':
        this.item.text = '$(error) R1';
        this.item.tooltip = `R1 daemon: ${lastError ?? 'failed'} (click for the dashboard; "R1: Restart Daemon" to retry)`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        return;
      case 'running': {
        // The status keeps the last job after it ends: only a running or queued one counts.
        const job = status?.job && ['running', 'queued'].includes(status.job.state) ? status.job : undefined;
        const stage = this.progress?.stage ?? job?.stage;
        const step = this.progress?.step ?? job?.step;
        const total = this.progress?.total ?? job?.total;
        if (job || this.progress) {
          const counts = step !== undefined ? ` ${step}${total ? `/${total}` : ''}` : '';
          this.item.text = `$(sync~spin) R1 ${stage ?? job?.kind ?? 'job'}${counts}${backend}`;
          const queued = status?.queue.length ? ` (${status.queue.length} queued)` : '';
          this.item.tooltip = `R1: running ${stage ?? ''}${counts} in ${job?.runDir ?? 'the current run'}${queued} — click for the training dashboard`;
        } else {
          this.item.text = `$(beaker) R1 idle${backend}`;
          this.item.tooltip = `R1 daemon ${status?.version ?? ''} idle${status?.serving ? `, serving ${status.serving}` : ''} — click for the training dashboard`;
        }
        return;
      }
    }
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}
