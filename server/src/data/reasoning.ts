// Structure checks for R1's reasoning template, `<think>\n...\n</think>\n<answer>FINAL</answer>`.
// Text without any of the four tags is not checked: general SFT data has none.

/** One problem in a reasoning text; `offset` is the index in the (decoded) text. */
export interface ReasoningIssue {
  offset: number;
  message: string;
  /** `structure`: tags unclosed, misordered or repeated; `no-answer`: nothing to grade after `</think>`. */
  kind: 'structure' | 'no-answer';
}

const TAGS = /<\/?(?:think|answer)>/g;

/** Lists the template problems of one completion, in text order. */
export function checkReasoningTags(text: string): ReasoningIssue[] {
  const issues: ReasoningIssue[] = [];
  const structure = (offset: number, message: string): void => {
    issues.push({ offset, message, kind: 'structure' });
  };
  let think: number | undefined; // offset of the open <think>, while inside one
  let answer: number | undefined; // offset of the open <answer>, while inside one
  let thinkBlocks = 0;
  let answerBlocks = 0;
  let lastThinkEnd: number | undefined;
  let sawTag = false;

  for (const m of text.matchAll(TAGS)) {
    sawTag = true;
    const at = m.index;
    switch (m[0]) {
      case '<think>':
        if (think !== undefined) {
          structure(at, '<think> inside another <think> block');
          break;
        }
        if (answer !== undefined) structure(at, '<think> inside the <answer> block');
        else if (answerBlocks > 0) structure(at, '<think> after <answer>: the reasoning must come first');
        if (++thinkBlocks === 2) structure(at, 'more than one <think> block');
        think = at;
        break;
      case '</think>':
        if (think === undefined) structure(at, '</think> without a matching <think>');
        think = undefined;
        lastThinkEnd = at + m[0].length;
        break;
      case '<answer>':
        if (answer !== undefined) {
          structure(at, '<answer> inside another <answer> block');
          break;
        }
        if (think !== undefined) structure(at, '<answer> inside the <think> block (close it with </think> first)');
        if (++answerBlocks === 2) structure(at, 'more than one <answer> block');
        answer = at;
        break;
      default: // '</answer>'
        if (answer === undefined) structure(at, '</answer> without a matching <answer>');
        answer = undefined;
    }
  }
  if (!sawTag) return issues;
  if (think !== undefined) structure(think, 'unclosed <think>: no </think> after it');
  if (answer !== undefined) structure(answer, 'unclosed <answer>: no </answer> after it');

  // The answer is read from <answer>, else from the last \boxed{} (spec §3): one of them must
  // follow the reasoning, or the completion cannot be graded.
  if (think === undefined && lastThinkEnd !== undefined) {
    const tail = text.slice(lastThinkEnd);
    if (!tail.includes('<answer>') && !tail.includes('\\boxed{')) {
      const message = 'no answer after </think> (expected <answer>...</answer> or \\boxed{...})';
      issues.push({ offset: lastThinkEnd - '</think>'.length, message, kind: 'no-answer' });
    }
  }
  return issues.sort((a, b) => a.offset - b.offset);
}
