// Options of the builtin rewards, as written in a stage config. TRL and open-r1 users write
// snake_case (`max_len`, `ngram_size`); both spellings are accepted, typos are not.
import { UserError } from '../util/errors';
import { describe } from './types';

type OptionValue = number | boolean | string;

/**
 * Merges `options` over `defaults`, accepting snake_case keys, and checks every value against
 * its default's type (numbers must be finite). Unknown keys throw a UserError that lists the
 * valid ones, so a misspelt option never silently falls back to its default.
 */
export function readOptions<T extends { [K in keyof T]: OptionValue }>(
  reward: string,
  options: Record<string, unknown> | undefined,
  defaults: T,
): T {
  const out: Record<string, OptionValue> = { ...defaults };
  if (options === undefined) return out as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UserError(`reward "${reward}": options must be an object, got ${describe(options)}`);
  }
  for (const [raw, value] of Object.entries(options)) {
    const key = raw.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!Object.hasOwn(defaults, key)) {
      const valid = Object.keys(defaults);
      throw new UserError(
        `reward "${reward}": unknown option "${raw}"; valid options: ${valid.length ? valid.join(', ') : '(none)'}`,
      );
    }
    const want = typeof (defaults as Record<string, OptionValue>)[key];
    if (typeof value !== want || (want === 'number' && !Number.isFinite(value))) {
      throw new UserError(
        `reward "${reward}": option "${raw}" must be a ${want === 'number' ? 'finite number' : want}, got ${describe(value)}`,
      );
    }
    out[key] = value as OptionValue;
  }
  return out as T;
}
