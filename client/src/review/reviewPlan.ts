// What a review action changes, planned from the text as it is when the edit is applied (pure; no
// vscode). A record is addressed by its line's text when the action started, not by its line
// number alone: lines move (records added above, the file reloaded after a change on disk), and a
// status can change under an action (an earlier accept), so the plan finds the record again and
// refuses when it is gone, instead of editing whatever now sits on that line.
import { parseRecord, recordLine } from './recordText';

type JsonObject = Record<string, unknown>;

/** Read access to a document's lines (a vscode.TextDocument, or an array in tests). */
export interface Lines {
  readonly lineCount: number;
  lineAt(i: number): string;
}

export const arrayLines = (a: readonly string[]): Lines => ({ lineCount: a.length, lineAt: (i) => a[i] });

/** A record as the action saw it: where it was and its exact text. */
export interface RecordRef {
  line: number;
  text: string;
}

/** A record's identity: all of it but its review status (JSON, keys in file order). */
export function recordIdentity(text: string): string | undefined {
  const rec = parseRecord(text);
  if (!rec) return undefined;
  const rest: JsonObject = { ...rec };
  delete rest.status;
  return JSON.stringify(rest);
}

export type Located = { line: number; text: string } | { error: string };

/**
 * Finds the record of `ref` in `lines`: on its line if unchanged, else the nearest line with the
 * same text, else the nearest with the same record apart from its status. Identical lines are
 * interchangeable, so "nearest" only keeps the choice stable.
 */
export function locateRecord(lines: Lines, ref: RecordRef): Located {
  if (ref.line < lines.lineCount && lines.lineAt(ref.line) === ref.text) return { line: ref.line, text: ref.text };
  const nearest = (match: (text: string) => boolean): number => {
    let best = -1;
    for (let i = 0; i < lines.lineCount; i++) {
      if (match(lines.lineAt(i)) && (best < 0 || Math.abs(i - ref.line) < Math.abs(best - ref.line))) best = i;
    }
    return best;
  };
  let at = nearest((t) => t === ref.text);
  const identity = recordIdentity(ref.text);
  if (at < 0 && identity !== undefined) at = nearest((t) => t.length > 0 && recordIdentity(t) === identity);
  if (at < 0) {
    return {
      error: `the record on line ${ref.line + 1} was changed or removed since the action started; nothing was changed`,
    };
  }
  return { line: at, text: lines.lineAt(at) };
}

/** An edit within one line's text (character offsets), as the daemon returns them. */
export interface InlineEdit {
  start: number;
  end: number;
  newText: string;
}

export function applyInline(text: string, edits: readonly InlineEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

export type StatusPlan =
  | {
      line: number;
      /** The status the record has now (it decides whether curated.jsonl loses the pair). */
      previous: unknown;
      /** The line's new text; undefined when the record already has the status. */
      newText?: string;
      record: JsonObject;
    }
  | { error: string };

/**
 * Sets `status` on the record of `ref`. `inline` (the daemon's edits, made against `ref.text`)
 * keeps the line's formatting when the line is unchanged; otherwise the record is rewritten from
 * its current text, so a status changed meanwhile is not undone by a stale edit.
 */
export function planStatus(lines: Lines, ref: RecordRef, status: string, inline?: readonly InlineEdit[]): StatusPlan {
  const at = locateRecord(lines, ref);
  if ('error' in at) return at;
  const record = parseRecord(at.text)!;
  const base = { line: at.line, previous: record.status, record };
  if (record.status === status) return base;
  const newText = at.text === ref.text && inline?.length ? applyInline(ref.text, inline) : undefined;
  // The daemon's edits must give the same record with the new status; anything else is not used.
  if (
    newText !== undefined &&
    recordIdentity(newText) === recordIdentity(at.text) &&
    parseRecord(newText)?.status === status
  )
    return { ...base, newText };
  return { ...base, newText: recordLine({ ...record, status }) };
}

// ---- curated.jsonl ----

export interface Pair {
  prompt: unknown;
  completion: unknown;
}

export const pairOf = (record: JsonObject): Pair => ({ prompt: record.prompt, completion: record.completion });

/** The curated.jsonl line of a pair. */
export const pairLine = (pair: Pair): string => recordLine({ prompt: pair.prompt, completion: pair.completion });

/** Whether a curated line holds the pair (by value, so a reformatted line still counts). */
export function holdsPair(text: string, pair: Pair): boolean {
  const rec = parseRecord(text);
  return (
    !!rec &&
    JSON.stringify(rec.prompt) === JSON.stringify(pair.prompt) &&
    JSON.stringify(rec.completion) === JSON.stringify(pair.completion)
  );
}

export type CuratedPlan =
  | { kind: 'none' }
  /** The file does not exist: create it with `text`. */
  | { kind: 'create'; text: string }
  | { kind: 'insert'; line: number; character: number; text: string }
  /** Delete the line, its line break included. */
  | { kind: 'delete'; line: number };

/**
 * Adds the pair at the end of curated.jsonl (`lines` undefined: no file yet) unless it is there,
 * or takes it out; planned from the current text, so two accepts never add it twice.
 */
export function planCurated(lines: Lines | undefined, pair: Pair, op: 'add' | 'remove'): CuratedPlan {
  let found = -1;
  for (let i = 0; lines && i < lines.lineCount && found < 0; i++) if (holdsPair(lines.lineAt(i), pair)) found = i;
  if (op === 'remove') return found < 0 ? { kind: 'none' } : { kind: 'delete', line: found };
  if (found >= 0) return { kind: 'none' };
  if (!lines) return { kind: 'create', text: pairLine(pair) + '\n' };
  const last = lines.lineCount - 1;
  const lastText = lines.lineAt(last);
  return {
    kind: 'insert',
    line: last,
    character: lastText.length,
    text: (lastText ? '\n' : '') + pairLine(pair) + '\n',
  };
}

/** Runs async tasks one at a time, in call order (review actions and record saves share one). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => task());
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The one queue of the review actions in this extension host. */
export const reviewQueue = new SerialQueue();
