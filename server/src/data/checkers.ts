// One checker per dataset kind: reads a parsed JSONL object into its typed record, reporting
// every problem on the way. A checker returns undefined when the record had any error.
import {
  checkReasoning,
  readEnum,
  readMessages,
  readObject,
  readPrompt,
  readReply,
  readString,
  readStringArray,
  RecordContext,
  withPrefix,
} from './fields';
import { jsonType } from './jsonl';
import { DatasetKind, PreferenceExample, Prompt, ReviewRecord, RlExample, SftExample } from './records';

/** The record type of each dataset kind. */
export interface RecordOfKind {
  sft: SftExample;
  rl: RlExample;
  preference: PreferenceExample;
  review: ReviewRecord;
}

type Checker<K extends DatasetKind> = (ctx: RecordContext) => RecordOfKind[K] | undefined;

/** Returns `record` only if the checks since `errorsBefore` found no error. */
function unlessErrors<T>(ctx: RecordContext, errorsBefore: number, record: () => T): T | undefined {
  return ctx.errors === errorsBefore ? record() : undefined;
}

function checkSft(ctx: RecordContext): SftExample | undefined {
  if (ctx.has('messages')) return checkSftConversation(ctx);
  const before = ctx.errors;
  const prompt = readPrompt(ctx, 'prompt');
  const reply = readReply(ctx, 'completion');
  // SFT data for writing or QA has no tags, so template problems are only warnings here.
  if (reply) checkReasoning(ctx, reply.content, reply.path, 'warning');
  return unlessErrors(ctx, before, () => ({
    prompt: withPrefix(prompt!, reply!.prefix),
    completion: reply!.content,
    line: ctx.line,
  }));
}

/** `{"messages": [...]}`: the last assistant message is the completion, the ones before it the prompt. */
function checkSftConversation(ctx: RecordContext): SftExample | undefined {
  for (const key of ['prompt', 'completion']) {
    if (ctx.has(key)) ctx.error(`field "${key}" cannot be combined with "messages"; use one of the two forms`, [key]);
  }
  const messages = readMessages(ctx, ['messages']);
  if (!messages || ctx.errors > 0) return undefined;
  const last = messages.map((m) => m.role).lastIndexOf('assistant');
  if (last < 0) {
    ctx.error('field "messages" has no assistant message to learn from', ['messages']);
    return undefined;
  }
  if (last === 0) {
    ctx.error('messages[0] is the assistant reply, but no prompt message comes before it', ['messages', 0]);
    return undefined;
  }
  if (last < messages.length - 1) {
    ctx.warning(`messages after the last assistant reply (messages[${last}]) are not trained on`, [
      'messages',
      last + 1,
    ]);
  }
  const path = ['messages', last, 'content'];
  const completion = messages[last].content;
  if (completion.trim() === '') {
    ctx.error(`empty completion: messages[${last}].content is empty`, path);
    return undefined;
  }
  checkReasoning(ctx, completion, path, 'warning');
  return { prompt: messages.slice(0, last), completion, line: ctx.line };
}

const TASKS = ['math', 'code', 'general'] as const;

function checkRl(ctx: RecordContext): RlExample | undefined {
  const before = ctx.errors;
  // GSM8K names the prompt "question"; "prompt" wins when a record has both.
  const fromQuestion = !ctx.has('prompt') && ctx.has('question');
  let prompt: Prompt | undefined;
  if (fromQuestion) prompt = readString(ctx, ['question'], { required: true });
  else if (ctx.has('prompt')) prompt = readPrompt(ctx, 'prompt');
  else ctx.error('missing required field "prompt" (or GSM8K\'s "question")');

  const task = readEnum(ctx, 'task', TASKS, false) ?? 'math';
  const general = task === 'general';
  let answer = readString(ctx, ['answer'], { required: !general, emptyOk: general, numberOk: true }) ?? '';
  const marker = answer.lastIndexOf('####');
  if (marker >= 0) {
    // GSM8K: the worked solution, then "#### 42"; the reference is what follows the marker.
    answer = answer.slice(marker + 4).trim();
    if (answer === '') ctx.error('field "answer" has nothing after "####"', ['answer'], marker);
  } else if (fromQuestion && answer !== '') {
    ctx.warning('GSM8K-style answer has no "#### <answer>" line; the whole text is the reference answer', ['answer']);
  }

  const tests = readStringArray(ctx, 'tests');
  const rawTests = ctx.get(['tests']);
  if (task === 'code' && (rawTests === undefined || rawTests === null || tests?.length === 0)) {
    ctx.warning('task "code" has no "tests"; its code reward will always be 0', ['task']);
  }
  const language = readString(ctx, ['language'], { required: false });
  return unlessErrors(ctx, before, () => {
    const record: RlExample = { prompt: prompt!, answer, task, line: ctx.line };
    if (tests) record.tests = tests;
    if (language !== undefined) record.language = language;
    return record;
  });
}

