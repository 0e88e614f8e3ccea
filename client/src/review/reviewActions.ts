// Accept / Reject / Score / Edit of one record. Every change goes through a WorkspaceEdit on the
// editor's documents, so it is undoable and never overwrites a file the user has open.
import * as vscode from 'vscode';
import type { ReviewParams, ReviewResult } from '../../../server/src/protocol/messages';
import { Ctx, messageOf } from '../ctx';
import * as ext from '../lspExt';
import { readSettings } from '../settings';
import { CuratedPlan, InlineEdit, Lines, pairOf, planCurated, planStatus, RecordRef, reviewQueue } from './reviewPlan';
import { ReviewStatus, traceAt } from './reviewFile';

export const CURATED_FILE = 'curated.jsonl';

/** A record addressed by a code lens ([uri, line]) or, without arguments, the cursor. */
export interface RecordTarget {
  doc: vscode.TextDocument;
  line: number;
  /** Invoked on the active editor (move on to the next record afterwards). */
  fromEditor: boolean;
}

export async function resolveTarget(uriArg?: unknown, lineArg?: unknown): Promise<RecordTarget | undefined> {
  // A tree item of the traces view carries { uri, line }.
  if (uriArg && typeof uriArg === 'object' && !(uriArg instanceof vscode.Uri) && 'line' in uriArg) {
    const node = uriArg as { uri: unknown; line: unknown };
    return resolveTarget(node.uri, node.line);
  }
  if (uriArg !== undefined && typeof lineArg === 'number') {
    const uri = uriArg instanceof vscode.Uri ? uriArg : vscode.Uri.parse(String(uriArg));
    return { doc: await vscode.workspace.openTextDocument(uri), line: lineArg, fromEditor: false };
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('R1: put the cursor on a record of a JSONL file first.');
    return undefined;
  }
  return { doc: editor.document, line: editor.selection.active.line, fromEditor: true };
}

const ACTION_STATUS: Record<'accept' | 'reject', ReviewStatus> = { accept: 'accepted', reject: 'rejected' };
/** Tries at applying one action while the files keep changing under it (each retry re-plans). */
const APPLY_ATTEMPTS = 3;

/** Accept / Reject, one action at a time (a second keypress waits for the first's edit). */
export function reviewTrace(ctx: Ctx, action: 'accept' | 'reject', uriArg?: unknown, lineArg?: unknown) {
  return reviewQueue.run(() => reviewTraceNow(ctx, action, uriArg, lineArg));
}

