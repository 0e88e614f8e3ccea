// User reward functions (spec §4: "users can add a reward function as a JS/TS module in their
// workspace"), loaded like TRL's plain callables: every exported function is a reward.
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../util/errors';
import { RewardFn } from './types';

/**
 * Loads a reward module (ESM or CommonJS; `.ts` only where a TypeScript loader such as tsx is
 * active) and returns its exported functions by export name. A default-exported function is
 * named after the file; a CommonJS `module.exports` object contributes its function properties.
 * Throws a UserError naming the file when it is missing, fails to load or exports no function.
 */
export async function loadRewardModule(file: string): Promise<Record<string, RewardFn>> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new UserError(`reward module ${abs}: file not found`);
  let mod: Record<string, unknown>;
  try {
    // The mtime query makes an edited ES module load fresh in a long-running daemon.
    const url = `${pathToFileURL(abs).href}?mtime=${statSync(abs).mtimeMs}`;
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const hint = /\.[cm]?ts$/.test(abs) ? ' (TypeScript needs a loader such as tsx; compile it to .js otherwise)' : '';
    throw new UserError(`reward module ${abs} failed to load: ${(err as Error)?.message ?? String(err)}${hint}`, {
      cause: err,
    });
  }
  const fns: Record<string, RewardFn> = {};
  for (const [name, value] of Object.entries(mod)) {
    if (name !== 'default' && typeof value === 'function') fns[name] = value as RewardFn;
  }
  const def = mod.default;
  if (typeof def === 'function') {
    fns[path.basename(abs).replace(/\.[^.]+$/, '')] ??= def as RewardFn;
  } else if (typeof def === 'object' && def !== null) {
    for (const [name, value] of Object.entries(def)) if (typeof value === 'function') fns[name] ??= value as RewardFn;
  }
  if (Object.keys(fns).length === 0) {
    throw new UserError(
      `reward module ${abs} exports no functions; export each reward as a named function, e.g. export function short(ctx) { return ctx.completion.length < 200 ? 1 : 0; }`,
    );
  }
  return fns;
}