function checkPreference(ctx: RecordContext): PreferenceExample | undefined {
  const before = ctx.errors;
  const chosen = readReply(ctx, 'chosen');
  const rejected = readReply(ctx, 'rejected');
  let prompt: Prompt | undefined;
  // TRL's implicit-prompt form: no "prompt", and chosen/rejected carry the same conversation.
  const implicit = !ctx.has('prompt') && chosen && chosen.prefix.length > 0;
  if (!implicit) prompt = readPrompt(ctx, 'prompt');
  if (chosen && rejected) {
    if (JSON.stringify(chosen.prefix) !== JSON.stringify(rejected.prefix)) {
      ctx.error('"chosen" and "rejected" must start with the same conversation before the reply', ['rejected']);
    } else if (chosen.content === rejected.content) {
      ctx.warning('"chosen" and "rejected" are identical; the pair teaches the reward model nothing', ['rejected']);
    }
  }
  // A rejected answer may be badly formed on purpose; flag template problems, never fail on them.
  if (chosen) checkReasoning(ctx, chosen.content, chosen.path, 'warning');
  if (rejected) checkReasoning(ctx, rejected.content, rejected.path, 'warning');
  return unlessErrors(ctx, before, () => ({
    prompt: implicit ? chosen.prefix : withPrefix(prompt!, chosen!.prefix),
    chosen: chosen!.content,
    rejected: rejected!.content,
    line: ctx.line,
  }));
}

const STATUSES = ['pending', 'accepted', 'rejected'] as const;

function checkReview(ctx: RecordContext): ReviewRecord | undefined {
  const before = ctx.errors;
  const prompt = readPrompt(ctx, 'prompt');
  const completion = readString(ctx, ['completion'], { required: true });
  const answer = readString(ctx, ['answer'], { required: false, emptyOk: true, numberOk: true });
  const rewards = readRewards(ctx);
  const status = readEnum(ctx, 'status', STATUSES, true);
  const source = readObject(ctx, 'source');
  // Review traces come from the reasoning model, so a broken template is an error, unless the
  // reviewer has already rejected the trace (it will never be trained on).
  if (completion !== undefined)
    checkReasoning(ctx, completion, ['completion'], status === 'rejected' ? 'warning' : 'error');
  return unlessErrors(ctx, before, () => {
    const record: ReviewRecord = {
      prompt: prompt!,
      completion: completion!,
      rewards: rewards!,
      status: status!,
      source: source!,
      line: ctx.line,
    };
    if (answer !== undefined) record.answer = answer;
    return record;
  });
}

function readRewards(ctx: RecordContext): Record<string, number> | undefined {
  const rewards = readObject(ctx, 'rewards');
  if (!rewards) return undefined;
  const before = ctx.errors;
  for (const [name, v] of Object.entries(rewards)) {
    if (typeof v !== 'number') {
      ctx.error(`field "rewards.${name}" must be a number, got ${jsonType(v)}`, ['rewards', name]);
    }
  }
  return ctx.errors === before ? (rewards as Record<string, number>) : undefined;
}

/** The checker for each kind. */
export const CHECKERS: { [K in DatasetKind]: Checker<K> } = {
  sft: checkSft,
  rl: checkRl,
  preference: checkPreference,
  review: checkReview,
};
