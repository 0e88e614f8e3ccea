// Field readers shared by the record checkers: each reads one field of a record, reports what
// is wrong with it at the column where it appears, and returns the value only if it is usable.
import { ChatMessage } from '../tokenizer/chatTemplate';
import { Diagnostic, Prompt } from './records';
import { JsonPath, pathKey, rawStringOffset, scanJson, ScanResult } from './jsonScan';
import { jsonType } from './jsonl';
import { checkReasoningTags } from './reasoning';

type Severity = Diagnostic['severity'];

/** One record being checked: where it is, and the diagnostics found in it so far. */
export class RecordContext {
  errors = 0;
  private scan?: ScanResult;

  constructor(
    readonly file: string,
    readonly line: number,
    /** The line's raw text, for column lookups. */
    readonly text: string,
    readonly value: Record<string, unknown>,
    private readonly sink: Diagnostic[],
  ) {}

  /** True if the record has the field with a non-null value (null reads as absent, as from Python's None). */
  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  get(path: JsonPath): unknown {
    let v: unknown = this.value;
    for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
    return v;
  }

  error(message: string, path: JsonPath = [], offsetInString?: number): void {
    this.report('error', message, path, offsetInString);
  }

  warning(message: string, path: JsonPath = [], offsetInString?: number): void {
    this.report('warning', message, path, offsetInString);
  }

  report(severity: Severity, message: string, path: JsonPath = [], offsetInString?: number): void {
    if (severity === 'error') this.errors++;
    const d: Diagnostic = { file: this.file, line: this.line, col: this.col(path, offsetInString), severity, message };
    if (path.length > 0) d.field = fieldName(path);
    this.sink.push(d);
  }

  /**
   * 1-based column of a field: its key for object members, its value for array elements, or a
   * character inside a string value. A missing field falls back to its nearest present parent.
   */
  col(path: JsonPath, offsetInString?: number): number {
    this.scan ??= scanJson(this.text);
    for (let n = path.length; n > 0; n--) {
      const span = this.scan.spans.get(pathKey(path.slice(0, n)));
      if (!span) continue;
      if (offsetInString !== undefined && n === path.length)
        return rawStringOffset(this.text, span.start, offsetInString) + 1;
      return (span.key ?? span.start) + 1;
    }
    return Math.max(this.text.search(/\S/), 0) + 1;
  }
}

/** `['messages', 2, 'role']` -> `messages[2].role`, the way users write a field. */
export function fieldName(path: JsonPath): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

interface StringOptions {
  required: boolean;
  /** Empty or whitespace-only text is an error unless this is set. */
  emptyOk?: boolean;
  /** Accept a JSON number and return it as text (datasets often store numeric answers so). */
  numberOk?: boolean;
}

/** Reads a string field. Absent optional fields give undefined without a diagnostic. */
export function readString(ctx: RecordContext, path: JsonPath, opts: StringOptions): string | undefined {
  const v = ctx.get(path);
  const name = fieldName(path);
  if (v === undefined || v === null) {
    if (opts.required) ctx.error(`missing required field "${name}"`, path);
    return undefined;
  }
  if (typeof v === 'number' && opts.numberOk && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') {
    ctx.error(`field "${name}" must be a string, got ${jsonType(v)}`, path);
    return undefined;
  }
  if (!opts.emptyOk && v.trim() === '') {
    ctx.error(`field "${name}" is empty`, path);
    return undefined;
  }
  return v;
}

/** Reads a field that must be one of a few strings; absent gives undefined. */
export function readEnum<T extends string>(
  ctx: RecordContext,
  key: string,
  values: readonly T[],
  required: boolean,
): T | undefined {
  const v = readString(ctx, [key], { required, emptyOk: true });
  if (v === undefined) return undefined;
  if ((values as readonly string[]).includes(v)) return v as T;
  const expected = values.map((x) => `"${x}"`).join(', ');
  ctx.error(`field "${key}" must be one of ${expected}, got "${v}"`, [key]);
  return undefined;
}

/** Reads an optional array of strings (e.g. code tests). */
export function readStringArray(ctx: RecordContext, key: string): string[] | undefined {
  const v = ctx.get([key]);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    ctx.error(`field "${key}" must be an array of strings, got ${jsonType(v)}`, [key]);
    return undefined;
  }
  const bad = v.findIndex((x) => typeof x !== 'string');
  if (bad >= 0) {
    ctx.error(`field "${key}[${bad}]" must be a string, got ${jsonType(v[bad])}`, [key, bad]);
    return undefined;
  }
  return v as string[];
}