async function reviewTraceNow(ctx: Ctx, action: 'accept' | 'reject', uriArg?: unknown, lineArg?: unknown) {
  const target = await resolveTarget(uriArg, lineArg);
  if (!target) return;
  const { doc, line } = target;
  if (line >= doc.lineCount || !traceAt(doc, line)) {
    void vscode.window.showWarningMessage(`R1: line ${line + 1} is not a review record (it has no "status").`);
    return;
  }
  // The record as the action sees it; whatever happens to the file while the daemon answers, the
  // edit goes to this record (found again by its text) or nowhere.
  const ref: RecordRef = { line, text: doc.lineAt(line).text };
  const wasDirty = new Set(vscode.workspace.textDocuments.filter((d) => d.isDirty).map((d) => d.uri.toString()));
  const inline = await daemonInlineEdits(ctx, doc, { uri: doc.uri.toString(), line, action });
  const status = ACTION_STATUS[action];
  const curated = curatedUri(doc.uri);

  for (let attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
    const curatedDoc =
      curated && (await exists(curated)) ? await vscode.workspace.openTextDocument(curated) : undefined;
    // No await from here to applyEdit: the edit is planned on the texts VS Code checks it against
    // (an edit made for an older version of a document is refused, and planned again).
    const plan = planStatus(docLines(doc), ref, status, inline);
    if ('error' in plan) {
      void vscode.window.showWarningMessage(
        `R1: ${action} ${vscode.workspace.asRelativePath(doc.uri)}: ${plan.error}.`,
      );
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    const touched = new Set<string>();
    if (plan.newText !== undefined) {
      edit.replace(doc.uri, doc.lineAt(plan.line).range, plan.newText);
      touched.add(doc.uri.toString());
    }
    let curatedNote = '';
    if (curated) {
      const op = action === 'accept' ? 'add' : plan.previous === 'accepted' ? 'remove' : undefined;
      const change = op ? planCurated(curatedDoc && docLines(curatedDoc), pairOf(plan.record), op) : undefined;
      curatedNote = change ? curatedEdit(edit, curated, curatedDoc, change) : '';
      if (curatedNote) touched.add(curated.toString());
    }
    if (touched.size === 0 || (await vscode.workspace.applyEdit(edit))) {
      await saveUntouched(touched, wasDirty);
      if (curatedNote) ctx.output.appendLine(`[review] line ${plan.line + 1}: ${curatedNote}`);
      if (target.fromEditor) revealNextPending(doc, plan.line);
      return;
    }
    ctx.output.appendLine(`[review] ${action} line ${plan.line + 1}: the edit was refused (attempt ${attempt})`);
  }
  throw new Error(
    `could not apply the ${action} edit to ${vscode.workspace.asRelativePath(doc.uri)}: the files kept changing; nothing was changed`,
  );
}

const docLines = (doc: vscode.TextDocument): Lines => ({
  lineCount: doc.lineCount,
  lineAt: (i) => doc.lineAt(i).text,
});

/**
 * The daemon's edits as edits within the record's line (it keeps the line's formatting), or
 * undefined when it cannot answer or answers for another place (the record is then rewritten).
 */
async function daemonInlineEdits(
  ctx: Ctx,
  doc: vscode.TextDocument,
  params: ReviewParams,
): Promise<InlineEdit[] | undefined> {
  let result: ReviewResult | undefined;
  try {
    result = await ctx.request(ext.review, params);
  } catch (err) {
    ctx.output.appendLine(`[review] ${params.action} line ${params.line + 1} locally: ${messageOf(err)}`);
    return undefined;
  }
  const edits = result && Array.isArray(result.edits) ? result.edits : [];
  const inLine = (e: (typeof edits)[number]) =>
    vscode.Uri.parse(e.uri).toString() === doc.uri.toString() &&
    e.range.start.line === params.line &&
    e.range.end.line === params.line;
  if (edits.length === 0 || !edits.every(inLine)) return undefined;
  return edits.map((e) => ({ start: e.range.start.character, end: e.range.end.character, newText: e.newText }));
}

export function curatedUri(reviewUri: vscode.Uri): vscode.Uri | undefined {
  if (reviewUri.scheme !== 'file') return undefined;
  return vscode.Uri.joinPath(reviewUri, '..', CURATED_FILE);
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Adds the curated.jsonl change to `edit`; says what it did ('' for nothing). */
function curatedEdit(
  edit: vscode.WorkspaceEdit,
  curated: vscode.Uri,
  doc: vscode.TextDocument | undefined,
  change: CuratedPlan,
): string {
  const name = vscode.workspace.asRelativePath(curated);
  switch (change.kind) {
    case 'none':
      return '';
    case 'create':
      // Not ignoreIfExists: a curated.jsonl that appeared meanwhile fails the edit, which is then
      // planned again as an append (ignoring it would drop the pair).
      edit.createFile(curated, { overwrite: false, contents: new TextEncoder().encode(change.text) });
      return `created ${name}`;
    case 'insert':
      edit.insert(curated, new vscode.Position(change.line, change.character), change.text);
      return `appended to ${name}`;
    case 'delete':
      edit.delete(curated, doc!.lineAt(change.line).rangeIncludingLineBreak);
      return `removed from ${name}`;
  }
}

/** Saves the documents an action changed that had no unsaved changes of the user's before it. */
async function saveUntouched(touched: Set<string>, wasDirty: Set<string>): Promise<void> {
  if (!readSettings().autoSave) return;
  for (const doc of vscode.workspace.textDocuments) {
    const key = doc.uri.toString();
    if (touched.has(key) && !wasDirty.has(key) && doc.isDirty && doc.uri.scheme === 'file') await doc.save();
  }
}

function revealNextPending(doc: vscode.TextDocument, from: number): void {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document !== doc) return;
  for (let i = from + 1; i < doc.lineCount; i++) {
    if (traceAt(doc, i)?.status === 'pending') {
      const pos = new vscode.Position(i, 0);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return;
    }
  }
}

export async function scoreSample(ctx: Ctx, uriArg?: unknown, lineArg?: unknown): Promise<void> {
  const target = await resolveTarget(uriArg, lineArg);
  if (!target) return;
  const { doc, line } = target;
  const result = await ctx.request(ext.score, { uri: doc.uri.toString(), line });
  const parts = Object.entries(result.rewards).map(([k, v]) => `${k} ${formatNumber(v)}`);
  void vscode.window.showInformationMessage(
    `R1: line ${line + 1} — ${parts.join(' · ') || 'no rewards apply'} — total ${formatNumber(result.total)} (${result.tokens} tokens)`,
  );
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
