// The Rewards Panel: one GRPO group from `r1/groups` (prompt, completions with highlighted
// reasoning, per-function rewards, total, advantage), with step and group navigation.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GroupRecord, RunInfo, StageId } from '../../../server/src/protocol/messages';
import { Ctx, messageOf } from '../ctx';
import * as ext from '../lspExt';
import { isStageId, STAGE_IDS, STAGES } from '../stages';
import type { ExtensionToRewards, RewardsState, RewardsToExtension } from '../webview/messages';
import { samePath } from './dashboardPanel';
import { webviewHtml, webviewOptions } from './webviewHtml';

const GRPO_STAGES = STAGE_IDS.filter((s) => STAGES[s].grpo);
const FOLLOW_THROTTLE_MS = 2000;

export class RewardsPanel implements vscode.Disposable {
  static readonly viewType = 'r1.rewards';
  private static current: RewardsPanel | undefined;

  private readonly subscriptions: vscode.Disposable[] = [];
  private ready = false;
  private disposed = false;
  private state: RewardsState;
  private lastFollow = 0;
  private followTimer: ReturnType<typeof setTimeout> | undefined;

  /** Opens (or focuses) the panel; `at` picks a run, stage and step. */
  static createOrShow(ctx: Ctx, at?: RewardsState): RewardsPanel {
    const existing = RewardsPanel.current;
    if (existing) {
      existing.panel.reveal();
      if (at) void existing.load({ ...existing.state, ...at, group: 0 });
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      RewardsPanel.viewType,
      'R1 Rewards',
      vscode.ViewColumn.Active,
      webviewOptions(ctx.extension.extensionUri),
    );
    return new RewardsPanel(panel, ctx, { follow: true, ...at });
  }

  static revive(ctx: Ctx, panel: vscode.WebviewPanel, state: RewardsState | undefined): void {
    panel.webview.options = webviewOptions(ctx.extension.extensionUri);
    new RewardsPanel(panel, ctx, state ?? { follow: true });
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: Ctx,
    state: RewardsState,
  ) {
    RewardsPanel.current = this;
    this.state = state;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'icons', 'r1.svg');
    panel.webview.html = webviewHtml(panel.webview, ctx.extension.extensionUri, {
      title: 'R1 Rewards',
      script: 'rewards.js',
      styles: ['webview.css', 'rewards.css'],
      body: '<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>',
    });
    this.subscriptions.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: RewardsToExtension) => {
        this.ready = true;
        // `initialized` after a reload carries the webview's saved state; `load` is navigation.
        void this.load(m.type === 'initialized' ? { ...this.state, ...m.state } : m.state);
      }),
      ctx.onMetric((m) => {
        const s = this.state;
        if (s.follow && s.step === undefined && samePath(m.runDir, s.runDir) && m.record.stage === s.stage) {
          this.scheduleFollow();
        }
      }),
    );
  }

  /** Reloads the latest step at most every couple of seconds while a GRPO stage logs. */
  private scheduleFollow(): void {
    if (this.followTimer) return;
    const wait = Math.max(0, this.lastFollow + FOLLOW_THROTTLE_MS - Date.now());
    this.followTimer = setTimeout(() => {
      this.followTimer = undefined;
      this.lastFollow = Date.now();
      void this.load(this.state);
    }, wait);
  }

  private async load(requested: RewardsState): Promise<void> {
    const runDir = requested.runDir ?? (await this.ctx.resolveRun());
    let stages: StageId[] = GRPO_STAGES;
    let error: string | undefined;
    if (runDir) {
      try {
        const runs = ext.asList<RunInfo>(await this.ctx.request(ext.listRuns, { root: path.dirname(runDir) }), 'runs');
        const run = runs.find((r) => samePath(r.runDir, runDir));
        const logged = run?.stages.map((s) => s.stage).filter((s) => STAGES[s]?.grpo) ?? [];
        if (logged.length) stages = logged;
      } catch (err) {
        this.ctx.output.appendLine(`[rewards] listRuns: ${messageOf(err)}`);
      }
    }
    const stage = isStageId(requested.stage) && stages.includes(requested.stage) ? requested.stage : stages[0];
    const state: RewardsState = { ...requested, runDir, stage };
    let groups: GroupRecord[] = [];
    if (!runDir) error = 'No run yet: run the reasoning-rl stage, or pick a run with Open Run.';
    else {
      try {
        const result = await this.ctx.request(ext.groups, { runDir, stage, step: state.step });
        groups = ext.asList<GroupRecord>(result, 'groups', (x) => 'completions' in x);
        if (groups.length === 0) {
          error =
            state.step === undefined ? `No groups logged yet for ${stage}.` : `No groups logged at step ${state.step}.`;
        }
      } catch (err) {
        error = `Could not load groups: ${messageOf(err)}`;
      }
    }
    if (this.disposed) return;
    this.state = state;
    this.panel.title = `R1 Rewards — ${stage}${groups[0] ? ` step ${groups[0].step}` : ''}`;
    this.post({ type: 'groups', state, runName: runDir && path.basename(runDir), stages, groups, error });
  }

  private post(m: ExtensionToRewards): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.followTimer) clearTimeout(this.followTimer);
    if (RewardsPanel.current === this) RewardsPanel.current = undefined;
    for (const d of this.subscriptions) d.dispose();
    this.panel.dispose();
  }
}