/** Reads a required JSON object field. */
export function readObject(ctx: RecordContext, key: string): Record<string, unknown> | undefined {
  const v = ctx.get([key]);
  if (v === undefined || v === null) {
    ctx.error(`missing required field "${key}"`, [key]);
    return undefined;
  }
  if (jsonType(v) !== 'object') {
    ctx.error(`field "${key}" must be an object, got ${jsonType(v)}`, [key]);
    return undefined;
  }
  return v as Record<string, unknown>;
}

const ROLES: readonly string[] = ['system', 'user', 'assistant'];

/** Reads an array of chat messages at `path`; every bad message is reported. */
export function readMessages(ctx: RecordContext, path: JsonPath): ChatMessage[] | undefined {
  const v = ctx.get(path);
  const name = fieldName(path);
  if (!Array.isArray(v)) {
    ctx.error(`field "${name}" must be an array of messages, got ${jsonType(v)}`, path);
    return undefined;
  }
  if (v.length === 0) {
    ctx.error(`field "${name}" is an empty list of messages`, path);
    return undefined;
  }
  const before = ctx.errors;
  v.forEach((m: unknown, i) => {
    const at = [...path, i];
    if (jsonType(m) !== 'object') {
      ctx.error(`${fieldName(at)} must be an object with "role" and "content", got ${jsonType(m)}`, at);
      return;
    }
    const role = readString(ctx, [...at, 'role'], { required: true, emptyOk: true });
    if (role !== undefined && !ROLES.includes(role)) {
      ctx.error(`unknown role "${role}" in ${fieldName(at)} (expected "system", "user" or "assistant")`, [
        ...at,
        'role',
      ]);
    }
    // Empty content is allowed here (e.g. an empty system message); completions check their own.
    readString(ctx, [...at, 'content'], { required: true, emptyOk: true });
  });
  return ctx.errors === before ? (v as ChatMessage[]) : undefined;
}

/** Reads a prompt: non-empty text, or a non-empty conversation. */
export function readPrompt(ctx: RecordContext, key: string): Prompt | undefined {
  const v = ctx.get([key]);
  if (Array.isArray(v)) return readMessages(ctx, [key]);
  if (v !== undefined && v !== null && typeof v !== 'string') {
    ctx.error(`field "${key}" must be a string or an array of messages, got ${jsonType(v)}`, [key]);
    return undefined;
  }
  return readString(ctx, [key], { required: true });
}

/** A completion-like field: its text, the conversation before it, and where the text sits. */
export interface Reply {
  content: string;
  /** Messages before the final assistant message (TRL's implicit-prompt form); usually empty. */
  prefix: ChatMessage[];
  path: JsonPath;
}

/**
 * Reads a completion, chosen or rejected field: text, or (TRL's conversational form) messages
 * ending with the assistant reply, whose content is the text.
 */
export function readReply(ctx: RecordContext, key: string): Reply | undefined {
  const v = ctx.get([key]);
  if (!Array.isArray(v)) {
    if (v !== undefined && v !== null && typeof v !== 'string') {
      ctx.error(`field "${key}" must be a string or an array of messages, got ${jsonType(v)}`, [key]);
      return undefined;
    }
    const content = readString(ctx, [key], { required: true });
    return content === undefined ? undefined : { content, prefix: [], path: [key] };
  }
  const messages = readMessages(ctx, [key]);
  if (!messages) return undefined;
  const last = messages.length - 1;
  if (messages[last].role !== 'assistant') {
    ctx.error(`field "${key}" must end with an assistant message, got role "${messages[last].role}"`, [key, last]);
    return undefined;
  }
  const path = [key, last, 'content'];
  if (messages[last].content.trim() === '') {
    ctx.error(`field "${fieldName(path)}" is empty`, path);
    return undefined;
  }
  return { content: messages[last].content, prefix: messages.slice(0, last), path };
}

/** Appends the conversation a reply carried to the prompt. */
export function withPrefix(prompt: Prompt, prefix: ChatMessage[]): Prompt {
  if (prefix.length === 0) return prompt;
  const head: ChatMessage[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
  return [...head, ...prefix];
}

/** Reports template problems of a reasoning text at the offending tag; `severity` is for structure problems. */
export function checkReasoning(ctx: RecordContext, text: string, path: JsonPath, severity: Severity): void {
  for (const issue of checkReasoningTags(text)) {
    const level = issue.kind === 'no-answer' ? 'warning' : severity;
    ctx.report(level, `${fieldName(path)}: ${issue.message}`, path, issue.offset);
  }
}
