// A JSONL record's text fields shown unescaped and multi-line, and parsed back (pure; no vscode).
//
//   === prompt ===
//   What is 12 + 34?
//   === completion ===
//   <think>
//   ...
//   </think>
//   <answer>46</answer>
//
// Each field is a header line `=== <path> ===` and then its text verbatim; the newline before the
// next header belongs to the layout, not to the field. Fields not shown are kept as they were.

export const RECORD_LANGUAGE = 'r1-record';
export const RECORD_SCHEME = 'r1-record';

/** Top-level string fields shown, in this order. */
const TEXT_FIELDS = ['prompt', 'question', 'completion', 'chosen', 'rejected', 'answer', 'text'] as const;
/** Fields that may hold a conversation (a list of `{role, content}`). */
const MESSAGE_FIELDS = ['messages', 'prompt', 'completion', 'chosen', 'rejected'] as const;

type JsonObject = Record<string, unknown>;
type Path = (string | number)[];

export interface TextField {
  /** Where the text lives, e.g. `['completion']` or `['messages', 2, 'content']`. */
  path: Path;
  /** Header name, e.g. `completion` or `messages[2].content`. */
  name: string;
  /** Shown after the name, e.g. the message's role. */
  note?: string;
  text: string;
}

const HEADER = /^=== ([A-Za-z_][\w]*(?:\[\d+\]\.content)?)(?: \(([^)\n]*)\))? ===$/;

/** The record's editable text fields. */
export function textFields(record: JsonObject): TextField[] {
  const out: TextField[] = [];
  for (const key of MESSAGE_FIELDS) {
    const v = record[key];
    if (!Array.isArray(v)) continue;
    v.forEach((m, i) => {
      if (m && typeof m === 'object' && typeof (m as JsonObject).content === 'string') {
        const role = (m as JsonObject).role;
        out.push({
          path: [key, i, 'content'],
          name: `${key}[${i}].content`,
          note: typeof role === 'string' ? role : undefined,
          text: (m as JsonObject).content as string,
        });
      }
    });
  }
  for (const key of TEXT_FIELDS) {
    if (typeof record[key] === 'string') out.push({ path: [key], name: key, text: record[key] as string });
  }
  // Conversation fields first only for `messages`; keep the natural prompt -> completion order.
  return out.sort((a, b) => fieldRank(a.path[0]) - fieldRank(b.path[0]));
}

function fieldRank(key: string | number): number {
  const order = ['messages', 'prompt', 'question', 'completion', 'chosen', 'rejected', 'answer', 'text'];
  const i = order.indexOf(String(key));
  return i < 0 ? order.length : i;
}

/** Parses one JSONL line as a record (an object), or undefined. */
export function parseRecord(line: string): JsonObject | undefined {
  if (!line.trim()) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** The document text for a record. */
export function renderRecord(record: JsonObject): string {
  return textFields(record)
    .map((f) => `=== ${f.name}${f.note ? ` (${f.note})` : ''} ===\n${f.text}\n`)
    .join('');
}

/** Splits an edited document into its fields; only headers of fields the record had count. */
export function parseRecordText(text: string, known: Set<string>): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (current !== undefined) fields.set(current, lines.join('\n'));
  };
  const all = text.replace(/\r\n/g, '\n').split('\n');
  // The layout puts a newline after each field's text: the final empty element is not content.
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  for (const line of all) {
    const m = HEADER.exec(line);
    if (m && known.has(m[1])) {
      flush();
      current = m[1];
      lines = [];
    } else if (current !== undefined) {
      lines.push(line);
    } else if (line.trim()) {
      throw new Error(`text before the first field header: "${line.slice(0, 40)}"`);
    }
  }
  flush();
  return fields;
}

/** The record with the edited fields put back; other fields and key order are kept. */
export function applyRecordText(record: JsonObject, text: string): JsonObject {
  const fields = textFields(record);
  const edited = parseRecordText(text, new Set(fields.map((f) => f.name)));
  const out = structuredClone(record);
  for (const f of fields) {
    const value = edited.get(f.name);
    if (value === undefined) throw new Error(`the field header "=== ${f.name} ===" is missing`);
    setPath(out, f.path, value);
  }
  return out;
}

function setPath(obj: JsonObject, path: Path, value: string): void {
  let cur: unknown = obj;
  for (const key of path.slice(0, -1)) cur = (cur as Record<string | number, unknown>)[key];
  (cur as Record<string | number, unknown>)[path[path.length - 1]] = value;
}

/** One JSONL line (no newline): JSON escapes every control character, so it stays one line. */
export function recordLine(record: JsonObject): string {
  return JSON.stringify(record);
}
