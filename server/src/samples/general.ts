// General (non-reasoning) data for stages `sft`, `reward-model` and `rl-all`: short factual QA
// and one-sentence writing, built from small tables so a small model can learn them. Replies use
// R1's template with a one-line recall as the "reasoning" (R1 answers general prompts in the
// same template), so the format and language rewards mean the same on general and arithmetic
// prompts, and the reward model reads the layout the policy writes. Everything fits the small
// preset's 96-token context (prompt and reply together).
import { Rng } from '../util/rng';

/** One general question: the prompt, the fact recalled in `<think>`, the value and the full answer. */
export interface GeneralItem {
  prompt: string;
  /** The same question worded differently (the first is `prompt`): preference pairs use one each. */
  phrasings: string[];
  /** The recall line inside `<think>`, e.g. `France: Paris`. */
  recall: string;
  /** The bare value, e.g. `Paris`. */
  value: string;
  /** The complete answer sentence. */
  answer: string;
  /** Another value of the same table (for an answer that contradicts its own recall). */
  wrong: string;
}

const CAPITALS: [string, string][] = [
  ['France', 'Paris'],
  ['Japan', 'Tokyo'],
  ['Italy', 'Rome'],
  ['Spain', 'Madrid'],
  ['Germany', 'Berlin'],
  ['Canada', 'Ottawa'],
  ['Egypt', 'Cairo'],
  ['Kenya', 'Nairobi'],
  ['Peru', 'Lima'],
  ['Norway', 'Oslo'],
  ['Greece', 'Athens'],
  ['Poland', 'Warsaw'],
  ['Chile', 'Santiago'],
  ['Iran', 'Tehran'],
  ['China', 'Beijing'],
  ['Brazil', 'Brasilia'],
  ['Mali', 'Bamako'],
  ['Sweden', 'Stockholm'],
  ['Ireland', 'Dublin'],
  ['Portugal', 'Lisbon'],
  ['Austria', 'Vienna'],
  ['Cuba', 'Havana'],
  ['Russia', 'Moscow'],
  ['Finland', 'Helsinki'],
];

const COLORS: [string, string][] = [
  ['the sky', 'blue'],
  ['grass', 'green'],
  ['snow', 'white'],
  ['a banana', 'yellow'],
  ['coal', 'black'],
  ['a tomato', 'red'],
  ['an orange', 'orange'],
  ['a plum', 'purple'],
  ['milk', 'white'],
  ['a lemon', 'yellow'],
  ['a leaf', 'green'],
  ['blood', 'red'],
];

const OPPOSITES: [string, string][] = [
  ['hot', 'cold'],
  ['big', 'small'],
  ['fast', 'slow'],
  ['up', 'down'],
  ['day', 'night'],
  ['old', 'new'],
  ['wet', 'dry'],
  ['light', 'dark'],
  ['open', 'closed'],
  ['early', 'late'],
  ['full', 'empty'],
  ['hard', 'soft'],
  ['high', 'low'],
  ['happy', 'sad'],
  ['near', 'far'],
  ['rich', 'poor'],
];

const SOUNDS: [string, string][] = [
  ['cow', 'moo'],
  ['dog', 'woof'],
  ['cat', 'meow'],
  ['duck', 'quack'],
  ['sheep', 'baa'],
  ['owl', 'hoot'],
  ['lion', 'roar'],
  ['pig', 'oink'],
  ['horse', 'neigh'],
  ['bee', 'buzz'],
];

/** Writing topics and a fitting pair of words for each. */
const TOPICS: [string, string, string][] = [
  ['the sea', 'wide', 'deep'],
  ['the moon', 'round', 'bright'],
  ['a forest', 'green', 'quiet'],
  ['the rain', 'cool', 'soft'],
  ['a river', 'long', 'calm'],
  ['the wind', 'cold', 'strong'],
  ['a mountain', 'tall', 'old'],
  ['the night', 'dark', 'still'],
  ['the sun', 'warm', 'bright'],
  ['a garden', 'green', 'sweet'],
  ['the snow', 'white', 'soft'],
  ['a city', 'busy', 'loud'],
];

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
const other = <T>(table: T[], i: number, same: (a: T, b: T) => boolean): T => {
  for (let k = 1; k < table.length; k++) {
    const t = table[(i + k * 5) % table.length];
    if (!same(t, table[i])) return t;
  }
  throw new Error('table has one distinct value');
};

