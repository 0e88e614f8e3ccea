// A small JSON scanner that knows where things are. JSON.parse stays the authority on values
// (it is fast and exact); this scanner runs only for lines that need a diagnostic, to find
// where a syntax error is (Node's messages do not reliably give a position) and at which
// column a field's key or value sits.

/** Where one value sits in the scanned text: 0-based offsets; `key` is its property name's quote. */
export interface Span {
  key?: number;
  start: number;
  end: number;
}

/** A path into a JSON value: property names and array indices, e.g. `['messages', 2, 'role']`. */
export type JsonPath = readonly (string | number)[];

export interface ScanResult {
  /** The first syntax error, if the text is not valid JSON. */
  error?: { offset: number; message: string };
  /** Spans of every value scanned before any error, keyed by `pathKey(path)`. */
  spans: Map<string, Span>;
}

/** The map key for a path; a separator that cannot occur in this file's field names. */
export function pathKey(path: JsonPath): string {
  return path.join('\u0000');
}

class SyntaxProblem {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = '"\\/bfnrt';

class Scanner {
  pos = 0;
  readonly spans = new Map<string, Span>();

  constructor(private readonly text: string) {}

  fail(message: string, at = this.pos): never {
    throw new SyntaxProblem(at, message);
  }

  /** The character at the cursor, quoted for a message, or "end of line". */
  here(): string {
    const ch = this.text[this.pos];
    return ch === undefined ? 'end of line' : `'${ch}'`;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos])) this.pos++;
  }

  value(path: (string | number)[], key?: number): void {
    this.skipSpace();
    const start = this.pos;
    const ch = this.text[this.pos];
    if (ch === '{') this.object(path);
    else if (ch === '[') this.array(path);
    else if (ch === '"') this.string();
    else if (ch === '-' || (ch >= '0' && ch <= '9')) this.number();
    else if (!this.literal()) this.fail(`unexpected ${this.here()}, expected a value`);
    this.spans.set(pathKey(path), { key, start, end: this.pos });
  }

  object(path: (string | number)[]): void {
    this.pos++; // '{'
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail(`expected a property name in double quotes, got ${this.here()}`);
      const keyAt = this.pos;
      const name = JSON.parse(this.text.slice(keyAt, this.string())) as string;
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after property name "${name}", got ${this.here()}`);
      this.pos++;
      this.value([...path, name], keyAt);
      if (this.endOfItem('}')) return;
    }
  }

  array(path: (string | number)[]): void {
    this.pos++; // '['
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.value([...path, i]);
      if (this.endOfItem(']')) return;
    }
  }

  /** After a member or element: true at the closing bracket, false after a comma. */
  endOfItem(close: '}' | ']'): boolean {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === close) {
      this.pos++;
      return true;
    }
    if (ch !== ',') this.fail(`expected ',' or '${close}', got ${this.here()}`);
    const comma = this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === close) this.fail(`trailing comma before '${close}'`, comma);
    return false;
  }

  /** Scans a string literal at the cursor; returns the offset just past its closing quote. */
  string(): number {
    const start = this.pos++;
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail('unterminated string', start);
      if (ch === '"') return ++this.pos;
      if (ch === '\\') {
        const esc = this.text[this.pos + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('bad \\u escape');
          this.pos += 6;
        } else if (esc !== undefined && ESCAPES.includes(esc)) this.pos += 2;
        else this.fail(`bad escape '\\${esc ?? ''}' in string`);
      } else if (ch < ' ') this.fail('control character in string (write it as an escape such as \\n)');
      else this.pos++;
    }
  }

  number(): void {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail(`unexpected ${this.here()}, expected a value`);
    this.pos += m[0].length;
  }

  literal(): boolean {
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return true;
      }
    }
    return false;
  }
}

/** Scans one JSON text, recording the span of every value and the first syntax error. */
export function scanJson(text: string): ScanResult {
  const scanner = new Scanner(text);
  try {
    scanner.value([]);
    scanner.skipSpace();
    if (scanner.pos < text.length) scanner.fail(`unexpected ${scanner.here()} after the JSON value`);
    return { spans: scanner.spans };
  } catch (e) {
    if (e instanceof SyntaxProblem) return { error: { offset: e.offset, message: e.message }, spans: scanner.spans };
    // Absurdly deep nesting overflows the stack: give up on positions, not on the file.
    return { spans: scanner.spans };
  }
}

/**
 * Maps an index into a decoded string value to the offset of that character in the raw
 * literal that starts (with its opening quote) at `literalStart`. Escapes such as `\n` are two
 * raw characters for one decoded one, so tags in long completions need this to be underlined.
 */
export function rawStringOffset(text: string, literalStart: number, index: number): number {
  let raw = literalStart + 1;
  for (let decoded = 0; decoded < index && raw < text.length && text[raw] !== '"'; decoded++) {
    raw += text[raw] !== '\\' ? 1 : text[raw + 1] === 'u' ? 6 : 2;
  }
  return raw;
}
