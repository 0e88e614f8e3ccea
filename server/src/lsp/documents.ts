// Dataset documents as the language features see them: which documents are datasets, and
// their lines parsed and validated incrementally. Each open document keeps an
// IncrementalValidation that the document sync feeds with every change (trackedDocuments), so
// an edit re-parses only the lines it touches; hover, code lenses, symbols and diagnostics all
// read the same per-line parse.
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TextDocumentContentChangeEvent, TextDocumentsConfiguration } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { IncrementalValidation, type LineEntry } from '../data/incrementalValidate';
import { UserError } from '../util/errors';

/** One line of a JSONL document; `value` is set when the line parses as a JSON object. */
export interface LineRecord {
  /** 0-based line number. */
  line: number;
  text: string;
  value?: Record<string, unknown>;
}

/** Whether a document is a JSONL dataset (VS Code's `jsonl` language, or any `*.jsonl` file). */
export function isDatasetDocument(doc: { uri: string; languageId: string }): boolean {
  return doc.languageId === 'jsonl' || /\.jsonl$/i.test(doc.uri);
}

/** What is kept per document: its lines as of `version`, and the line records built from them. */
interface DocumentState {
  version: number;
  validation: IncrementalValidation;
  /** The line records of `version`, and the entries they were made from (to reuse unmoved ones). */
  records?: { version: number; entries: LineEntry[]; lines: LineRecord[] };
}

// Keyed by the document object: the open-document store updates one object in place, and a
// document created elsewhere (a file read from disk, a test) never picks up another's state.
const states = new WeakMap<TextDocument, DocumentState>();

/**
 * The document's incremental state, brought up to date: after changes seen by
 * trackedDocuments it is current already; otherwise (a document it did not see change) the
 * whole text is compared line by line, and unchanged lines keep their results.
 */
export function documentState(doc: TextDocument): DocumentState {
  let state = states.get(doc);
  if (!state) {
    state = { version: doc.version, validation: new IncrementalValidation(doc.uri, doc.getText()) };
    states.set(doc, state);
  } else if (state.version !== doc.version) {
    state.validation.setText(doc.getText());
    state.version = doc.version;
  }
  return state;
}

/**
 * How the open-document store (TextDocuments) creates and updates documents: as usual, and
 * each incremental change is also applied to the document's validation state, if it has one.
 */
export const trackedDocuments: TextDocumentsConfiguration<TextDocument> = {
  create: (uri, languageId, version, content) => TextDocument.create(uri, languageId, version, content),
  update(doc, changes, version) {
    const state = states.get(doc);
    // A state that missed a change resyncs from the text on its next use.
    if (!state || state.version !== doc.version) return TextDocument.update(doc, changes, version);
    for (const change of changes) {
      applyChange(state.validation, doc, change);
      TextDocument.update(doc, [change], version);
    }
    state.version = version;
    return doc;
  },
};

/** Applies one change to `validation`, reading its range against `doc` before the change. */
function applyChange(
  validation: IncrementalValidation,
  doc: TextDocument,
  change: TextDocumentContentChangeEvent,
): void {
  if (!('range' in change)) return validation.setText(change.text);
  const start = doc.offsetAt(change.range.start);
  const end = doc.offsetAt(change.range.end);
  validation.edit(Math.min(start, end), Math.max(start, end), change.text);
}

const toLineRecord = (line: number, e: LineEntry): LineRecord => ({ line, text: e.text, value: e.value });

/**
 * Every line of the document, parsed; the array is shared until the document's version changes.
 * A line whose text and number did not change keeps its LineRecord object, so what the
 * features derive from a record (symbols, lenses) can be kept per record.
 */
export function documentLines(doc: TextDocument): LineRecord[] {
  const state = documentState(doc);
  if (state.records?.version !== doc.version) {
    const before = state.records;
    const entries = [...state.validation.lines()];
    const lines = entries.map((e, i) => (before?.entries[i] === e ? before.lines[i] : toLineRecord(i, e)));
    state.records = { version: doc.version, entries, lines };
  }
  return state.records.lines;
}

/** One line, parsed (through the document's state when it is current, else just that line). */
export function lineRecord(doc: TextDocument, line: number): LineRecord | undefined {
  if (line < 0 || line >= doc.lineCount) return undefined;
  const state = states.get(doc);
  if (state?.version === doc.version) {
    const e = state.validation.entry(line);
    return e && toLineRecord(line, e);
  }
  const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return parseLine(line, text.replace(/\r?\n$/, ''));
}

function parseLine(line: number, text: string): LineRecord {
  if (!text.trim()) return { line, text };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return { line, text, value: value as Record<string, unknown> };
  } catch {
    // not JSON: the diagnostics say why
  }
  return { line, text };
}

/** Drops a closed document's state. */
export function forgetDocument(doc: TextDocument): void {
  states.delete(doc);
}

/**
 * The document for `uri`: the editor's copy when it is open (unsaved edits count), else the
 * file on disk.
 */
export function documentFor(uri: string, open: (uri: string) => TextDocument | undefined): TextDocument {
  const doc = open(uri);
  if (doc) return doc;
  let text: string;
  try {
    text = fs.readFileSync(uri.startsWith('file:') ? fileURLToPath(uri) : uri, 'utf8');
  } catch (err) {
    throw new UserError(`${uri}: cannot read (${(err as Error).message})`);
  }
  return TextDocument.create(uri, 'jsonl', 0, text);
}

/** A line that must hold a JSON object record, or a UserError naming it (1-based, as users count). */
export function recordAt(doc: TextDocument, line: number): Required<LineRecord> {
  const rec = lineRecord(doc, line);
  if (!rec?.value) throw new UserError(`${doc.uri}:${line + 1}: not a JSON object record`);
  return rec as Required<LineRecord>;
}
