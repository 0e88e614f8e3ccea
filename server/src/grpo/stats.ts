// Plain-number statistics for GRPO: the building blocks of the advantages and of the reward
// metrics TRL logs. Standard deviations are UNBIASED (divide by n - 1) because that is what
// torch's `.std()` computes, and TRL's advantages and `reward_std` use it.

/** Arithmetic mean; 0 for an empty list (an empty batch logs 0, not NaN). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Unbiased sample standard deviation (n - 1), like torch's `.std()`. Fewer than two values give 0,
 * as TRL does for groups of one (torch itself would give NaN).
 */
export function stdUnbiased(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/** `mean` and `stdUnbiased` over the finite values only (torch's nanmean / TRL's nanstd): a reward
 * function may return NaN for samples it does not apply to. */
export function nanMeanStd(xs: readonly number[]): { mean: number; std: number } {
  const finite = xs.filter((x) => Number.isFinite(x));
  return { mean: mean(finite), std: stdUnbiased(finite) };
}
