// Code (`rewards/code`, spec §4): the share of a record's tests that the completion's code passes.
import { extractCode } from './extract';
import { runInSandbox, SandboxOptions, SandboxResult } from './sandbox/run';

/** A code reward with its evidence, for logs and the rewards panel. */
export interface CodeRewardResult extends SandboxResult {
  /** passed / total, in [0, 1]. */
  score: number;
}

/**
 * Extracts the last ```js / ```javascript / untagged fenced block (from the `<answer>` block,
 * else the whole completion) and runs it against `tests` in the sandbox (test format and
 * sandbox rules: `runInSandbox`). Never throws: missing code, code that does not compile,
 * crashes, hangs or exceeds memory all score 0 (or the share passed before a hang), with a reason.
 */
export async function codeReward(
  completion: string,
  tests: readonly string[],
  options?: SandboxOptions,
): Promise<CodeRewardResult> {
  const code = extractCode(completion);
  if (code === undefined) {
    return {
      score: 0,
      passed: 0,
      total: tests.length,
      tests: tests.map(() => ({ pass: false })),
      reason: 'no ```js code block in the completion',
    };
  }
  const result = await runInSandbox(code, tests, options);
  return { ...result, score: result.total > 0 ? result.passed / result.total : 0 };
}
