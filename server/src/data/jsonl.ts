// Reading data files and splitting JSONL into parsed lines, with diagnostics for what cannot
// be read or parsed. Kind-specific checks live in fields.ts and checkers.ts.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { Diagnostic } from './records';
import { scanJson } from './jsonScan';

/** One non-blank line of a JSONL file whose text parsed as a JSON object. */
export interface JsonlObject {
  /** 1-based line number. */
  line: number;
  /** The line's text, without its line ending. */
  text: string;
  value: Record<string, unknown>;
}

/** The parsed objects of a JSONL text, and the lines that were not objects. */
export interface JsonlParse {
  objects: JsonlObject[];
  diagnostics: Diagnostic[];
  /** Non-blank lines, parsed or not: the number of records the file claims to hold. */
  records: number;
}

/** Splits text into lines without their endings (LF or CRLF); a leading BOM is dropped. */
export function splitLines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** The JSON type name of a value, as users know it: `null` and `array` are their own names. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Parses JSONL text: blank lines are skipped; each other line must be one JSON object. */
export function parseJsonl(text: string, file: string): JsonlParse {
  const result: JsonlParse = { objects: [], diagnostics: [], records: 0 };
  splitLines(text).forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    result.records++;
    const value = parseJsonlLine(lineText, i + 1, file, result.diagnostics);
    if (value) result.objects.push({ line: i + 1, text: lineText, value });
  });
  return result;
}

/** One non-blank line as a JSON object, or undefined with its diagnostic added to `sink`. */
export function parseJsonlLine(
  lineText: string,
  line: number,
  file: string,
  sink: Diagnostic[],
): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(lineText);
  } catch (e) {
    sink.push(invalidJson(file, line, lineText, e));
    return undefined;
  }
  if (jsonType(value) !== 'object') {
    const col = lineText.search(/\S/) + 1;
    const message = `expected a JSON object on each line, got ${jsonType(value)}`;
    sink.push({ file, line, col, severity: 'error', message });
    return undefined;
  }
  return value as Record<string, unknown>;
}

function invalidJson(file: string, line: number, text: string, cause: unknown): Diagnostic {
  const found = scanJson(text).error;
  if (!found) {
    // The scanner agrees with JSON.parse on all valid JSON; this is the nesting-depth fallback.
    return { file, line, col: 1, severity: 'error', message: `invalid JSON: ${(cause as Error).message}` };
  }
  // A record broken over several lines fails at the end of its first line; say why.
  const hint = found.offset >= text.trimEnd().length ? ' (each JSONL record must be on a single line)' : '';
  return { file, line, col: found.offset + 1, severity: 'error', message: `invalid JSON: ${found.message}${hint}` };
}

/** A file's text, or why it could not be read (missing file, not UTF-8). */
export interface FileText {
  text?: string;
  diagnostics: Diagnostic[];
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'file not found',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
};

/**
 * Reads a UTF-8 file. Bytes that are not UTF-8 are reported per line (they would otherwise turn
 * silently into U+FFFD and train the model on garbage); the text is still returned so the rest
 * of the file can be checked.
 */
export function readDataFile(file: string): FileText {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return { diagnostics: [cannotRead(file, e)] };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), diagnostics: [] };
  } catch {
    const text = new TextDecoder('utf-8').decode(bytes);
    return { text, diagnostics: invalidUtf8Lines(file, bytes) };
  }
}

function cannotRead(file: string, e: unknown): Diagnostic {
  const err = e as NodeJS.ErrnoException;
  const reason = (err.code && READ_ERRORS[err.code]) ?? err.message;
  return { file, line: 1, col: 1, severity: 'error', message: `cannot read file: ${reason}` };
}

// ---- streaming: large files line by line, in bounded memory ----

/** One line of a data file: what readDataFile + splitLines give for it, 1-based. */
export interface FileLine {
  line: number;
  text: string;
}

/**
 * A data file's lines, read in chunks (re-readable: kind inference reads a file twice). Invalid
 * UTF-8 is reported to `sink` exactly as readDataFile reports it.
 */
export type LineSource = (sink?: Diagnostic[]) => Iterable<FileLine>;

/** Bytes read at a time; a line longer than this is assembled from several reads. */
const CHUNK_BYTES = 1 << 20;

/**
 * The file's lines as a LineSource, or why it cannot be read (the same diagnostic readDataFile
 * gives). `chunkBytes`: bytes read at a time (tests use tiny ones to cut lines and characters).
 */
export function openDataLines(
  file: string,
  chunkBytes = CHUNK_BYTES,
): { lines: LineSource } | { diagnostics: Diagnostic[] } {
  try {
    const fd = openSync(file, 'r');
    try {
      if (fstatSync(fd).isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return { diagnostics: [cannotRead(file, e)] };
  }
  return { lines: (sink) => readLines(file, sink ?? [], chunkBytes) };
}

function* readLines(file: string, sink: Diagnostic[], chunkBytes: number): Generator<FileLine> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let pending: Buffer[] = []; // the current line's bytes from earlier reads
    let line = 1;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
      const chunk = buf.subarray(0, n);
      let start = 0;
      for (let nl; (nl = chunk.indexOf(0x0a, start)) >= 0; start = nl + 1) {
        const bytes = pending.length
          ? Buffer.concat([...pending, chunk.subarray(start, nl)])
          : chunk.subarray(start, nl);
        pending = [];
        yield { line, text: decodeLine(bytes, line, file, sink) };
        line++;
      }
      if (start < n) pending.push(Buffer.from(chunk.subarray(start))); // copied: buf is reused
    }
    yield { line, text: decodeLine(Buffer.concat(pending), line, file, sink) };
  } finally {
    closeSync(fd);
  }
}

// `ignoreBOM` keeps U+FEFF: only the file's first line loses its BOM, as in readDataFile.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function decodeLine(bytes: Uint8Array, line: number, file: string, sink: Diagnostic[]): string {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = lenientUtf8.decode(bytes);
    // The column as invalidUtf8Lines counts it (its decoder drops a BOM at the line's start).
    const col = new TextDecoder('utf-8').decode(bytes).indexOf('\uFFFD') + 1;
    sink.push({ file, line, col: Math.max(col, 1), severity: 'error', message: 'invalid UTF-8 byte sequence' });
  }
  // readDataFile's decoder drops the file's BOM, then splitLines drops one more.
  if (line === 1) text = text.replace(/^\uFEFF/, '').replace(/^\uFEFF/, '');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

function invalidUtf8Lines(file: string, bytes: Buffer): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const strict = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    const chunk = bytes.subarray(start, end);
    try {
      strict.decode(chunk);
    } catch {
      const col = new TextDecoder('utf-8').decode(chunk).indexOf('\uFFFD') + 1;
      diagnostics.push({
        file,
        line,
        col: Math.max(col, 1),
        severity: 'error',
        message: 'invalid UTF-8 byte sequence',
      });
    }
    start = end + 1;
  }
  return diagnostics;
}
