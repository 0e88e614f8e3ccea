// Flag parsing helpers: a bad number is a usage error naming the flag.
import { UserError } from '../util/errors';

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${flag}: expected a positive integer, got "${value}"`);
  return n;
}

export function finiteNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`${flag}: expected a number, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag}: expected an integer >= 0, got "${value}"`);
  return n;
}
