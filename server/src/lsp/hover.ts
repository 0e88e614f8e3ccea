// Hover on a record: its token counts and, when it has a completion and an answer, the reward
// breakdown a GRPO stage would give it.
import { Hover, MarkupKind, Position, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { encodePrompt, type ChatMessage } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { isUserError } from '../util/errors';
import { lineRecord } from './documents';
import { answerText, completionText, promptText } from './records';
import { scoreCompletion, tokenCount } from './score';

const tokenizer = new Tokenizer();
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));

/** The hover for the record under `position`, or null off a record. */
export async function hoverAt(doc: TextDocument, position: Position): Promise<Hover | null> {
  const rec = lineRecord(doc, position.line);
  if (!rec?.value) return null;
  const v = rec.value;
  const parts: string[] = [
    `**R1 record** · line ${rec.line + 1}${typeof v.status === 'string' ? ` · ${v.status}` : ''}`,
  ];

  const isMessage = (m: { role?: unknown; content?: unknown } | null) =>
    ['system', 'user', 'assistant'].includes(m?.role as string) && typeof m?.content === 'string';
  const prompt = Array.isArray(v.prompt) ? (v.prompt.every(isMessage) ? v.prompt : undefined) : promptText(v);
  const completion = completionText(v);
  const counts: string[] = [];
  // Malformed conversations get no prompt count: validation reports them.
  if (prompt !== undefined) counts.push(`prompt ${encodePrompt(tokenizer, prompt as string | ChatMessage[]).length}`);
  if (completion !== undefined) counts.push(`completion ${tokenCount(completion)}`);
  if (counts.length) parts.push(`Tokens: ${counts.join(' · ')} (byte-level, with chat-template tokens)`);

  if (completion !== undefined && answerText(v) !== undefined) {
    try {
      const score = await scoreCompletion(completion, v);
      const rows = Object.entries(score.rewards).map(([name, value]) => `| ${name} | ${fmt(value)} |`);
      parts.push(['| reward | value |', '|---|---|', ...rows, `| **total** | **${fmt(score.total)}** |`].join('\n'));
    } catch (err) {
      if (!isUserError(err)) throw err;
      parts.push(`Cannot score: ${(err as Error).message}`);
    }
  }
  return {
    contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n') },
    range: Range.create(rec.line, 0, rec.line, rec.text.length),
  };
}
