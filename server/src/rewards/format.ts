// Format (`rewards/format`, spec §4): R1's template, `<think>...</think>` then `<answer>...</answer>`.

const TAGS = ['<think>', '</think>', '<answer>', '</answer>'] as const;

/**
 * 1 if the completion is exactly one `<think>...</think>` block followed by one
 * `<answer>...</answer>` block, with nothing else but whitespace around them; else 0.
 */
export function strictFormat(completion: string): number {
  const counts = TAGS.map((t) => countOf(completion, t));
  if (counts.some((n) => n !== 1)) return 0;
  const [to, tc, ao, ac] = TAGS.map((t) => completion.indexOf(t));
  const blank = (from: number, to: number) => completion.slice(from, to).trim() === '';
  const ordered = to < tc && tc < ao && ao < ac;
  return ordered && blank(0, to) && blank(tc + TAGS[1].length, ao) && blank(ac + TAGS[3].length, completion.length)
    ? 1
    : 0;
}

/**
 * Partial credit in the style of open-r1's `tag_count_reward`: 0.25 for each of the four tags
 * that occurs exactly once, so a model that is learning the template gets a gradient before it
 * gets it all right. A strictly formatted completion always scores 1.
 */
export function tagCountFormat(completion: string): number {
  return TAGS.reduce((sum, t) => sum + (countOf(completion, t) === 1 ? 0.25 : 0), 0);
}

/** Occurrences of `needle` in `text` (non-overlapping; the tags cannot overlap themselves). */
function countOf(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}
