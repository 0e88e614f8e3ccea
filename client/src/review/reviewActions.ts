// Accept / Reject / Score / Edit of one record. Every change goes through a WorkspaceEdit on the
// editor's documents, so it is undoable and never overwrites a file the user has open.
import * as vscode from 'vscode';
import type { ReviewParams, ReviewResult } from '../../../server/src/protocol/messages';
import { Ctx, messageOf } from '../ctx';
import * as ext from '../lspExt';
import { readSettings } from '../settings';
import { parseRecord, recordLine } from './recordText';
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

export async function reviewTrace(ctx: Ctx, action: 'accept' | 'reject', uriArg?: unknown, lineArg?: unknown) {
  const target = await resolveTarget(uriArg, lineArg);
  if (!target) return;
  const { doc, line } = target;
  const trace = traceAt(doc, line);
  if (!trace) {
    void vscode.window.showWarningMessage(`R1: line ${line + 1} is not a review record (it has no "status").`);
    return;
  }
  const record = parseRecord(doc.lineAt(line).text)!;
  const wasDirty = new Set(vscode.workspace.textDocuments.filter((d) => d.isDirty).map((d) => d.uri.toString()));

  const edit = new vscode.WorkspaceEdit();
  const daemonEdits = await reviewEdits(ctx, { uri: doc.uri.toString(), line, action });
  const touched = new Set<string>();
  if (daemonEdits) {
    for (const e of daemonEdits.edits) {
      const uri = vscode.Uri.parse(e.uri);
      touched.add(uri.toString());
      const r = e.range;
      edit.replace(uri, new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character), e.newText);
    }
  } else {
    // Local fallback: set the status field, keep everything else.
    edit.replace(doc.uri, doc.lineAt(line).range, recordLine({ ...record, status: ACTION_STATUS[action] }));
    touched.add(doc.uri.toString());
  }

  // The curated SFT dataset beside the review file, unless the daemon's edits already cover it.
  const curated = curatedUri(doc.uri);
  let curatedNote = '';
  if (curated && !touched.has(curated.toString())) {
    const pair = recordLine({ prompt: record.prompt, completion: record.completion });
    if (action === 'accept') curatedNote = await appendCurated(edit, curated, pair);
    else if (trace.status === 'accepted') curatedNote = await removeCurated(edit, curated, pair);
    if (curatedNote) touched.add(curated.toString());
  }

  if (!(await vscode.workspace.applyEdit(edit))) {
    throw new Error(`could not apply the ${action} edit to ${vscode.workspace.asRelativePath(doc.uri)}`);
  }
  await saveUntouched(touched, wasDirty);
  if (curatedNote) ctx.output.appendLine(`[review] line ${line + 1}: ${curatedNote}`);
  if (target.fromEditor) revealNextPending(doc, line);
}

/** The daemon's edits, or undefined when it cannot answer (the caller edits locally). */
async function reviewEdits(ctx: Ctx, params: ReviewParams): Promise<ReviewResult | undefined> {
  try {
    const result = await ctx.request(ext.review, params);
    return result && Array.isArray(result.edits) && result.edits.length > 0 ? result : undefined;
  } catch (err) {
    ctx.output.appendLine(`[review] ${params.action} line ${params.line + 1} locally: ${messageOf(err)}`);
    return undefined;
  }
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

/** Adds the pair at the end of curated.jsonl (created if needed); a pair already there is not repeated. */
async function appendCurated(edit: vscode.WorkspaceEdit, curated: vscode.Uri, pair: string): Promise<string> {
  const name = vscode.workspace.asRelativePath(curated);
  if (!(await exists(curated))) {
    edit.createFile(curated, { ignoreIfExists: true, contents: new TextEncoder().encode(pair + '\n') });
    return `created ${name}`;
  }
  const doc = await vscode.workspace.openTextDocument(curated);
  for (let i = 0; i < doc.lineCount; i++) if (doc.lineAt(i).text === pair) return '';
  const last = doc.lineAt(doc.lineCount - 1);
  edit.insert(curated, last.range.end, (last.text.length > 0 ? '\n' : '') + pair + '\n');
  return `appended to ${name}`;
}

/** Takes a pair back out of curated.jsonl when its trace is rejected after being accepted. */
async function removeCurated(edit: vscode.WorkspaceEdit, curated: vscode.Uri, pair: string): Promise<string> {
  if (!(await exists(curated))) return '';
  const doc = await vscode.workspace.openTextDocument(curated);
  for (let i = 0; i < doc.lineCount; i++) {
    if (doc.lineAt(i).text === pair) {
      edit.delete(curated, doc.lineAt(i).rangeIncludingLineBreak);
      return `removed from ${vscode.workspace.asRelativePath(curated)}`;
    }
  }
  return '';
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
