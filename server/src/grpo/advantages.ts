// Group-relative advantages (spec §5; DeepSeekMath's GRPO, as TRL's GRPOTrainer computes them):
//   A_i = (r_i - mean_group(r)) / (std + eps)
// Plain numbers: the rewards come from JS reward functions, and the advantages go to the loss as
// one (N) tensor, so there is no reason to touch tfjs here.
import { mean, stdUnbiased } from './stats';

/**
 * What divides the centred rewards:
 * - `group`: the group's own std (GRPO as published);
 * - `batch`: one std over every reward in the batch (centring is still per group), which keeps
 *   easy and hard prompts on one scale;
 * - `none`: no division (Dr. GRPO: the std division biases towards too-easy / too-hard prompts).
 */
export type ScaleRewards = 'group' | 'batch' | 'none';

/** TRL's constant: keeps the division finite for low-variance groups. */
export const ADVANTAGE_EPS = 1e-4;

/** Below this std a group counts as "all rewards equal" (torch.isclose(std, 0)'s atol, as TRL). */
export const ZERO_STD_TOL = 1e-8;

/**
 * Advantages for a batch of prompt groups.
 * @param rewards one array per prompt: the total rewards of its G completions (groups may differ
 *   in size, e.g. after dynamic sampling; TRL's are all G).
 * @param scale see {@link ScaleRewards}.
 * @param eps added to the std, TRL's 1e-4 by default.
 * @returns advantages, same shape as `rewards`.
 *
 * The std is the unbiased one (n - 1), as torch's `.std()` that TRL uses; a group of one has std 0.
 * A group whose rewards are all equal gets exactly 0 (TRL gets ~1e-13 there from rounding in the
 * mean): it carries no learning signal, and an exact 0 keeps such rows inert in the loss.
 */
export function groupAdvantages(rewards: number[][], scale: ScaleRewards, eps = ADVANTAGE_EPS): number[][] {
  const batchStd = scale === 'batch' ? stdUnbiased(rewards.flat()) : 0;
  const flat = zeroStdGroups(rewards);
  return rewards.map((group, g) => {
    if (flat[g]) return group.map(() => 0);
    const m = mean(group);
    if (scale === 'none') return group.map((r) => r - m);
    const std = scale === 'group' ? stdUnbiased(group) : batchStd;
    return group.map((r) => (r - m) / (std + eps));
  });
}

/**
 * Which groups have (numerically) identical rewards: their advantages are 0, so they teach
 * nothing. Feeds `frac_reward_zero_std` and dynamic sampling (DAPO drops and refills them).
 * @param tol a group whose unbiased std is at most `tol` counts as zero-std.
 */
export function zeroStdGroups(rewards: number[][], tol = ZERO_STD_TOL): boolean[] {
  return rewards.map((group) => stdUnbiased(group) <= tol);
}

/** The group-level reward metrics TRL logs each step, under TRL's names. */
export interface GroupRewardMetrics {
  /** Mean total reward over every completion. */
  reward: number;
  /** TRL's `std_rewards.mean()`: each completion's group std averaged over completions, or the
   * batch std when scale is `batch`. */
  reward_std: number;
  /** Share of completions whose group has all-equal rewards (= share of groups when all are G). */
  frac_reward_zero_std: number;
}

/** {@link GroupRewardMetrics} for one step's rewards (same grouping as {@link groupAdvantages}). */
export function groupRewardMetrics(rewards: number[][], scale: ScaleRewards): GroupRewardMetrics {
  const flat = rewards.flat();
  const n = Math.max(flat.length, 1);
  const zero = zeroStdGroups(rewards);
  let stdSum = 0;
  let zeroCount = 0;
  rewards.forEach((group, g) => {
    stdSum += stdUnbiased(group) * group.length;
    if (zero[g]) zeroCount += group.length;
  });
  return {
    reward: mean(flat),
    reward_std: scale === 'batch' ? stdUnbiased(flat) : stdSum / n,
    frac_reward_zero_std: zeroCount / n,
  };
}

/**
 * Multiplies negative advantages by `scale` (0 = learn only from better-than-average
 * completions). On a tiny model, pushing probability off a wrong digit spreads it over every
 * other token; keeping only the positive side behaves like advantage-weighted rejection
 * sampling and did not erode greedy accuracy in our runs.
 */
export function scaleNegativeAdvantages(advantages: number[], scale: number): number[] {
  return advantages.map((a) => (a < 0 ? a * scale + 0 : a)); // + 0 turns -0 into 0
}
