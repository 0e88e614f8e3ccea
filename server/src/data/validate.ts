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

type AnyRecord = RecordOfKind[DatasetKind];

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
    if (kind === undefined) {
      ctx.error(UNKNOWN_KIND_MESSAGE);
      continue;
    }
    const mismatch = kindMismatch(value, kind, given === undefined);
    if (mismatch) {
      ctx.error(mismatch);
      continue;
    }
    const record = CHECKERS[kind](ctx);
    if (!record) continue;
    parsed.push(record);

    const key = duplicateKey(kind, record);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, line);
    else {
      const what = kind === 'review' ? 'record: same prompt and completion' : 'prompt: same';
      ctx.warning(`duplicate ${what} as line ${first}`, [promptField(value)]);
    }
  }
  if (records === 0)
    diagnostics.push({ file, line: 1, col: 1, severity: 'warning', message: 'no records in this file' });
  return { kind, diagnostics: sortDiagnostics(diagnostics), records, parsed };
}

// Review files legitimately hold several traces per prompt (K samples each); only an identical
// trace is a duplicate there. For the other kinds a repeated prompt skews training or eval.
function duplicateKey(kind: DatasetKind, record: AnyRecord): string {
  return JSON.stringify(
    kind === 'review' ? [record.prompt, (record as RecordOfKind['review']).completion] : record.prompt,
  );
}

function promptField(value: Record<string, unknown>): string {
  return ['prompt', 'messages', 'question', 'chosen'].find((k) => value[k] !== undefined) ?? 'prompt';
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
}
