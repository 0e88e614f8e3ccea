// Rewards Panel webview: one GRPO group — the prompt, each completion with its `<think>` and
// `<answer>` highlighted, per-function rewards, total and advantage — with step/prompt navigation.
import type { GroupCompletion, GroupRecord, StageId } from '../../../server/src/protocol/messages';
import { formatNumber, h, highlighted } from './dom';
import type { ExtensionToRewards, RewardsState, RewardsToExtension } from './messages';
import { vscodeApi } from './vscodeApi';

const api = vscodeApi<RewardsState, RewardsToExtension>();
let state: RewardsState = api.getState() ?? { follow: true };
let groups: GroupRecord[] = [];
let stages: StageId[] = [];
let runName: string | undefined;
let error: string | undefined;
let daemonText = '';
let loading = true;

function load(next: RewardsState): void {
  loading = true;
  state = next;
  api.setState(state);
  render();
  api.postMessage({ type: 'load', state });
}

function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) {
    return prompt
      .map((m: { role?: string; content?: string }) => `${m?.role ?? 'user'}: ${m?.content ?? ''}`)
      .join('\n');
  }
  return JSON.stringify(prompt);
}

function stats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length));
  return { mean, std };
}

function toolbar(): HTMLElement {
  const step = groups[0]?.step ?? state.step;
  const stageSelect = h(
    'select',
    { 'aria-label': 'Stage', disabled: stages.length < 2 },
    ...stages.map((s) => h('option', { value: s, selected: s === state.stage }, s)),
  );
  stageSelect.addEventListener('change', () =>
    load({ ...state, stage: stageSelect.value as StageId, step: undefined, group: 0 }),
  );
  const stepInput = h('input', { type: 'number', min: 0, value: step ?? '', 'aria-label': 'Step', className: 'step' });
  stepInput.addEventListener('change', () => {
    const n = Number(stepInput.value);
    if (Number.isInteger(n) && n >= 0) load({ ...state, step: n, group: 0, follow: false });
  });
  const follow = h('input', { type: 'checkbox', checked: !!state.follow && state.step === undefined });
  follow.addEventListener('change', () =>
    load({ ...state, follow: follow.checked, step: follow.checked ? undefined : step, group: 0 }),
  );
  const go = (delta: number) => () => {
    if (step === undefined) return;
    load({ ...state, step: Math.max(0, step + delta), group: 0, follow: false });
  };
  return h(
    'header',
    { className: 'toolbar' },
    h('h1', {}, runName ? `Rewards — ${runName}` : 'Rewards'),
    h('span', { className: 'spacer' }),
    stageSelect,
    h('button', { onclick: go(-1), title: 'Previous step', disabled: step === undefined || step <= 0 }, '◀'),
    h('label', {}, 'step ', stepInput),
    h('button', { onclick: go(1), title: 'Next step', disabled: step === undefined }, '▶'),
    h('button', { onclick: () => load({ ...state, step: undefined, group: 0 }), title: 'Latest step' }, 'Latest'),
    h('label', { title: 'Show each new step as the stage logs it' }, follow, ' follow'),
  );
}

function groupNav(index: number): HTMLElement {
  const go = (i: number) => () => {
    state = { ...state, group: i };
    api.setState(state);
    render();
  };
  return h(
    'div',
    { className: 'group-nav' },
    h('button', { onclick: go(index - 1), disabled: index <= 0, title: 'Previous prompt' }, '◀'),
    h('span', {}, `prompt ${index + 1} of ${groups.length}`),
    h('button', { onclick: go(index + 1), disabled: index >= groups.length - 1, title: 'Next prompt' }, '▶'),
  );
}

function completionCard(c: GroupCompletion, i: number, names: string[]): HTMLElement {
  const adv = c.advantage > 1e-9 ? 'pos' : c.advantage < -1e-9 ? 'neg' : 'zero';
  return h(
    'article',
    { className: `card adv-${adv}` },
    h(
      'div',
      { className: 'card-head' },
      h('span', { className: 'index' }, `#${i + 1}`),
      h('span', { className: 'total', title: 'Total reward (weighted sum)' }, `reward ${formatNumber(c.reward)}`),
      h(
        'span',
        { className: `advantage ${adv}`, title: 'Advantage within the group' },
        `A ${formatNumber(c.advantage)}`,
      ),
      h('span', { className: 'muted' }, `${c.length} tokens`),
      c.truncated
        ? h('span', { className: 'badge warn', title: 'Hit the completion length limit' }, 'truncated')
        : null,
      h('span', { className: 'spacer' }),
      ...names.map((n) => {
        // Own keys only: a reward named `constructor` or `toString` is data, not Object.prototype's.
        const has = Object.hasOwn(c.rewards, n);
        return h(
          'span',
          { className: 'chip', title: has ? `rewards/${n}` : `${n} does not apply to this prompt` },
          `${n} ${has ? formatNumber(c.rewards[n]) : '–'}`,
        );
      }),
    ),
    highlighted(c.text),
  );
}

function render(): void {
  const app = document.getElementById('app')!;
  const parts: (HTMLElement | null)[] = [toolbar()];
  const banner = [daemonText, error].filter(Boolean).join(' — ');
  if (banner) parts.push(h('p', { className: 'banner' }, banner));
  if (loading && groups.length === 0) parts.push(h('p', { className: 'muted' }, 'Loading…'));
  const index = Math.min(Math.max(0, state.group ?? 0), groups.length - 1);
  const g = groups[index];
  if (g) {
    const rewards = g.completions.map((c) => c.reward);
    const { mean, std } = stats(rewards);
    const names = g.reward_names?.length
      ? g.reward_names
      : [...new Set(g.completions.flatMap((c) => Object.keys(c.rewards)))];
    parts.push(
      groupNav(index),
      h(
        'section',
        { className: 'prompt' },
        h('h2', {}, `Step ${g.step} · prompt`),
        h('pre', { className: 'prompt-text' }, promptText(g.prompt)),
        g.answer !== undefined ? h('p', {}, 'Reference answer: ', h('code', {}, g.answer)) : null,
        h(
          'p',
          { className: 'summary' },
          `${g.completions.length} completions · mean reward ${formatNumber(mean)} · std ${formatNumber(std)}`,
          std < 1e-9
            ? h('span', { className: 'badge warn', title: 'All rewards equal: no learning signal' }, 'zero variance')
            : null,
          g.trained ? null : h('span', { className: 'badge', title: 'Dropped by dynamic sampling' }, 'not trained'),
        ),
      ),
      h('section', { className: 'completions' }, ...g.completions.map((c, i) => completionCard(c, i, names))),
    );
  }
  app.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
}

window.addEventListener('message', (ev: MessageEvent<ExtensionToRewards>) => {
  const m = ev.data;
  if (m.type === 'groups') {
    loading = false;
    groups = m.groups;
    stages = m.stages;
    runName = m.runName;
    error = m.error;
    state = { ...m.state, group: state.step === m.state.step ? state.group : 0 };
    api.setState(state);
  } else if (m.type === 'daemon') {
    daemonText = m.text;
  }
  render();
});

render();
api.postMessage({ type: 'initialized', state });
