// Telling dataset kinds apart from the fields a record has, so `r1 validate FILE` works without
// `--kind` and a record of the wrong kind is reported instead of being misread.
import { DATASET_KINDS, DatasetKind } from './records';

type Fields = Record<string, unknown>;

const has = (r: Fields, key: string): boolean => r[key] !== undefined && r[key] !== null;

/** The kind a record's fields say it is, with the fields that said so; undefined if unclear. */
export function detectKind(r: Fields): { kind: DatasetKind; fields: string[] } | undefined {
  // Most specific first: review records also have prompt+completion, and often an answer.
  if (has(r, 'status') && has(r, 'rewards')) return { kind: 'review', fields: ['status', 'rewards'] };
  if (has(r, 'chosen') && has(r, 'rejected')) return { kind: 'preference', fields: ['chosen', 'rejected'] };
  if (has(r, 'messages')) return { kind: 'sft', fields: ['messages'] };
  if (has(r, 'prompt') && has(r, 'completion')) return { kind: 'sft', fields: ['prompt', 'completion'] };
  const prompt = has(r, 'prompt') ? 'prompt' : has(r, 'question') ? 'question' : undefined;
  // A general RL prompt may have no answer, but then it names its task.
  const target = has(r, 'answer') ? 'answer' : has(r, 'task') ? 'task' : undefined;
  if (prompt && target) return { kind: 'rl', fields: [prompt, target] };
  return undefined;
}

/** The kind most records have (ties go to the kind seen first); undefined if none is recognisable. */
export function inferFileKind(records: Fields[]): DatasetKind | undefined {
  const votes = new Map<DatasetKind, number>();
  for (const r of records) {
    const kind = detectKind(r)?.kind;
    if (kind) votes.set(kind, (votes.get(kind) ?? 0) + 1);
  }
  let best: DatasetKind | undefined;
  for (const [kind, n] of votes) if (best === undefined || n > votes.get(best)!) best = kind;
  return best;
}

// Fields only records of that kind have (or that a record of the kind is missing the rest of).
const DISTINCTIVE: Record<DatasetKind, readonly string[]> = {
  sft: ['messages', 'completion'],
  rl: ['answer', 'question', 'task', 'tests'],
  preference: ['chosen', 'rejected'],
  review: ['status', 'rewards', 'source'],
};

/**
 * The message for a record that belongs to another kind than its file, or undefined. A record
 * that has any field distinctive of the file's kind is checked as that kind instead, so that a
 * half-written record gets "missing field" rather than "wrong kind". Review and preference
 * records are unmistakable, though: a review record in an SFT file would train on rejected traces.
 */
export function kindMismatch(r: Fields, fileKind: DatasetKind, inferred: boolean): string | undefined {
  const found = detectKind(r);
  if (!found || found.kind === fileKind) return undefined;
  const strong = found.kind === 'review' || found.kind === 'preference';
  if (!strong && DISTINCTIVE[fileKind].some((k) => has(r, k))) return undefined;
  const fields = found.fields.map((f) => `"${f}"`).join(' and ');
  const file = inferred
    ? `but most records in this file are ${fileKind} records`
    : `not ${article(fileKind)} ${fileKind} record`;
  return `this looks like ${article(found.kind)} ${found.kind} record (it has ${fields}), ${file}`;
}

/** The message for a record whose kind cannot be told, in a file whose kind cannot either. */
export const UNKNOWN_KIND_MESSAGE =
  'cannot tell what kind of record this is: expected "prompt" and "completion" or "messages" (sft), ' +
  '"prompt" or "question" with "answer" (rl), "prompt", "chosen" and "rejected" (preference), ' +
  `or "status" and "rewards" (review); pass the kind (${DATASET_KINDS.join(', ')}) to check it as one`;

// Read aloud, "sft" and "rl" start with a vowel sound.
function article(kind: DatasetKind): string {
  return kind === 'sft' || kind === 'rl' ? 'an' : 'a';
}
