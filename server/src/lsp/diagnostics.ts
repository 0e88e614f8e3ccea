// Diagnostics for dataset documents: everything `r1 validate` reports (validateText), plus a
// warning for a chain of thought that mixes scripts (what R1's language reward penalises).
// Recomputed on a short debounce so typing in a 10,000-record file stays responsive.
import { Diagnostic, DiagnosticSeverity, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { scanJson } from '../data/jsonScan';
import { validateText } from '../data/validate';
import { languageShare, targetScripts, thinkText, type Script } from '../rewards';
import { documentLines, LineRecord } from './documents';
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

/** The end of what a diagnostic at `start` is about: a tag, a JSON value (or key + value), a word. */
function tokenEnd(text: string, start: number): number {
  TAG.lastIndex = start;
  if (TAG.exec(text)) return TAG.lastIndex;
  for (const span of scanJson(text).spans.values()) {
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

function rangeAt(lines: LineRecord[], line: number, character: number): Range {
  const text = lines[line]?.text ?? '';
  // An error at the end of a line (a record cut short) underlines its last character.
  const start = Math.max(0, Math.min(character, text.length - 1));
  return Range.create(line, start, line, Math.min(text.length, Math.max(tokenEnd(text, start), start + 1)));
}

/** The mixed-language warning of one record, if its chain of thought is not all in its target script. */
function mixedLanguage(rec: LineRecord): Diagnostic[] {
  const v = rec.value;
  if (!v) return [];
  let scripts = LATIN;
  let target = 'latin';
  if (typeof v.language === 'string') {
    try {
      scripts = targetScripts(v.language);
      target = v.language;
    } catch {
      return []; // an unknown language is reported by validation; there is nothing to measure against
    }
  }
  const out: Diagnostic[] = [];
  for (const { field, text } of reasoningTexts(v)) {
    if (!text.includes('<think>')) continue;
    const thought = thinkText(text);
    // Fast path: ASCII letters are Latin, so a pure-ASCII thought is consistent for a Latin target.
    if (scripts.includes('latin') && !NON_ASCII.test(thought)) continue;
    const share = languageShare(thought, scripts);
    if (share >= 1) continue;
    const col = Math.max(0, rec.text.indexOf(`"${field}"`));
    const pct = Math.floor(share * 100);
    out.push({
      range: Range.create(rec.line, col, rec.line, col + field.length + 2),
      severity: DiagnosticSeverity.Warning,
      source: SOURCE,
      code: 'mixed-language',
      message: `mixed-language chain of thought: ${pct}% of its words are in the target script (${target})`,
    });
    break; // one warning per record is enough to find it
  }
  return out;
}

/** All diagnostics of a dataset document; `file` labels nothing here but validation needs it. */
export function computeDiagnostics(doc: TextDocument, file = doc.uri): Diagnostic[] {
  const lines = documentLines(doc);
  const { diagnostics } = validateText(doc.getText(), file);
  const out: Diagnostic[] = diagnostics.map((d) => ({
    range: rangeAt(lines, d.line - 1, d.col - 1),
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: SOURCE,
    message: d.message,
    ...(d.field ? { code: d.field } : {}),
  }));
  for (const rec of lines) out.push(...mixedLanguage(rec));
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
