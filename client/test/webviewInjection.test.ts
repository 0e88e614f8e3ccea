// Model output and run data are data, never markup: the Training Dashboard and the Rewards Panel
// (headless Chromium, client/test/webviewPage.ts) get completions, prompts, answers, run names,
// stage names, metric keys, reward names and banner texts that carry HTML/script payloads, and
// must show them as literal text: nothing runs (`window.__pwned` stays unset), no element of a
// payload reaches the DOM, no CSP violation is reported. Each page runs twice: under the webview
// CSP, and without any CSP, so a payload that reached the DOM would run instead of being blocked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { GroupRecord, MetricRecord, StageInfo } from '../../server/src/protocol/messages';
import { openWebview, poll, send, SKIP_BROWSER, WebviewPage } from './webviewPage';

const PAYLOADS = [
  '<script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=1">',
  '"><svg onload="window.__pwned=1">',
  '\'><iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
  '<a href="javascript:window.__pwned=1" id="pwn-link">click</a>',
  '<style>body{display:none}</style><b id="pwn-b">bold</b>',
  '&lt;img src=x onerror=window.__pwned=1&gt;', // already-escaped text must stay escaped, not be decoded
];
/** No `/`, so it fits a `rewards/<name>/mean` metric key. */
const KEY_PAYLOAD = '<img src=x onerror=window.__pwned=1>';
const all = PAYLOADS.join(' ');

/** Elements a payload would create if it were parsed as HTML. */
const INJECTED = 'script:not([src]), img, svg, iframe, style, [onerror], [onload], #pwn-link, #pwn-b';

interface PageFacts {
  pwned: unknown;
  injected: string[];
  text: string;
}

/** Waits a moment (an `<img onerror>` fires asynchronously), then reads what the page holds. */
async function facts(page: Page): Promise<PageFacts> {
  await new Promise((r) => setTimeout(r, 300));
  return page.evaluate((selector) => {
    const w = window as unknown as { __pwned?: unknown };
    return {
      pwned: w.__pwned,
      injected: Array.from(document.querySelectorAll(selector)).map((e) => e.outerHTML.slice(0, 80)),
      text: document.body.textContent ?? '',
    };
  }, INJECTED);
}

function assertInert(f: PageFacts): void {
  assert.equal(f.pwned, undefined, 'a payload ran');
  assert.deepEqual(f.injected, [], 'payload elements in the DOM');
}

function dashboardRecords(): MetricRecord[] {
  return Array.from({ length: 5 }, (_, i) => ({
    stage: i < 3 ? 'reasoning-rl' : PAYLOADS[1],
    step: i + 1,
    loss: 1 - i / 10,
    reward: i / 5,
    [`rewards/${KEY_PAYLOAD}/mean`]: i / 10,
    [PAYLOADS[0]]: i,
    ['__proto__']: 3, // a JSON key, not the prototype: JSON.parse makes it an own property
    'moe/load/layer0': [0.5, 0.5],
  })).map((r) => JSON.parse(JSON.stringify(r)) as MetricRecord);
}

function groups(): GroupRecord[] {
  const completion = (text: string) => ({
    text,
    rewards: { accuracy: 1, [KEY_PAYLOAD]: 0.5, constructor: 0.25 },
    reward: 1,
    advantage: 0.5,
    length: 12,
    truncated: false,
  });
  return [
    {
      step: 3,
      prompt: `What is 1 + 1? ${all}`,
      answer: PAYLOADS[2],
      trained: true,
      reward_names: ['accuracy', KEY_PAYLOAD, 'constructor', 'toString'],
      completions: [
        completion(`<think>\n${PAYLOADS[0]}\n</think>\n<answer>${PAYLOADS[1]}</answer>`),
        completion(all),
        completion(`<think>${PAYLOADS[3]}<answer>${PAYLOADS[4]}`),
      ],
    },
    {
      step: 3,
      prompt: [
        { role: PAYLOADS[5], content: PAYLOADS[1] },
        { role: 'user', content: PAYLOADS[6] },
      ],
      trained: false,
      reward_names: [],
      completions: [completion(PAYLOADS[2])],
    },
  ];
}

