// The embedded default task (spec §3): `What is A + B?`, `What is A - B?`, `What is A * B?`
// with working written digit by digit. The layout follows what probes found learnable for a
// small model with rotary positions (platform-notes.md §4): fixed-shape lines, operands restated
// zero-padded, one line per digit `a+b+c=CD` (digit, digit, carry in -> carry out, digit),
// least significant digit first, then the result assembled from those lines.
import { Rng } from '../util/rng';

export type Op = '+' | '-' | '*';
export const OPS: readonly Op[] = ['+', '-', '*'];

export interface Problem {
  a: number;
  b: number;
  op: Op;
}

export interface Level {
  /** Largest first operand. */
  maxA: number;
  /** Largest second operand for + and -. */
  maxB: number;
  /** Largest second operand for *. */
  maxMulB: number;
}

/** Level 1 is the spec's family; higher levels are for bigger machines. */
export const LEVELS: Record<number, Level> = {
  1: { maxA: 999, maxB: 999, maxMulB: 9 },
  2: { maxA: 9999, maxB: 9999, maxMulB: 99 },
};

export function solve(p: Problem): number {
  return p.op === '+' ? p.a + p.b : p.op === '-' ? p.a - p.b : p.a * p.b;
}

export function promptOf(p: Problem): string {
  return `What is ${p.a} ${p.op} ${p.b}?`;
}

/** Parses a prompt of the family back into a problem (undefined for anything else). */
export function parsePrompt(prompt: string): Problem | undefined {
  const m = /^What is (\d+) ([+\-*]) (\d+)\?$/.exec(prompt.trim());
  return m ? { a: Number(m[1]), op: m[2] as Op, b: Number(m[3]) } : undefined;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const digitsLsbFirst = (n: number, width: number) => pad(n, width).split('').reverse().map(Number);

/** The working in the plain layout (no tags): lines joined by \n. */
export function working(p: Problem): string {
  const width = Math.max(String(p.a).length, p.op === '*' ? 1 : String(p.b).length, 3);
  if (p.op === '+') return columnWork(p.a, p.b, '+', width).join('\n');
  if (p.op === '-') {
    // Subtract the smaller from the larger so every borrow resolves; the sign comes first.
    const negative = p.a < p.b;
    const [big, small] = negative ? [p.b, p.a] : [p.a, p.b];
    const lines = columnWork(big, small, '-', width);
    const digits = lines.pop()!.slice(1); // drop the final borrow, always 0 here
    lines[0] = `${pad(p.a, width)}-${pad(p.b, width)}`;
    lines.splice(1, 0, `${pad(big, width)}-${pad(small, width)} ${negative ? '-' : '+'}`);
    return [...lines, `${negative ? '-' : '+'}${digits}`].join('\n');
  }
  return mulWork(p.a, p.b, width).join('\n');
}

function columnWork(a: number, b: number, op: '+' | '-', width: number): string[] {
  const lines = [`${pad(a, width)}${op}${pad(b, width)}`];
  const da = digitsLsbFirst(a, width);
  const db = digitsLsbFirst(b, width);
  let carry = 0;
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    let value = op === '+' ? da[i] + db[i] + carry : da[i] - db[i] - carry;
    const next = op === '+' ? Math.floor(value / 10) : value < 0 ? 1 : 0;
    value = op === '+' ? value % 10 : value + 10 * next;
    lines.push(`${da[i]}${op}${db[i]}${op}${carry}=${next}${value}`);
    out.push(value);
    carry = next;
  }
  lines.push(`${carry}${out.reverse().join('')}`);
  return lines;
}

function mulWork(a: number, b: number, width: number): string[] {
  const lines = [`${pad(a, width)}*${b}`];
  const da = digitsLsbFirst(a, width);
  let carry = 0;
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const value = da[i] * b + carry;
    lines.push(`${da[i]}*${b}+${carry}=${pad(value, 2)}`);
    out.push(value % 10);
    carry = Math.floor(value / 10);
  }
  lines.push(`${carry}${out.reverse().join('')}`);
  return lines;
}

/** R1's template: `<think>\n…\n</think>\n<answer>…</answer>`. */
export function reasoningCompletion(p: Problem): string {
  return `<think>\n${working(p)}\n</think>\n<answer>${solve(p)}</answer>`;
}

/** A pretraining document: the question, the working in plain layout, the answer. */
export function corpusDocument(p: Problem): string {
  return `${promptOf(p)}\n${working(p)}\nAnswer: ${solve(p)}`;
}

/**
 * Operation mix of the pretraining corpus. Subtraction gets the largest share: its working
 * (compare, swap, borrow) is the hardest for a small model to learn from few examples.
 */
export const CORPUS_OP_WEIGHTS: Record<Op, number> = { '+': 0.3, '-': 0.4, '*': 0.3 };

export function weightedOp(rng: Rng, weights: Record<Op, number> = CORPUS_OP_WEIGHTS): Op {
  let u = rng.next() * OPS.reduce((a, op) => a + weights[op], 0);
  for (const op of OPS) {
    u -= weights[op];
    if (u < 0) return op;
  }
  return OPS[OPS.length - 1];
}

export function randomProblem(rng: Rng, level: Level = LEVELS[1], op?: Op): Problem {
  const chosen = op ?? rng.pick(OPS);
  const a = rng.int(0, level.maxA);
  const b = rng.int(0, chosen === '*' ? level.maxMulB : level.maxB);
  return { a, b, op: chosen };
}

export const problemKey = (p: Problem) => `${p.a}${p.op}${p.b}`;

/**
 * Draws `count` distinct problems, none of whose keys is in `exclude` (so eval sets stay
 * disjoint from training prompts), cycling + - * for an even mix.
 */
export function drawProblems(rng: Rng, count: number, exclude: Set<string>, level: Level = LEVELS[1]): Problem[] {
  const out: Problem[] = [];
  let guard = 0;
  while (out.length < count) {
    if (++guard > count * 100) throw new Error(`could not draw ${count} distinct problems`);
    const p = randomProblem(rng, level, OPS[out.length % OPS.length]);
    const key = problemKey(p);
    if (exclude.has(key)) continue;
    exclude.add(key);
    out.push(p);
  }
  return out;
}