/** Every general question, in table order. */
export function generalItems(): GeneralItem[] {
  const out: GeneralItem[] = [];
  CAPITALS.forEach(([country, capital], i) =>
    out.push({
      prompt: `What is the capital of ${country}?`,
      phrasings: [`What is the capital of ${country}?`, `Name the capital of ${country}.`, `Capital of ${country}?`],
      recall: `${country}: ${capital}`,
      value: capital,
      answer: `The capital of ${country} is ${capital}.`,
      wrong: other(CAPITALS, i, (a, b) => a[1] === b[1])[1],
    }),
  );
  COLORS.forEach(([thing, color], i) =>
    out.push({
      prompt: `What color is ${thing}?`,
      phrasings: [`What color is ${thing}?`, `Name the color of ${thing}.`, `Tell me the color of ${thing}.`],
      recall: `${thing}: ${color}`,
      value: color,
      answer: `${cap(thing)} is ${color}.`,
      wrong: other(COLORS, i, (a, b) => a[1] === b[1])[1],
    }),
  );
  OPPOSITES.forEach(([word, opposite], i) =>
    out.push({
      prompt: `What is the opposite of ${word}?`,
      phrasings: [`What is the opposite of ${word}?`, `Name the opposite of ${word}.`, `Give the opposite of ${word}.`],
      recall: `${word}: ${opposite}`,
      value: opposite,
      answer: `The opposite of ${word} is ${opposite}.`,
      wrong: other(OPPOSITES, i, (a, b) => a[1] === b[1])[1],
    }),
  );
  SOUNDS.forEach(([animal, sound], i) =>
    out.push({
      prompt: `What sound does a ${animal} make?`,
      phrasings: [
        `What sound does a ${animal} make?`,
        `Name the sound a ${animal} makes.`,
        `Which sound does a ${animal} make?`,
      ],
      recall: `${animal}: ${sound}`,
      value: sound,
      answer: `A ${animal} says ${sound}.`,
      wrong: other(SOUNDS, i, (a, b) => a[1] === b[1])[1],
    }),
  );
  TOPICS.forEach(([topic, a, b], i) =>
    out.push({
      prompt: `Write one sentence about ${topic}.`,
      phrasings: [
        `Write one sentence about ${topic}.`,
        `Write a sentence about ${topic}.`,
        `Describe ${topic} in one sentence.`,
      ],
      recall: `${topic}: ${a}, ${b}`,
      value: `${a} and ${b}`,
      answer: `${cap(topic)} is ${a} and ${b}.`,
      wrong: other(TOPICS, i, (x, y) => x[1] === y[1] && x[2] === y[2])
        .slice(1)
        .join(' and '),
    }),
  );
  return out;
}

/** A reply in R1's template. */
export function templated(recall: string, answer: string): string {
  return `<think>\n${recall}\n</think>\n<answer>${answer}</answer>`;
}

/** General SFT records: each question with its recall and full answer. */
export function generalSftRecords(): { prompt: string; completion: string }[] {
  return generalItems().map((it) => ({ prompt: it.prompt, completion: templated(it.recall, it.answer) }));
}

/** General RL prompts for stage rl-all: no answer to check; the reward model scores them. */
export function generalPrompts(): { prompt: string; task: 'general' }[] {
  return generalItems().map((it) => ({ prompt: it.prompt, task: 'general' }));
}

/**
 * Ways a reply can be worse than the full, well-formed answer. Each is a surface property a small
 * reward model can learn and that carries over to prompts it never saw: a refusal, a bare
 * fragment, an answer contradicting its own recall, a stutter (one word over and over), a reply without the template, a
 * reply in another script.
 */
export const REJECTION_STYLES: Record<string, (it: GeneralItem) => string> = {
  refusal: (it) => templated(it.recall, 'I do not know.'),
  fragment: (it) => templated(it.recall, it.value),
  contradiction: (it) => templated(it.recall, it.answer.replace(it.value, it.wrong)),
  repetition: (it) => templated(it.recall, new Array(4).fill(it.value.split(' ').pop()).join(' ')),
  untemplated: (it) => it.answer,
  'other-script': (it) => templated(it.recall, '我不知道这个。'),
};

/**
 * Preference pairs: for each wording of each question, the full templated answer over a rejected
 * reply; the styles are drawn with `rng`, a different one per wording. One pair per prompt, so
 * the file has no duplicate prompts and the held-out split by prompt splits pairs.
 */
export function preferencePairs(rng: Rng): { prompt: string; chosen: string; rejected: string }[] {
  const styles = Object.values(REJECTION_STYLES);
  return generalItems().flatMap((it) => {
    const chosen = templated(it.recall, it.answer);
    const drawn = rng.shuffle([...styles]);
    return it.phrasings.map((prompt, k) => ({ prompt, chosen, rejected: drawn[k % drawn.length](it) }));
  });
}
