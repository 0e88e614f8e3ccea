// Splits a completion into R1's template parts so `<think>` and `<answer>` can be shown apart
// (pure; the rewards panel renders the segments, tests check them). An unclosed tag's region
// runs to the end of the text, as in the editor grammar.

export type SegmentKind = 'text' | 'tag' | 'think' | 'answer';

export interface Segment {
  kind: SegmentKind;
  text: string;
}

const TAG = /<\/?(think|answer)>/g;

export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  const push = (kind: SegmentKind, s: string) => {
    if (!s) return;
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.text += s;
    else out.push({ kind, text: s });
  };
  let inside: 'think' | 'answer' | undefined;
  let pos = 0;
  for (const m of text.matchAll(TAG)) {
    const name = m[1] as 'think' | 'answer';
    const closing = m[0][1] === '/';
    // Only the tag that fits the current state counts; anything else is content.
    if ((!inside && closing) || (inside && (!closing || name !== inside))) continue;
    push(inside ?? 'text', text.slice(pos, m.index));
    push('tag', m[0]);
    inside = closing ? undefined : name;
    pos = m.index + m[0].length;
  }
  push(inside ?? 'text', text.slice(pos));
  return out;
}
