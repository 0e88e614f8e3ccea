// Rewards of the GRPO stages (spec §4): pure functions of a completion and its record.
export { answersMatch, normalizeText, parseNumber } from './answers';
export { accuracyReward, isCorrect } from './accuracy';
export { codeReward, type CodeRewardResult } from './code';
export { answerBlock, extractAnswer, extractCode, lastBoxed, parseReferenceAnswer, thinkText } from './extract';
export { strictFormat, tagCountFormat } from './format';
export { languageShare, targetScripts, wordScripts, type Script } from './language';
export { loadRewardModule } from './loader';
export { builtinRewards, RewardSet, type RewardFactory } from './registry';
export {
  runInSandbox,
  SANDBOX_DEFAULTS,
  type SandboxOptions,
  type SandboxResult,
  type TestOutcome,
} from './sandbox/run';
export { completionLength, cosineReward, overlongReward, repetitionReward } from './shaping';
export {
  checkContext,
  taskOf,
  type RewardBreakdown,
  type RewardContext,
  type RewardFn,
  type RewardSpec,
} from './types';
