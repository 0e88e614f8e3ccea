// Language consistency (`rewards/language`, spec §4). R1 added it because RL made the chain of
// thought drift between languages; scoring the share of words in the target script is cheap,
// needs no model, and works for any language whose script is distinctive.
import { UserError } from '../util/errors';

/** Scripts the reward can tell apart; letters of any other script count as off-target words. */
export type Script =
  | 'latin'
  | 'han'
  | 'hiragana'
  | 'katakana'
  | 'hangul'
  | 'cyrillic'
  | 'arabic'
  | 'devanagari'
  | 'greek'
  | 'hebrew'
  | 'thai';

// Script_Extensions rather than Script, so shared marks such as the Japanese long-vowel sign ー
// (Script=Common, scx=Hira/Kana) belong to the scripts that use them.
const SCRIPT_PATTERNS: [Script, RegExp][] = [
  ['latin', /\p{scx=Latn}/u],
  ['han', /\p{scx=Hani}/u],
  ['hiragana', /\p{scx=Hira}/u],
  ['katakana', /\p{scx=Kana}/u],
  ['hangul', /\p{scx=Hang}/u],
  ['cyrillic', /\p{scx=Cyrl}/u],
  ['arabic', /\p{scx=Arab}/u],
  ['devanagari', /\p{scx=Deva}/u],
  ['greek', /\p{scx=Grek}/u],
  ['hebrew', /\p{scx=Hebr}/u],
  ['thai', /\p{scx=Thai}/u],
];

/** Scripts written without spaces between words: each character is one word. */
const CHARACTER_WORDS = new Set<Script | 'other'>(['han', 'hiragana', 'katakana', 'hangul']);

const LETTER = /\p{L}/u;
const MARK = /\p{M}/u;

// Target names: scripts, English language names and ISO 639-1 codes (BCP 47 tags such as
// `zh-CN` use their primary subtag).
const TARGETS: Record<string, Script[]> = {
  latin: ['latin'],
  han: ['han'],
  kana: ['hiragana', 'katakana'],
  hiragana: ['hiragana'],
  katakana: ['katakana'],
  japanese: ['han', 'hiragana', 'katakana'],
  hangul: ['hangul'],
  cyrillic: ['cyrillic'],
  arabic: ['arabic'],
  devanagari: ['devanagari'],
  greek: ['greek'],
  hebrew: ['hebrew'],
  thai: ['thai'],
};
const ALIASES: Record<string, string> = {
  latin:
    'english french german spanish portuguese italian en fr de es pt it nl sv da no nb fi pl cs ro hu tr vi id ms sw ca',
  han: 'chinese zh',
  japanese: 'ja',
  hangul: 'korean ko',
  cyrillic: 'russian ukrainian ru uk bg be mk kk',
  arabic: 'persian urdu ar fa ur',
  devanagari: 'hindi hi mr ne sa',
  greek: 'el',
  hebrew: 'he',
  thai: 'th',
};
const NAMES = new Map<string, Script[]>(Object.entries(TARGETS));
for (const [target, names] of Object.entries(ALIASES))
  for (const name of names.split(' ')) NAMES.set(name, TARGETS[target]);

/**
 * The scripts of a target language, from a script name (`latin`, `han`, `kana`, ...), a language
 * name (`english`, `chinese`, `japanese`, ...) or an ISO 639-1 / BCP 47 code (`en`, `zh-CN`).
 * Throws a UserError listing the accepted names for anything else.
 */
export function targetScripts(target: string): Script[] {
  const key = target.trim().toLowerCase();
  const primary = key.split(/[-_]/)[0];
  const scripts = NAMES.get(key) ?? NAMES.get(primary);
  if (!scripts) {
    throw new UserError(
      `unknown target language "${target}" for the language reward; use a script (${Object.keys(TARGETS).join(', ')}), a language name (english, chinese, ...) or an ISO code (en, zh, ja, ru, ...)`,
    );
  }
  return scripts;
}

/** The script of one letter (by code point), or 'other'. ASCII letters take a fast path. */
export function scriptOf(ch: string): Script | 'other' {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? 'latin' : 'other';
  for (const [script, re] of SCRIPT_PATTERNS) if (re.test(ch)) return script;
  return 'other';
}

/**
 * Splits text into words with their scripts. A word is a run of letters (with the combining
 * marks that follow them, which Devanagari and Arabic need) of one script; each Han, Kana or
 * Hangul character is a word of its own. Digits, punctuation and symbols are not words.
 */
export function wordScripts(text: string): (Script | 'other')[] {
  const words: (Script | 'other')[] = [];
  let current: Script | 'other' | undefined; // script of the word being read, if any
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    // ASCII non-letters end a word without touching the regexes: most of a maths CoT is these.
    if (code < 0x80 && !((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a))) {
      current = undefined;
      continue;
    }
    if (code >= 0x80 && !LETTER.test(ch)) {
      if (current === undefined || !MARK.test(ch)) current = undefined;
      continue;
    }
    const script = scriptOf(ch);
    if (CHARACTER_WORDS.has(script)) {
      words.push(script);
      current = undefined;
    } else if (script !== current) {
      words.push(script);
      current = script;
    }
  }
  return words;
}

/**
 * Share of the words of `text` written in one of `scripts`, in [0, 1]; 1 when the text has no
 * words (a CoT of pure arithmetic is consistent with any language).
 */
export function languageShare(text: string, scripts: readonly Script[]): number {
  const words = wordScripts(text);
  if (words.length === 0) return 1;
  const inTarget = words.filter((s) => s !== 'other' && scripts.includes(s)).length;
  return inTarget / words.length;
}
