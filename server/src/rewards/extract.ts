// Reading R1-template completions (spec §3): the final answer, the chain of thought, a code block.
// Every function here is a linear scan, so a huge or adversarial completion cannot stall a reward.

const ANSWER_OPEN = '<answer>';
const ANSWER_CLOSE = '</answer>';
const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

/**
 * The final answer of a completion: the content of the last `<answer>...</answer>` block (and
 * inside it the last `\boxed{...}`, if any), else the last balanced `\boxed{...}`; trimmed.
 * Undefined when the completion has neither.
 */
export function extractAnswer(completion: string): string | undefined {
  const tagged = answerBlock(completion);
  if (tagged !== undefined) return (lastBoxed(tagged) ?? tagged).trim();
  return lastBoxed(completion)?.trim();
}

/** Raw content of the last closed `<answer>...</answer>` block, untrimmed. */
export function answerBlock(completion: string): string | undefined {
  const close = completion.lastIndexOf(ANSWER_CLOSE);
  if (close < 0) return undefined;
  const open = completion.lastIndexOf(ANSWER_OPEN, close);
  return open < 0 ? undefined : completion.slice(open + ANSWER_OPEN.length, close);
}

/**
 * Content of the `\boxed{...}` whose closing brace comes last (so the outer one when nested).
 * One pass with a brace stack; LaTeX's escaped `\{` `\}` are literal and not counted, and
 * unbalanced braces never match.
 */
export function lastBoxed(text: string): string | undefined {
  if (!text.includes('\\boxed')) return undefined;
  const stack: number[] = []; // content start for a \boxed brace, -1 for any other brace
  let best: [number, number] | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      if (text.startsWith('\\boxed', i)) {
        let j = i + 6;
        while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
        if (text[j] === '{') {
          stack.push(j + 1);
          i = j;
          continue;
        }
      }
      if (text[i + 1] === '{' || text[i + 1] === '}' || text[i + 1] === '\\') i++; // escaped char
      continue;
    }
    if (ch === '{') stack.push(-1);
    else if (ch === '}' && stack.length > 0) {
      const start = stack.pop()!;
      if (start >= 0) best = [start, i];
    }
  }
  return best && text.slice(best[0], best[1]);
}

/**
 * The reference answer of a record: GSM8K's `... #### 42` gives the text after the last `####`;
 * anything else is the whole string. Trimmed.
 */
export function parseReferenceAnswer(answer: string): string {
  const at = answer.lastIndexOf('####');
  return (at < 0 ? answer : answer.slice(at + 4)).trim();
}

/**
 * The chain of thought: the contents of the `<think>` blocks (an unclosed last block runs to the
 * end, as in a truncated completion). When the prompt already opened `<think>` (R1-distill
 * templates) the text before the first `</think>` counts. Without any think tag: the whole
 * completion with the template's tags removed, so the tag names never count as words.
 */
export function thinkText(completion: string): string {
  const parts: string[] = [];
  let from = 0;
  for (;;) {
    const open = completion.indexOf(THINK_OPEN, from);
    if (open < 0) break;
    const start = open + THINK_OPEN.length;
    const close = completion.indexOf(THINK_CLOSE, start);
    parts.push(completion.slice(start, close < 0 ? undefined : close));
    if (close < 0) break;
    from = close + THINK_CLOSE.length;
  }
  if (parts.length > 0) return parts.join('\n');
  const close = completion.indexOf(THINK_CLOSE);
  if (close >= 0) return completion.slice(0, close);
  return completion.split(ANSWER_OPEN).join(' ').split(ANSWER_CLOSE).join(' ');
}

/** Info strings of fenced blocks treated as runnable JavaScript; '' is an untagged fence. */
const JS_FENCES = new Set(['', 'js', 'javascript', 'node', 'mjs', 'cjs']);

/**
 * The last fenced JavaScript block (```js, ```javascript or an untagged ```) of the answer block,
 * else of the whole completion. Undefined when there is none; other languages' blocks are skipped.
 */
export function extractCode(completion: string): string | undefined {
  const answer = answerBlock(completion);
  return (answer !== undefined ? lastJsFence(answer) : undefined) ?? lastJsFence(completion);
}

function lastJsFence(text: string): string | undefined {
  let found: string | undefined;
  let at = text.indexOf('```');
  while (at >= 0) {
    const eol = text.indexOf('\n', at + 3);
    if (eol < 0) break;
    const info = text
      .slice(at + 3, eol)
      .trim()
      .toLowerCase();
    const close = text.indexOf('```', eol + 1);
    if (close < 0) break;
    // Other languages' blocks are skipped but still consume their closing fence, so pairs stay aligned.
    if (JS_FENCES.has(info)) found = text.slice(eol + 1, close);
    at = text.indexOf('```', close + 3);
  }
  return found;
}
