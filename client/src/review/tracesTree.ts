// The Traces view (`r1.traces`): the review file's records grouped by status, with counts and a
// status filter. It follows the active review file (or the last one shown).
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { isReviewDocument, readTraces, REVIEW_STATUSES, ReviewStatus, Trace } from './reviewFile';

const FILTER_KEY = 'r1.traces.filter';
const ICONS: Record<ReviewStatus, vscode.ThemeIcon> = {
  pending: new vscode.ThemeIcon('circle-large-outline', new vscode.ThemeColor('r1.review.pendingRuler')),
  accepted: new vscode.ThemeIcon('pass', new vscode.ThemeColor('r1.review.acceptedRuler')),
  rejected: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('r1.review.rejectedRuler')),
};

export type TraceNode =
  { kind: 'status'; status: ReviewStatus; count: number } | (Trace & { kind: 'trace'; uri: string });

export class TracesTree implements vscode.TreeDataProvider<TraceNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TraceNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly view: vscode.TreeView<TraceNode>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private doc: vscode.TextDocument | undefined;
  private traces: Trace[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly state: vscode.Memento) {
    this.view = vscode.window.createTreeView('r1.traces', { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(
      this.view,
      this.changeEmitter,
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && isReviewDocument(e.document)) this.show(e.document);
      }),
      // After a reload editors come back after activation: adopt a visible review file.
      vscode.window.onDidChangeVisibleTextEditors(() => {
        if (!this.doc) this.show(visibleReviewDocument());
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.doc) this.schedule();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d === this.doc) this.show(undefined);
      }),
    );
    this.show(visibleReviewDocument());
  }

  get filter(): ReviewStatus[] {
    return this.state.get<ReviewStatus[]>(FILTER_KEY, [...REVIEW_STATUSES]);
  }

  async pickFilter(): Promise<void> {
    const current = new Set(this.filter);
    const picks = await vscode.window.showQuickPick(
      REVIEW_STATUSES.map((s) => ({ label: s, picked: current.has(s) })),
      { canPickMany: true, title: 'R1: Show traces with status' },
    );
    if (!picks) return;
    await this.state.update(
      FILTER_KEY,
      picks.map((p) => p.label as ReviewStatus),
    );
    this.refresh();
  }

  show(doc: vscode.TextDocument | undefined): void {
    this.doc = doc;
    this.refresh();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 200);
  }

  refresh(): void {
    this.traces = this.doc ? readTraces(this.doc) : [];
    const counts = REVIEW_STATUSES.map((s) => `${this.traces.filter((t) => t.status === s).length} ${s}`);
    this.view.description = this.doc ? vscode.workspace.asRelativePath(this.doc.uri) : undefined;
    this.view.message = this.doc ? counts.join(' · ') : undefined;
    const pending = this.traces.filter((t) => t.status === 'pending').length;
    this.view.badge = pending ? { value: pending, tooltip: `${pending} pending traces` } : undefined;
    this.changeEmitter.fire(undefined);
  }

  getChildren(node?: TraceNode): TraceNode[] {
    if (!this.doc) return [];
    if (!node) {
      return this.filter.map((status) => ({
        kind: 'status',
        status,
        count: this.traces.filter((t) => t.status === status).length,
      }));
    }
    if (node.kind !== 'status') return [];
    const uri = this.doc.uri.toString();
    return this.traces.filter((t) => t.status === node.status).map((t) => ({ ...t, kind: 'trace', uri }));
  }

  getTreeItem(node: TraceNode): vscode.TreeItem {
    if (node.kind === 'status') {
      const item = new vscode.TreeItem(
        node.status,
        node.status === 'pending'
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.description = String(node.count);
      item.iconPath = ICONS[node.status];
      item.id = `status:${node.status}`;
      return item;
    }
    const item = new vscode.TreeItem(oneLine(node.prompt) || `line ${node.line + 1}`);
    item.id = `trace:${node.uri}:${node.line}`;
    item.description = `line ${node.line + 1}${rewardsText(node.rewards)}`;
    item.tooltip = new vscode.MarkdownString().appendCodeblock(
      `${node.prompt}\n\n${node.completion}${node.rewards ? `\n\n${JSON.stringify(node.rewards)}` : ''}`,
      'text',
    );
    item.iconPath = ICONS[node.status];
    item.contextValue = `trace.${node.status}`;
    item.command = { command: Commands.revealTrace, title: 'Show', arguments: [node.uri, node.line] };
    return item;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.subscriptions) d.dispose();
  }
}

/** The active editor's review file, else a visible one. */
function visibleReviewDocument(): vscode.TextDocument | undefined {
  const active = vscode.window.activeTextEditor?.document;
  if (active && isReviewDocument(active)) return active;
  return vscode.window.visibleTextEditors.map((e) => e.document).find((d) => isReviewDocument(d));
}

function rewardsText(rewards: Record<string, number> | undefined): string {
  if (!rewards) return '';
  const parts = Object.entries(rewards).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`);
  return parts.length ? ` · ${parts.join(', ')}` : '';
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? flat.slice(0, 79) + '…' : flat;
}

/** Opens the review file at a record. */
export async function revealTrace(uriArg: unknown, line: unknown): Promise<void> {
  if (typeof line !== 'number') return;
  const uri = uriArg instanceof vscode.Uri ? uriArg : vscode.Uri.parse(String(uriArg));
  const editor = await vscode.window.showTextDocument(uri, { preserveFocus: false });
  const pos = new vscode.Position(line, 0);
  editor.selection = new vscode.Selection(pos, pos);
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
