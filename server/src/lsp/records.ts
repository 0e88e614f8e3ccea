// What the language features read from a raw record (any dataset kind, spec §3): its prompt
// for labels, its completion for scoring, and the texts whose chain of thought is checked.
import type { RewardContext } from '../rewards';

type Json = Record<string, unknown>;

function contentOf(messages: unknown, role: string, which: 'first' | 'last'): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  const hits = messages.filter((m: Json | null) => m?.role === role && typeof m.content === 'string');
  const m = which === 'first' ? hits[0] : hits[hits.length - 1];
  return m ? (m.content as string) : undefined;
}

/** The record's prompt as one line of text (the user turn of a conversation), if it has one. */
export function promptText(v: Json): string | undefined {
  if (typeof v.prompt === 'string') return v.prompt;
  if (Array.isArray(v.prompt)) return contentOf(v.prompt, 'user', 'last');
  if (typeof v.question === 'string') return v.question;
  return contentOf(v.messages, 'user', 'first');
}

/** The completion to score: `completion` (text or assistant turns), else the last assistant message. */
export function completionText(v: Json): string | undefined {
  if (typeof v.completion === 'string') return v.completion;
  return contentOf(v.completion, 'assistant', 'last') ?? contentOf(v.messages, 'assistant', 'last');
}

/** The reference answer, if the record has one (numbers are accepted as their text). */
export function answerText(v: Json): string | undefined {
  if (typeof v.answer === 'string') return v.answer;
  if (typeof v.answer === 'number') return String(v.answer);
  return undefined;
}

/**
 * The reward context for a completion of this record. Only well-typed columns are copied: a
 * mistyped one is already a diagnostic, and scoring should still say what it can.
 */
export function rewardContext(v: Json, completion: string): RewardContext {
  const ctx: RewardContext = { completion, answer: answerText(v) };
  if (v.task === 'math' || v.task === 'code' || v.task === 'general') ctx.task = v.task;
  if (typeof v.language === 'string') ctx.language = v.language;
  if (Array.isArray(v.tests) && v.tests.every((t) => typeof t === 'string')) ctx.tests = v.tests as string[];
  return ctx;
}

/** Model-written texts of a record with the top-level field each sits in (for positions). */
export function reasoningTexts(v: Json): { field: string; text: string }[] {
  const out: { field: string; text: string }[] = [];
  for (const field of ['completion', 'chosen', 'rejected']) {
    const x = v[field];
    if (typeof x === 'string') out.push({ field, text: x });
    else if (Array.isArray(x)) {
      for (const m of x)
        if (m?.role === 'assistant' && typeof m.content === 'string') out.push({ field, text: m.content });
    }
  }
  if (Array.isArray(v.messages)) {
    for (const m of v.messages)
      if (m?.role === 'assistant' && typeof m.content === 'string') out.push({ field: 'messages', text: m.content });
  }
  return out;
}
