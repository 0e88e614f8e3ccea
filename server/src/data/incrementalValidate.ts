// Validation of a JSONL text that changes a few lines at a time (the language server's open
// documents). Each line keeps its parse and its check; an edit replaces only the lines it
// touches, and only those are parsed and checked again. What depends on the whole file is
// maintained per line instead of recomputed: the kind votes and record count (counters), and
// duplicate records (an index from duplicate key to how many lines share it).
//
// Invariant: `result()` equals `validateText(text(), file, kind)` after any sequence of edits.
import { RecordContext } from './fields';
import { parseJsonl } from './jsonl';
import { detectKind } from './kinds';
import { DATASET_KINDS, DatasetKind, Diagnostic } from './records';
import {
  checkObject,
  duplicateKey,
  noRecordsWarning,
  reportDuplicate,
  sortDiagnostics,
  type ValidationResult,
} from './validate';

const BOM = '\uFEFF';

/** Lines of one file that have the same duplicate key (only lines whose record had no error). */
interface DuplicateGroup {
  key: string;
  count: number;
}

type Parsed =
  | { kind: 'blank' }
  /** Not JSON, or JSON but not an object: one error. */
  | { kind: 'invalid'; diagnostic: Diagnostic }
  | { kind: 'object'; value: Record<string, unknown>; detected: DatasetKind | undefined };

/** One object line checked as a record of the file's kind. Line numbers inside are stale. */
interface Check {
  diagnostics: Diagnostic[];
  /** Set when the record had no error: duplicates are looked for among those only. */
  group?: DuplicateGroup;
  /** The last duplicate warning made for this line, and the first line it pointed at. */
  duplicate?: { first: number; diagnostic: Diagnostic };
}

/** One line of the file. Entries hold no line number, so they survive lines moving around them. */
export class LineEntry {
  parsed?: Parsed;
  check?: Check;

  constructor(
    /** The line as split on '\n' (a CR before the newline is still there). */
    readonly raw: string,
    /** What validation reads: `raw` without its CR, and without a BOM on the first line. */
    readonly text: string,
  ) {}

  /** The parsed object, when the line is one (after `IncrementalValidation.entry` parsed it). */
  get value(): Record<string, unknown> | undefined {
    return this.parsed?.kind === 'object' ? this.parsed.value : undefined;
  }
}

