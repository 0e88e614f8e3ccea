// Dataset checks over a file read line by line (jsonl.ts's openDataLines), for `r1 validate` and
// the loaders: the same diagnostics as validate.ts's validateFile / parseRecords, without the
// file's text, its lines and every parsed line held at once. Memory is the records kept (none for
// validation), the diagnostics and one duplicate key per record (hashed when long).
import { createHash } from 'node:crypto';
import { RecordOfKind } from './checkers';
import { RecordContext } from './fields';
import { FileLine, LineSource, openDataLines, parseJsonlLine } from './jsonl';
import { detectKind } from './kinds';
import { DatasetKind, Diagnostic } from './records';
import {
  AnyRecord,
  checkObject,
  duplicateKey,
  noRecordsWarning,
  reportDuplicate,
  sortDiagnostics,
  ValidationResult,
} from './validate';

export interface StreamAnalysis<R> extends ValidationResult {
  /** The records without errors, in file order (only when asked to keep them). */
  parsed: R[];
}

/** `validateFile`, streaming: reads and checks a dataset file; an unreadable file gives one error. */
export function validateFileStreaming(file: string, kind?: DatasetKind): ValidationResult {
  const opened = openDataLines(file);
  if ('diagnostics' in opened) return { kind, diagnostics: opened.diagnostics, records: 0 };
  const { parsed: _none, ...result } = analyzeLines(opened.lines, file, kind, false);
  return result;
}

/**
 * The records of one kind in a file, with every diagnostic (what the loaders use); undefined
 * `parsed` and the read error when the file cannot be read.
 */
export function parseFileRecords<K extends DatasetKind>(
  file: string,
  kind: K,
): StreamAnalysis<RecordOfKind[K]> | { unreadable: Diagnostic[] } {
  const opened = openDataLines(file);
  if ('diagnostics' in opened) return { unreadable: opened.diagnostics };
  return analyzeLines(opened.lines, file, kind, true) as StreamAnalysis<RecordOfKind[K]>;
}

/**
 * Checks the lines of `source` as a dataset of `given` (inferred first, in a pass of its own,
 * when not given). Diagnostics are those of validateFile, in its order.
 */
export function analyzeLines(
  source: LineSource,
  file: string,
  given: DatasetKind | undefined,
  keepRecords: boolean,
): StreamAnalysis<AnyRecord> {
  const kind = given ?? inferKind(source());
  const diagnostics: Diagnostic[] = [];
  const parsed: AnyRecord[] = [];
  const seen = new Map<string, number>(); // duplicate key (hashed if long) -> first line
  let records = 0;
  for (const { line, text } of source(diagnostics)) {
    if (text.trim() === '') continue;
    records++;
    const value = parseJsonlLine(text, line, file, diagnostics);
    if (!value) continue;
    const ctx = new RecordContext(file, line, text, value, diagnostics);
    const record = checkObject(ctx, kind, given === undefined);
    if (!record) continue;
    if (keepRecords) parsed.push(record);
    const key = compactKey(duplicateKey(kind!, record));
    const first = seen.get(key);
    if (first === undefined) seen.set(key, line);
    else reportDuplicate(ctx, kind!, first);
  }
  if (records === 0) diagnostics.push(noRecordsWarning(file));
  // Stable: on one line and column, the UTF-8 error (found while reading) stays first, as in validateFile.
  return { kind, diagnostics: sortDiagnostics(diagnostics), records, parsed };
}

/** inferFileKind over a stream: the kind most records have, ties to the kind seen first. */
function inferKind(lines: Iterable<FileLine>): DatasetKind | undefined {
  const votes = new Map<DatasetKind, number>();
  const ignored: Diagnostic[] = []; // reported by the checking pass
  for (const { line, text } of lines) {
    if (text.trim() === '') continue;
    const value = parseJsonlLine(text, line, '', ignored);
    ignored.length = 0;
    const kind = value && detectKind(value)?.kind;
    if (kind) votes.set(kind, (votes.get(kind) ?? 0) + 1);
  }
  let best: DatasetKind | undefined;
  for (const [kind, n] of votes) if (best === undefined || n > votes.get(best)!) best = kind;
  return best;
}

/** Long keys (a whole conversation, a long completion) kept as a 128-bit hash. */
function compactKey(key: string): string {
  return key.length <= 40 ? key : '#' + createHash('sha256').update(key).digest('base64').slice(0, 22);
}
