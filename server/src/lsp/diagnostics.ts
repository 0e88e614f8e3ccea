// Diagnostics for dataset documents: everything `r1 validate` reports (validateText), plus a
// warning for a chain of thought that mixes scripts (what R1's language reward penalises).
// Validation is incremental (data/incrementalValidate.ts, kept per document by documents.ts),
// and the editor-side work per line (ranges, the language check) is kept per line as well, so
// a keystroke in a 10,000-record file costs about one line's work plus a pass over the lines.
import { Diagnostic, DiagnosticSeverity, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { LineEntry } from '../data/incrementalValidate';
import { scanJson, type Span } from '../data/jsonScan';
import type { Diagnostic as DataDiagnostic } from '../data/records';
import { languageShare, targetScripts, thinkText, type Script } from '../rewards';
import { documentState } from './documents';
import { reasoningTexts } from './records';

/**
 * Wait this long after the last keystroke before revalidating a document (by default; clients
 * may set `diagnosticsDebounceMs` in initializationOptions, see lsp/index.ts).
 */
export const DIAGNOSTICS_DEBOUNCE_MS = 200;

const SOURCE = 'r1';
const LATIN: Script[] = ['latin'];
const NON_ASCII = /[^\p{ASCII}]/u;

const TAG = /<\/?(?:think|answer)>/y;
const WORD = /[^\s,:\]}"\\]+/y;

// Per-line results, dropped with their line: an edited line is a new entry.
const spansOf = new WeakMap<LineEntry, Span[]>();
const mixedOf = new WeakMap<LineEntry, Omit<Diagnostic, 'range'> & { start: number; end: number }>();
const CLEAN = { start: 0, end: 0, message: '' }; // marks a line without a mixed-language warning

/** The end of what a diagnostic at `start` is about: a tag, a JSON value (or key + value), a word. */
function tokenEnd(entry: LineEntry, start: number): number {
  const text = entry.text;
  TAG.lastIndex = start;
  if (TAG.exec(text)) return TAG.lastIndex;
  let spans = spansOf.get(entry);
  if (!spans) spansOf.set(entry, (spans = [...scanJson(text).spans.values()]));
  for (const span of spans) {
    if (span.start === start || span.key === start) return span.end;
  }
  if (text[start] === '"') {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return i + 1;
    }
    return text.length;
  }
  WORD.lastIndex = start;
  return WORD.exec(text) ? WORD.lastIndex : start + 1;
}

function rangeAt(entry: LineEntry, line: number, character: number): Range {
  const text = entry.text;
  // An error at the end of a line (a record cut short) underlines its last character.
  const start = Math.max(0, Math.min(character, text.length - 1));
  return Range.create(line, start, line, Math.min(text.length, Math.max(tokenEnd(entry, start), start + 1)));
}

function fromValidation(d: DataDiagnostic, entry: LineEntry): Diagnostic {
  return {
    range: rangeAt(entry, d.line - 1, d.col - 1),
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: SOURCE,
    message: d.message,
    ...(d.field ? { code: d.field } : {}),
  };
}

/** The mixed-language warning of one line, if its chain of thought is not all in its target script. */
function mixedLanguage(entry: LineEntry, line: number): Diagnostic | undefined {
  let found = mixedOf.get(entry);
  if (!found) mixedOf.set(entry, (found = measureLanguage(entry) ?? CLEAN));
  if (found === CLEAN) return undefined;
  const { start, end, ...rest } = found;
  return { range: Range.create(line, start, line, end), ...rest };
}

function measureLanguage(entry: LineEntry): (Omit<Diagnostic, 'range'> & { start: number; end: number }) | undefined {
  const v = entry.value;
  if (!v) return undefined;
  let scripts = LATIN;
  let target = 'latin';
  if (typeof v.language === 'string') {
    try {
      scripts = targetScripts(v.language);
      target = v.language;
    } catch {
      return undefined; // an unknown language is reported by validation; there is nothing to measure against
    }
  }
  for (const { field, text } of reasoningTexts(v)) {
    if (!text.includes('<think>')) continue;
    const thought = thinkText(text);
    // Fast path: ASCII letters are Latin, so a pure-ASCII thought is consistent for a Latin target.
    if (scripts.includes('latin') && !NON_ASCII.test(thought)) continue;
    const share = languageShare(thought, scripts);
    if (share >= 1) continue;
    const col = Math.max(0, entry.text.indexOf(`"${field}"`));
    const pct = Math.floor(share * 100);
    // One warning per record is enough to find it.
    return {
      start: col,
      end: col + field.length + 2,
      severity: DiagnosticSeverity.Warning,
      source: SOURCE,
      code: 'mixed-language',
      message: `mixed-language chain of thought: ${pct}% of its words are in the target script (${target})`,
    };
  }
  return undefined;
}

/** All diagnostics of a dataset document, sorted by position. */
export function computeDiagnostics(doc: TextDocument): Diagnostic[] {
  const { validation } = documentState(doc);
  const out = validation.result().diagnostics.map((d) => fromValidation(d, validation.entry(d.line - 1)!));
  const lines = validation.lines();
  for (let i = 0; i < lines.length; i++) {
    const mixed = mixedLanguage(lines[i], i);
    if (mixed) out.push(mixed);
  }
  return out.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
  );
}

/**
 * Debounced publishing: a document is validated at once when first seen, then at most once per
 * pause in typing. Stale results (the document changed meanwhile) are not sent.
 */
export class DiagnosticScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly seen = new Set<string>();
  /** Quiet time after an edit before revalidating; 0 revalidates on the next tick after each edit. */
  debounceMs = DIAGNOSTICS_DEBOUNCE_MS;

  constructor(
    private readonly get: (uri: string) => TextDocument | undefined,
    private readonly publish: (uri: string, version: number | undefined, diagnostics: Diagnostic[]) => void,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  schedule(doc: TextDocument): void {
    clearTimeout(this.timers.get(doc.uri));
    const delay = this.seen.has(doc.uri) ? this.debounceMs : 0;
    this.seen.add(doc.uri);
    this.timers.set(
      doc.uri,
      setTimeout(() => this.run(doc.uri), delay),
    );
  }

  /** Forgets a closed document and clears its diagnostics. */
  clear(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.seen.delete(uri);
    this.publish(uri, undefined, []);
  }

  private run(uri: string): void {
    this.timers.delete(uri);
    const doc = this.get(uri);
    if (!doc) return;
    try {
      this.publish(uri, doc.version, computeDiagnostics(doc));
    } catch (err) {
      this.onError(err);
    }
  }
}