/** What validation reads of a raw line (the same as splitLines does to a whole text). */
function lineText(raw: string, first: boolean): string {
  const text = first && raw.startsWith(BOM) ? raw.slice(1) : raw;
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/**
 * Parses one line exactly as parseJsonl parses it inside a file: the text passed has `text`
 * as its only non-blank line; the leading newline keeps a BOM in `text` from being dropped and
 * the trailing CR is the one splitLines strips, so `text` arrives intact.
 */
function parseLine(text: string, file: string): Parsed {
  const { objects, diagnostics, records } = parseJsonl(`\n${text}\r`, file);
  if (records === 0) return { kind: 'blank' };
  if (objects.length === 0) return { kind: 'invalid', diagnostic: diagnostics[0] };
  const value = objects[0].value;
  return { kind: 'object', value, detected: detectKind(value)?.kind };
}

const at = (d: Diagnostic, line: number): Diagnostic => (d.line === line ? d : { ...d, line });

/** A JSONL text under edit, with its validation kept up to date line by line. */
export class IncrementalValidation {
  private entries: LineEntry[] = [];
  /** Entries not parsed yet. */
  private readonly unparsed = new Set<LineEntry>();
  /** Object entries whose check is missing. */
  private readonly unchecked = new Set<LineEntry>();
  /** Parsed object lines per detected kind: the votes that infer the file's kind. */
  private readonly votes = new Map<DatasetKind, number>(DATASET_KINDS.map((k) => [k, 0]));
  /** Non-blank parsed lines. */
  private records = 0;
  private readonly groups = new Map<string, DuplicateGroup>();
  /** The file kind every current check was made with. */
  private checkedAs: DatasetKind | undefined;

  /**
   * @param file labels diagnostics, as for validateText.
   * @param given the kind to check as; undefined infers it from the records, as validateText.
   */
  constructor(
    readonly file: string,
    text: string,
    readonly given?: DatasetKind,
  ) {
    this.setText(text);
  }

  get lineCount(): number {
    return this.entries.length;
  }

  /** The whole text (the raw lines joined again). */
  text(): string {
    return this.entries.map((e) => e.raw).join('\n');
  }

  /** Replaces the whole text; lines whose text did not change keep their results. */
  setText(text: string): void {
    this.splice(0, this.entries.length, text.split('\n'));
  }

  /**
   * Replaces the text between two offsets of the current text (start <= end) with `newText`:
   * an editor's incremental change. Only the lines the change touches are replaced.
   */
  edit(start: number, end: number, newText: string): void {
    let lineStart = 0;
    let a = 0;
    while (start > lineStart + this.entries[a].raw.length && a < this.entries.length - 1) {
      lineStart += this.entries[a].raw.length + 1;
      a++;
    }
    const aStart = lineStart;
    let b = a;
    while (end > lineStart + this.entries[b].raw.length && b < this.entries.length - 1) {
      lineStart += this.entries[b].raw.length + 1;
      b++;
    }
    const merged = this.entries[a].raw.slice(0, start - aStart) + newText + this.entries[b].raw.slice(end - lineStart);
    this.splice(a, b - a + 1, merged.split('\n'));
  }

  /** Line `i` (0-based), parsed. */
  entry(i: number): LineEntry | undefined {
    const e = this.entries[i];
    if (e && !e.parsed) this.parse(e);
    return e;
  }

  /** Every line, parsed (the array is the validator's own: do not change it). */
  lines(): readonly LineEntry[] {
    for (const e of this.unparsed) this.parse(e);
    return this.entries;
  }

  /** The file's kind: the one given, else the one most records have (ties: the one seen first). */
  kind(): DatasetKind | undefined {
    for (const e of this.unparsed) this.parse(e);
    if (this.given) return this.given;
    const max = Math.max(...this.votes.values());
    if (max === 0) return undefined;
    const best = DATASET_KINDS.filter((k) => this.votes.get(k) === max);
    if (best.length < 2) return best[0];
    // A tie: the kind whose first record comes first wins, as in inferFileKind.
    for (const e of this.entries) {
      const p = e.parsed!;
      if (p.kind === 'object' && p.detected && best.includes(p.detected)) return p.detected;
    }
    return undefined; // unreachable: every counted vote is a line
  }

  /** The same result as validateText on the current text. */
  result(): ValidationResult {
    const kind = this.kind();
    if (kind !== this.checkedAs) {
      // Every record is checked against the file's kind, so a new majority rechecks them all.
      for (const e of this.entries) if (e.parsed?.kind === 'object') this.unchecked.add(e);
      this.checkedAs = kind;
    }
    for (const e of this.unchecked) this.checkEntry(e, kind);
    this.unchecked.clear();

    const out: Diagnostic[] = [];
    const firstLine = new Map<DuplicateGroup, number>();
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      const line = i + 1;
      if (e.parsed!.kind === 'invalid') out.push(at(e.parsed!.diagnostic, line));
      if (!e.check) continue;
      const { diagnostics, group } = e.check;
      let duplicate: Diagnostic | undefined;
      if (group && group.count > 1) {
        const first = firstLine.get(group);
        if (first === undefined) firstLine.set(group, line);
        else duplicate = this.duplicateWarning(e, kind!, line, first);
      }
      if (diagnostics.length === 0 && !duplicate) continue; // most lines: nothing to allocate
      const mine = diagnostics.map((d) => at(d, line));
      if (duplicate) mine.push(duplicate);
      out.push(...sortDiagnostics(mine));
    }
    if (this.records === 0) out.push(noRecordsWarning(this.file));
    return { kind, diagnostics: out, records: this.records };
  }

  /**
   * Replaces `count` lines from `start` (0-based) with `raws` (lines as split on '\n'). Lines
   * that come back unchanged (a line split or join, a block moved) keep their results; a line
   * that moves into or out of first place reads differently if it has a BOM, so it is reused
   * only if it reads the same. (Edits always replace the lines at their edges, so a line that
   * changes place without being replaced never becomes or stops being the first.)
   */
  private splice(start: number, count: number, raws: string[]): void {
    const removed = this.entries.slice(start, start + count);
    const byRaw = new Map<string, LineEntry[]>();
    for (const e of removed) {
      const same = byRaw.get(e.raw);
      if (same) same.push(e);
      else byRaw.set(e.raw, [e]);
    }
    const kept = new Set<LineEntry>();
    const added = raws.map((raw, i) => {
      const first = start + i === 0;
      const old = byRaw.get(raw)?.pop();
      if (!old || old.text !== lineText(raw, first)) return this.fresh(raw, first);
      kept.add(old);
      return old;
    });
    this.entries = this.entries.slice(0, start).concat(added, this.entries.slice(start + count));
    for (const e of removed) if (!kept.has(e)) this.drop(e);
  }

  private fresh(raw: string, first: boolean): LineEntry {
    const e = new LineEntry(raw, lineText(raw, first));
    this.unparsed.add(e);
    return e;
  }

  private parse(e: LineEntry): void {
    this.unparsed.delete(e);
    const p = (e.parsed = parseLine(e.text, this.file));
    if (p.kind !== 'blank') this.records++;
    if (p.kind !== 'object') return;
    if (p.detected) this.votes.set(p.detected, this.votes.get(p.detected)! + 1);
    this.unchecked.add(e);
  }

  /** Takes a line that left the file out of every count and index. */
  private drop(e: LineEntry): void {
    this.unparsed.delete(e);
    this.unchecked.delete(e);
    this.release(e);
    const p = e.parsed;
    if (!p) return;
    if (p.kind !== 'blank') this.records--;
    if (p.kind === 'object' && p.detected) this.votes.set(p.detected, this.votes.get(p.detected)! - 1);
  }

  private release(e: LineEntry): void {
    const group = e.check?.group;
    e.check = undefined;
    if (!group) return;
    if (--group.count === 0) this.groups.delete(group.key);
  }

  private checkEntry(e: LineEntry, kind: DatasetKind | undefined): void {
    this.release(e);
    const diagnostics: Diagnostic[] = [];
    const ctx = new RecordContext(this.file, 1, e.text, e.value!, diagnostics);
    const record = checkObject(ctx, kind, this.given === undefined);
    e.check = { diagnostics };
    if (!record) return;
    const key = duplicateKey(kind!, record);
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = { key, count: 0 }));
    group.count++;
    e.check.group = group;
  }

  private duplicateWarning(e: LineEntry, kind: DatasetKind, line: number, first: number): Diagnostic {
    const check = e.check!;
    if (check.duplicate?.first !== first) {
      const sink: Diagnostic[] = [];
      reportDuplicate(new RecordContext(this.file, line, e.text, e.value!, sink), kind, first);
      check.duplicate = { first, diagnostic: sink[0] };
    }
    return at(check.duplicate.diagnostic, line);
  }
}