for (const csp of [true, false]) {
  const where = csp ? 'under the webview CSP' : 'without a CSP';

  describe(`Training Dashboard shows daemon data as text (${where})`, { skip: SKIP_BROWSER }, () => {
    let view: WebviewPage;
    before(async () => {
      view = await openWebview('dashboard', ['webview.css', 'dashboard.css'], { csp });
    });
    after(async () => {
      await view?.browser.close();
    });

    it('run name, error, daemon text, stage names and metric keys', async () => {
      const { page } = view;
      const stages: StageInfo[] = [{ stage: PAYLOADS[2] as never, step: 1, totalSteps: 2, done: false }];
      await send(page, {
        type: 'reset',
        runDir: PAYLOADS[3],
        runName: PAYLOADS[0],
        stages,
        records: dashboardRecords(),
        error: PAYLOADS[4],
      });
      await send(page, { type: 'daemon', text: PAYLOADS[5], ok: false });
      await send(page, {
        type: 'event',
        event: { jobId: PAYLOADS[1], kind: 'progress', stage: PAYLOADS[2], step: 1, total: 2, message: all },
      });
      await send(page, { type: 'event', event: { jobId: 'j', kind: 'started', stage: '__proto__', step: 1 } });
      await send(page, { type: 'metrics', records: [{ stage: PAYLOADS[6], step: 9, loss: 0.5 }] });
      const series = await poll('the reward chart drawn', () =>
        page.evaluate(() => document.querySelector<HTMLCanvasElement>('#chart-rewards canvas')?.dataset.series),
      );
      // The key reaches the chart as a label (drawn on the canvas), unchanged.
      assert.equal(series, `rewards/${KEY_PAYLOAD}/mean`);
      const f = await facts(page);
      assertInert(f);
      const title = await page.evaluate(() => document.getElementById('title')?.textContent);
      assert.equal(title, `Run ${PAYLOADS[0]}`);
      const banner = await page.evaluate(() => document.getElementById('banner')?.textContent);
      assert.equal(banner, `${PAYLOADS[5]} — ${PAYLOADS[4]}`);
      // The timeline lists the known stages only and still renders.
      const timeline = await page.evaluate(() => document.querySelectorAll('#timeline .stage').length);
      assert.equal(timeline, 7);
    });

    it('reported no CSP violation and no page error', async () => {
      assert.deepEqual(await view.violations(), []);
      assert.deepEqual(view.errors, []);
    });
  });

  describe(`Rewards Panel shows GRPO groups as text (${where})`, { skip: SKIP_BROWSER }, () => {
    let view: WebviewPage;
    before(async () => {
      view = await openWebview('rewards', ['webview.css', 'rewards.css'], { csp });
    });
    after(async () => {
      await view?.browser.close();
    });

    /** Sends the groups; the page keeps its prompt index within a step, so `group` is reached by its Next button. */
    const show = async (page: Page, group: number) => {
      await send(page, {
        type: 'groups',
        state: { runDir: PAYLOADS[3], stage: 'reasoning-rl', step: 3, group: 0 },
        runName: PAYLOADS[0],
        stages: ['reasoning-rl', PAYLOADS[1]],
        groups: groups(),
        error: PAYLOADS[4],
      });
      await send(page, { type: 'daemon', text: PAYLOADS[5], ok: false });
      if (group > 0) await page.click('button[title="Next prompt"]');
      return poll('the group shown', async () => {
        const text = await page.evaluate(() => document.getElementById('app')?.textContent ?? '');
        return text.includes(`prompt ${group + 1} of 2`) && text;
      });
    };

    it('prompt, answer, completions (with <think>/<answer>), reward names, stages, run name', async () => {
      const { page } = view;
      const text = await show(page, 0);
      assertInert(await facts(page));
      const heading = await page.evaluate(() => document.querySelector('h1')?.textContent);
      assert.equal(heading, `Rewards — ${PAYLOADS[0]}`);
      const pres = await page.evaluate(() =>
        Array.from(document.querySelectorAll('pre')).map((p) => p.textContent ?? ''),
      );
      const g = groups()[0];
      assert.deepEqual(pres, [g.prompt, ...g.completions.map((c) => c.text)]);
      // The template parts are still told apart: the think part is its own span, as text.
      const think = await page.evaluate(() => document.querySelector('pre.completion .seg-think')?.textContent);
      assert.equal(think, `\n${PAYLOADS[0]}\n`);
      const code = await page.evaluate(() => document.querySelector('.prompt code')?.textContent);
      assert.equal(code, PAYLOADS[2]);
      const options = await page.evaluate(() =>
        Array.from(document.querySelectorAll('option')).map((o) => [o.value, o.textContent]),
      );
      assert.deepEqual(options, [
        ['reasoning-rl', 'reasoning-rl'],
        [PAYLOADS[1], PAYLOADS[1]],
      ]);
      assert.ok(text.includes(`${KEY_PAYLOAD} 0.500`), 'the reward name chip, literally');
      // `constructor` is a reward name like any other, not Object.prototype's.
      assert.ok(text.includes('constructor 0.250'), text);
      const toStringTitle = await page.evaluate(() =>
        Array.from(document.querySelectorAll('.chip'))
          .find((c) => c.textContent?.startsWith('toString'))
          ?.getAttribute('title'),
      );
      assert.equal(toStringTitle, 'toString does not apply to this prompt');
      assert.ok(text.includes(PAYLOADS[5]) && text.includes(PAYLOADS[4]), 'the banner');
    });

    it('a conversational prompt with payloads in roles and contents', async () => {
      const { page } = view;
      await show(page, 1);
      assertInert(await facts(page));
      const prompt = await page.evaluate(() => document.querySelector('pre.prompt-text')?.textContent);
      assert.equal(prompt, `${PAYLOADS[5]}: ${PAYLOADS[1]}\nuser: ${PAYLOADS[6]}`);
    });

    it('reported no CSP violation and no page error', async () => {
      assert.deepEqual(await view.violations(), []);
      assert.deepEqual(view.errors, []);
    });
  });
}
