// General (non-reasoning) SFT records and preference pairs for stages `sft`, `reward-model`
// and `rl-all`: short factual QA and writing, built from small tables so a tiny model can learn them.

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
  ['India', 'New Delhi'],
  ['China', 'Beijing'],
  ['Brazil', 'Brasilia'],
  ['Mexico', 'Mexico City'],
  ['Sweden', 'Stockholm'],
  ['Ireland', 'Dublin'],
  ['Portugal', 'Lisbon'],
];

const COLORS: [string, string][] = [
  ['the sky on a clear day', 'blue'],
  ['grass', 'green'],
  ['snow', 'white'],
  ['a ripe banana', 'yellow'],
  ['coal', 'black'],
  ['a ripe tomato', 'red'],
  ['an orange', 'orange'],
  ['a plum', 'purple'],
];

const TOPICS = ['the sea', 'the moon', 'a forest', 'the rain', 'a river', 'the wind', 'a mountain', 'the night'];

export function generalSftRecords(): { prompt: string; completion: string }[] {
  const out: { prompt: string; completion: string }[] = [];
  for (const [country, capital] of CAPITALS)
    out.push({ prompt: `What is the capital of ${country}?`, completion: `The capital of ${country} is ${capital}.` });
  for (const [thing, color] of COLORS)
    out.push({
      prompt: `What color is ${thing}?`,
      completion: `${thing[0].toUpperCase()}${thing.slice(1)} is ${color}.`,
    });
  for (const topic of TOPICS)
    out.push({
      prompt: `Write one sentence about ${topic}.`,
      completion: `I love to watch ${topic} and think about the day.`,
    });
  return out;
}

/** Chosen: correct, complete, polite; rejected: wrong or curt. */
export function preferencePairs(): { prompt: string; chosen: string; rejected: string }[] {
  const out: { prompt: string; chosen: string; rejected: string }[] = [];
  CAPITALS.forEach(([country, capital], i) => {
    const wrong = CAPITALS[(i + 3) % CAPITALS.length][1];
    out.push({
      prompt: `What is the capital of ${country}?`,
      chosen: `The capital of ${country} is ${capital}.`,
      rejected: `The capital of ${country} is ${wrong}.`,
    });
  });
  for (const [thing, color] of COLORS)
    out.push({
      prompt: `What color is ${thing}?`,
      chosen: `${thing[0].toUpperCase()}${thing.slice(1)} is ${color}.`,
      rejected: 'I do not know.',
    });
  for (const topic of TOPICS)
    out.push({
      prompt: `Write one sentence about ${topic}.`,
      chosen: `I love to watch ${topic} and think about the day.`,
      rejected: `${topic}`,
    });
  return out;
}
