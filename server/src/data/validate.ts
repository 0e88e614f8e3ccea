// Dataset validation: the pure core (`validateText`, reusable by the language server on unsaved
// editor text) and the file wrapper behind `r1 validate`. The loaders build on the same core.
import { CHECKERS, RecordOfKind } from './checkers';
import { RecordContext } from './fields';
import { parseJsonl, readDataFile } from './jsonl';
import { inferFileKind, kindMismatch, UNKNOWN_KIND_MESSAGE } from './kinds';
import { DatasetKind, Diagnostic } from './records';

/** What validating one file found. */
export interface ValidationResult {
  /** The kind the file was checked as: the one given, else the one most records have. */
  kind: DatasetKind | undefined;
  /** Every problem, sorted by line and column. */
  diagnostics: Diagnostic[];
  /** Non-blank lines, i.e. records, whether valid or not. */
  records: number;
}

/** A record of any kind. */
export type AnyRecord = RecordOfKind[DatasetKind];

interface Analysis<R> extends ValidationResult {
  /** The records without errors, in file order. */
  parsed: R[];
}

/**
 * Checks JSONL text as a dataset of `kind` (inferred from the records when not given).
 * `file` is only used to label diagnostics.
 */
export function validateText(text: string, file: string, kind?: DatasetKind): ValidationResult {
  const result = analyze(text, file, kind);
  return { kind: result.kind, diagnostics: result.diagnostics, records: result.records };
}

/** Reads and checks a dataset file; an unreadable file gives one error diagnostic. */
export function validateFile(file: string, kind?: DatasetKind): ValidationResult {
  const read = readDataFile(file);
  if (read.text === undefined) return { kind, diagnostics: read.diagnostics, records: 0 };
  const result = validateText(read.text, file, kind);
  return { ...result, diagnostics: sortDiagnostics([...read.diagnostics, ...result.diagnostics]) };
}

/** Parses JSONL text into records of one kind, with every diagnostic (used by the loaders). */
export function parseRecords<K extends DatasetKind>(text: string, file: string, kind: K): Analysis<RecordOfKind[K]> {
  return analyze(text, file, kind) as Analysis<RecordOfKind[K]>;
}

function analyze(text: string, file: string, given?: DatasetKind): Analysis<AnyRecord> {
  const { objects, diagnostics, records } = parseJsonl(text, file);
  const kind = given ?? inferFileKind(objects.map((o) => o.value));
  const parsed: AnyRecord[] = [];
  const seen = new Map<string, number>(); // duplicate key -> first line

  for (const { line, text: lineText, value } of objects) {
    const ctx = new RecordContext(file, line, lineText, value, diagnostics);
    const record = checkObject(ctx, kind, given === undefined);
    if (!record) continue;
    parsed.push(record);

    const key = duplicateKey(kind!, record);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, line);
    else reportDuplicate(ctx, kind!, first);
  }
  if (records === 0) diagnostics.push(noRecordsWarning(file));
  return { kind, diagnostics: sortDiagnostics(diagnostics), records, parsed };
}

/**
 * Checks one JSON object line as a record of the file's `kind` (undefined: no kind could be
 * told); problems go to `ctx`. Returns the typed record if the line had no error. `inferred`
 * says the kind came from the records rather than from the user. One line's result depends
 * only on its text, `kind` and `inferred` (the incremental validator relies on this).
 */
export function checkObject(
  ctx: RecordContext,
  kind: DatasetKind | undefined,
  inferred: boolean,
): AnyRecord | undefined {
  if (kind === undefined) {
    ctx.error(UNKNOWN_KIND_MESSAGE);
    return undefined;
  }
  const mismatch = kindMismatch(ctx.value, kind, inferred);
  if (mismatch) {
    ctx.error(mismatch);
    return undefined;
  }
  return CHECKERS[kind](ctx);
}

/**
 * Two records with the same key are duplicates. Review files legitimately hold several traces
 * per prompt (K samples each); only an identical trace is a duplicate there. For the other
 * kinds a repeated prompt skews training or eval.
 */
export function duplicateKey(kind: DatasetKind, record: AnyRecord): string {
  return JSON.stringify(
    kind === 'review' ? [record.prompt, (record as RecordOfKind['review']).completion] : record.prompt,
  );
}

/** Warns that the record in `ctx` repeats the one on line `first` (1-based). */
export function reportDuplicate(ctx: RecordContext, kind: DatasetKind, first: number): void {
  const what = kind === 'review' ? 'record: same prompt and completion' : 'prompt: same';
  ctx.warning(`duplicate ${what} as line ${first}`, [promptField(ctx.value)]);
}

/** The warning for a file without a single non-blank line. */
export function noRecordsWarning(file: string): Diagnostic {
  return { file, line: 1, col: 1, severity: 'warning', message: 'no records in this file' };
}

function promptField(value: Record<string, unknown>): string {
  return ['prompt', 'messages', 'question', 'chosen'].find((k) => value[k] !== undefined) ?? 'prompt';
}

/** Sorts by line, then column; stable, so one line's problems keep the order they were found in. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
}
