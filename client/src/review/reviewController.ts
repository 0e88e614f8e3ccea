// Review files in the editor: a decoration per record by status, the `r1.isReviewFile` context
// key for the keyboard shortcuts, and an Edit code lens (the daemon adds Score/Accept/Reject).
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { isReviewDocument, readTraces, ReviewStatus } from './reviewFile';

const DEBOUNCE_MS = 150;

export class ReviewController implements vscode.Disposable, vscode.CodeLensProvider {
  private readonly decorations: Record<ReviewStatus, vscode.TextEditorDecorationType>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(extensionUri: vscode.Uri) {
    const icon = (name: string) => vscode.Uri.joinPath(extensionUri, 'media', 'icons', `${name}.svg`);
    const type = (status: ReviewStatus, extra: vscode.DecorationRenderOptions = {}) =>
      vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        gutterIconPath: icon(status),
        gutterIconSize: '70%',
        backgroundColor: new vscode.ThemeColor(`r1.review.${status}Background`),
        overviewRulerColor: new vscode.ThemeColor(`r1.review.${status}Ruler`),
        overviewRulerLane: vscode.OverviewRulerLane.Left,
        ...extra,
      });
    this.decorations = {
      pending: type('pending'),
      accepted: type('accepted'),
      rejected: type('rejected', { opacity: '0.65' }),
    };
    this.subscriptions.push(
      ...Object.values(this.decorations),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (vscode.window.visibleTextEditors.some((ed) => ed.document === e.document)) this.schedule();
      }),
      vscode.languages.registerCodeLensProvider([{ language: 'jsonl' }, { pattern: '**/*.review.jsonl' }], this),
    );
    this.refresh();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), DEBOUNCE_MS);
  }

  refresh(): void {
    const active = vscode.window.activeTextEditor?.document;
    void vscode.commands.executeCommand('setContext', 'r1.isReviewFile', !!active && isReviewDocument(active));
    for (const editor of vscode.window.visibleTextEditors) {
      const byStatus: Record<ReviewStatus, vscode.Range[]> = { pending: [], accepted: [], rejected: [] };
      if (isReviewDocument(editor.document)) {
        for (const t of readTraces(editor.document)) byStatus[t.status].push(new vscode.Range(t.line, 0, t.line, 0));
      }
      for (const status of Object.keys(byStatus) as ReviewStatus[]) {
        editor.setDecorations(this.decorations[status], byStatus[status]);
      }
    }
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!isReviewDocument(doc)) return [];
    return readTraces(doc).map(
      (t) =>
        new vscode.CodeLens(new vscode.Range(t.line, 0, t.line, 0), {
          title: '$(edit) Edit',
          tooltip: 'Edit the prompt and completion unescaped (Edit Trace)',
          command: Commands.editTrace,
          arguments: [doc.uri.toString(), t.line],
        }),
    );
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.subscriptions) d.dispose();
  }
}
