// Answer equality for the accuracy reward (spec §4): numbers compare as numbers, everything else
// as text up to whitespace and case. Kept separate from extraction so eval and rejection
// sampling can reuse the same notion of "correct".

/** A parsed number: plain decimals keep an exact canonical string, the rest a float. */
export type ParsedNumber = { exact: string } | { value: number };

/**
 * True when `predicted` and `reference` are the same answer: numerically equal when both parse
 * as numbers after normalisation (`$`, spaces, thousands separators and a trailing `.` removed;
 * `1,000` = `1000`, `-3` = `-3.0`, `0.5` = `1/2` = `\frac{1}{2}`, `1e3` = `1000`), otherwise
 * equal as text after Unicode NFKC, whitespace collapsing and lower-casing.
 */
export function answersMatch(predicted: string, reference: string): boolean {
  const a = parseNumber(predicted);
  const b = parseNumber(reference);
  if (a && b) {
    // Plain decimals compare exactly, so 20-digit integers are not rounded into each other;
    // fractions and exponents compare as floats within a relative 1e-9.
    if ('exact' in a && 'exact' in b) return a.exact === b.exact;
    const x = valueOf(a);
    const y = valueOf(b);
    return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return normalizeText(predicted) === normalizeText(reference);
}

/** Text form used for non-numeric answers: NFKC, whitespace collapsed, lower case, trimmed. */
export function normalizeText(s: string): string {
  return s.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const SCIENTIFIC = /^[+-]?(?:\d+\.?\d*|\.\d+)e[+-]?\d+$/i;
const FRACTION = /^([+-]?\d+)\/(\d+)$/;
const LATEX_FRACTION = /^([+-]?)\\[dt]?frac\{([+-]?\d+)\}\{(\d+)\}$/;
const THOUSANDS = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$/;

/** Parses an answer as a number after normalisation; undefined when it is not one. */
export function parseNumber(raw: string): ParsedNumber | undefined {
  let s = unwrapLatex(raw.normalize('NFKC').trim());
  s = s
    .replace(/\u2212/g, '-')
    .replace(/\$/g, '')
    .replace(/\\[,;! ]/g, '')
    .replace(/\s+/g, '');
  if (s.endsWith('.') && s.length > 1) s = s.slice(0, -1);
  if (THOUSANDS.test(s)) s = s.replace(/,/g, '');
  const dec = DECIMAL.exec(s);
  if (dec && (dec[2] !== '' || (dec[3] ?? '') !== '')) {
    const int = dec[2].replace(/^0+/, '') || '0';
    const frac = (dec[3] ?? '').replace(/0+$/, '');
    const zero = int === '0' && frac === '';
    return { exact: (dec[1] === '-' && !zero ? '-' : '') + int + (frac ? `.${frac}` : '') };
  }
  if (SCIENTIFIC.test(s)) return finite(Number(s));
  const frac = FRACTION.exec(s);
  if (frac) return ratio(Number(frac[1]), Number(frac[2]));
  const tex = LATEX_FRACTION.exec(s);
  if (tex) return ratio((tex[1] === '-' ? -1 : 1) * Number(tex[2]), Number(tex[3]));
  return undefined;
}

/** Strips whole-answer wrappers such as `\boxed{...}`, `\text{...}`, `\(...\)`. */
function unwrapLatex(s: string): string {
  // A few levels are plenty for real answers; a bound keeps adversarial nesting linear.
  for (let depth = 0; depth < 4; depth++) {
    const m = /^\\(?:boxed|text|textbf|mathrm|mathbf)\{(.*)\}$/s.exec(s) ?? /^\\[([](.*)\\[)\]]$/s.exec(s);
    if (!m) return s;
    s = m[1].trim();
  }
  return s;
}

function ratio(num: number, den: number): ParsedNumber | undefined {
  return den === 0 ? undefined : finite(num / den);
}

function finite(value: number): ParsedNumber | undefined {
  return Number.isFinite(value) ? { value } : undefined;
}

function valueOf(n: ParsedNumber): number {
  return 'exact' in n ? Number(n.exact) : n.value;
}
