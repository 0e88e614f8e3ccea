// `r1-record:` documents: one JSONL record's text fields, unescaped and multi-line. Reading
// renders the record from the editor's current text; saving parses the fields back and replaces
// that one line through a WorkspaceEdit (undoable), with a valid escaped JSONL line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from '../settings';
import { applyRecordText, parseRecord, RECORD_LANGUAGE, RECORD_SCHEME, recordLine, renderRecord } from './recordText';
import { RecordTarget } from './reviewActions';
import { locateRecord, reviewQueue } from './reviewPlan';

interface RecordRef {
  source: vscode.Uri;
  line: number;
}

export class RecordFileSystem implements vscode.FileSystemProvider {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changeEmitter.event;
  /** The line each open record document was rendered from, to find it again if lines moved. */
  private readonly originals = new Map<string, string>();
  private readonly mtimes = new Map<string, number>();
  /** Where each record was last found (it may have moved from the line in its URI). */
  private readonly lines = new Map<string, number>();

  static uriFor(source: vscode.Uri, line: number): vscode.Uri {
    const name = `${path.posix.basename(source.path)} line ${line + 1}.${RECORD_LANGUAGE}`;
    return vscode.Uri.from({
      scheme: RECORD_SCHEME,
      path: `/${name}`,
      query: JSON.stringify({ source: source.toString(), line }),
    });
  }

  private static ref(uri: vscode.Uri): RecordRef {
    try {
      const q = JSON.parse(uri.query) as { source: string; line: number };
      return { source: vscode.Uri.parse(q.source), line: q.line };
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
  }

  /**
   * The source line of a record document now: where it was rendered from if unchanged, else the
   * record found again (lines added or removed above, or its status changed by Accept/Reject
   * meanwhile); an error when the record itself changed, rather than editing another line.
   */
  private async sourceLine(uri: vscode.Uri): Promise<{ doc: vscode.TextDocument; line: number; text: string }> {
    const { source, line } = RecordFileSystem.ref(uri);
    const doc = await vscode.workspace.openTextDocument(source);
    const key = uri.toString();
    const original = this.originals.get(key);
    if (original === undefined) {
      if (line >= doc.lineCount) throw vscode.FileSystemError.FileNotFound(uri);
      return { doc, line, text: doc.lineAt(line).text };
    }
    const at = locateRecord(
      { lineCount: doc.lineCount, lineAt: (i) => doc.lineAt(i).text },
      { line: this.lines.get(key) ?? line, text: original },
    );
    if ('error' in at) throw vscode.FileSystemError.Unavailable(`${source.fsPath}: ${at.error}`);
    this.lines.set(key, at.line);
    return { doc, line: at.line, text: at.text };
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    return { type: vscode.FileType.File, ctime: 0, mtime: this.mtimes.get(uri.toString()) ?? Date.now(), size: 0 };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { text, line } = await this.sourceLine(uri);
    const record = parseRecord(text);
    if (!record) throw vscode.FileSystemError.Unavailable(`line ${line + 1} is not a JSON object`);
    this.originals.set(uri.toString(), text);
    return new TextEncoder().encode(renderRecord(record));
  }

  /** Saving puts the fields back into the record's line; one at a time with Accept/Reject. */
  writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    return reviewQueue.run(() => this.writeRecord(uri, content));
  }

  private async writeRecord(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    // No await between finding the line and applyEdit, so the edit is for the text it was planned on.
    const { doc, line, text } = await this.sourceLine(uri);
    const record = parseRecord(text);
    if (!record) throw vscode.FileSystemError.Unavailable(`line ${line + 1} is not a JSON object`);
    let updated: string;
    try {
      updated = recordLine(applyRecordText(record, new TextDecoder().decode(content)));
    } catch (err) {
      throw vscode.FileSystemError.Unavailable(`cannot save the record: ${(err as Error).message}`);
    }
    if (updated !== text) {
      const wasDirty = doc.isDirty;
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, doc.lineAt(line).range, updated);
      if (!(await vscode.workspace.applyEdit(edit)))
        throw vscode.FileSystemError.Unavailable(`${doc.uri.fsPath} changed while saving the record; save again`);
      if (!wasDirty && readSettings().autoSave && doc.uri.scheme === 'file') await doc.save();
    }
    this.originals.set(uri.toString(), updated);
    this.mtimes.set(uri.toString(), Date.now());
    this.changeEmitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): void {
    this.originals.delete(uri.toString());
    this.lines.delete(uri.toString());
  }

  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}

/** Opens a record's fields in an `r1-record:` editor beside the JSONL file. */
export async function editRecord(target: RecordTarget): Promise<void> {
  const { doc, line } = target;
  if (!parseRecord(doc.lineAt(line).text)) {
    void vscode.window.showWarningMessage(`R1: line ${line + 1} is not a JSON record.`);
    return;
  }
  const uri = RecordFileSystem.uriFor(doc.uri, line);
  const recordDoc = await vscode.workspace.openTextDocument(uri);
  if (recordDoc.languageId !== RECORD_LANGUAGE)
    await vscode.languages.setTextDocumentLanguage(recordDoc, RECORD_LANGUAGE);
  await vscode.window.showTextDocument(recordDoc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
}
