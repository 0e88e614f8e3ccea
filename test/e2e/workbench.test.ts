// End-to-end: the extension as a user meets it. The VSIX built from this checkout is installed
// into a real VS Code (code-server 4.100.3), driven through Chromium: the command palette, the
// Training Dashboard and Rewards Panel webviews, the editor's tokens, the Problems panel and code
// lenses; then the extension-host mocha suite runs inside the same server.
// Screenshots and logs: test-artifacts/e2e/. Run with `npm run test:e2e` (see test/e2e/README.md).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Frame } from 'playwright-core';
import {
  ARTIFACTS,
  buildVsix,
  checkPrerequisites,
  CodeServer,
  CodeServerOptions,
  ensureCodeServer,
  installExtension,
  isolatedEnv,
} from './codeServer';
import { runExtensionHostTests } from './extensionHost';
import * as S from './selectors';
import { launchChromium, poll, Workbench } from './workbench';
import {
  BROKEN_MESSAGE,
  BROKEN_RECORD_LINE,
  createWorkspace,
  reviewRecord,
  TINY,
  Workspace,
  writeUserSettings,
} from './workspace';

const KEEP = process.env.R1_E2E_KEEP === '1'; // keep the scratch folder (profile, workspace) for debugging
const STAGE_TIMEOUT = 120_000;

let scratch: string | undefined;
let server: CodeServer | undefined;
let browser: Browser | undefined;
let wb: Workbench | undefined;
let ws: Workspace;
let userDataDir: string;
let failed = false;
let interrupted = false;
const timings: Record<string, number> = {};

function log(line: string): void {
  process.stdout.write(`# e2e: ${line}\n`);
  fs.appendFileSync(path.join(ARTIFACTS, 'e2e.log'), `[${new Date().toISOString()}] ${line}\n`);
}

async function timed<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[what] = (Date.now() - t0) / 1000;
    log(`${what}: ${timings[what].toFixed(1)}s`);
  }
}

let tornDown: Promise<void> | undefined;
function teardown(): Promise<void> {
  tornDown ??= (async () => {
    const steps: [string, () => Promise<unknown> | unknown][] = [
      ['stop code-server', () => server?.stop()],
      ['close the browser', () => browser?.close()],
      [
        'save VS Code logs',
        () => {
          const logs = userDataDir && path.join(userDataDir, 'logs');
          if (logs && fs.existsSync(logs)) fs.cpSync(logs, path.join(ARTIFACTS, 'vscode-logs'), { recursive: true });
        },
      ],
      [
        'remove the scratch folder',
        () => {
          if (!scratch) return;
          if (KEEP || (failed && !interrupted)) log(`scratch folder kept: ${scratch}`);
          else fs.rmSync(scratch, { recursive: true, force: true });
        },
      ],
    ];
    for (const [what, fn] of steps) {
      try {
        await fn();
      } catch (err) {
        log(`teardown: could not ${what}: ${err instanceof Error ? err.message : err}`);
      }
    }
    fs.writeFileSync(path.join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  })();
  return tornDown;
}

// code-server runs in its own process group: a Ctrl-C of the test run stops it too.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    interrupted = true;
    log(`${sig}: tearing down`);
    const hard = setTimeout(() => process.exit(130), 15_000);
    void teardown().finally(() => {
      clearTimeout(hard);
      process.exit(130);
    });
  });
}

before(
  async () => {
    const t0 = Date.now();
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    checkPrerequisites(false);
    const entry = await timed('install code-server (skipped when cached)', () => ensureCodeServer(log));
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-e2e-'));
    const env = isolatedEnv(scratch);
    const vsix = path.join(scratch, 'r1.vsix');
    await timed('build + package VSIX', () => buildVsix(vsix, path.join(ARTIFACTS, 'build.log')));
    userDataDir = path.join(scratch, 'user-data');
    writeUserSettings(userDataDir);
    const opts: CodeServerOptions = {
      entry,
      env,
      userDataDir,
      extensionsDir: path.join(scratch, 'extensions'),
      configFile: path.join(scratch, 'code-server.yaml'),
      logFile: path.join(ARTIFACTS, 'code-server.log'),
    };
    await timed('install the VSIX', () => installExtension(opts, vsix));
    ws = createWorkspace(path.join(scratch, 'workspace'));
    server = await timed('start code-server', () => CodeServer.start(opts, ws.dir));
    log(`code-server at ${server.url} (pgid ${server.child.pid}), workspace ${ws.dir}`);
    browser = await timed('launch chromium', () => launchChromium(env));
    wb = await timed('open the workbench', () =>
      Workbench.open(browser!, `${server!.url}/?folder=${encodeURIComponent(ws.dir)}`, ARTIFACTS, 'browser-console'),
    );
    timings['setup total'] = (Date.now() - t0) / 1000;
  },
  { timeout: 8 * 60_000 },
);

after(teardown, { timeout: 60_000 });

/** Wraps a scenario: marks the run failed (keeps the scratch folder) and screenshots the end state. */
function scenario(id: string, name: string, timeoutMs: number, fn: (w: Workbench, step: Step) => Promise<void>): void {
  test(name, { timeout: timeoutMs }, async () => {
    assert.ok(wb, 'the workbench did not open (see the before hook)');
    const w = wb;
    const t0 = Date.now();
    try {
      await w.reset();
      await fn(w, (stepName, body) => w.step(id, stepName, body));
      await w.screenshot(`${id}--done`);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      timings[id] = (Date.now() - t0) / 1000;
    }
  });
}
type Step = <T>(name: string, body: () => Promise<T>) => Promise<T>;

/** Runs "R1: Run Stage" → `stage` from the palette and waits for the job's outcome notification. */
async function runStageFromPalette(w: Workbench, step: Step, stage: string): Promise<void> {
  await step(`run "R1: Run Stage" and pick ${stage}`, async () => {
    await w.runCommand('R1: Run Stage');
    await w.pick('R1: Run Stage', stage);
  });
  const outcome = await step(`wait for ${stage} to end`, () =>
    w.toast(new RegExp(`R1: stage ${stage} (finished|failed|stopped|cancelled)`), STAGE_TIMEOUT),
  );
  assert.match(outcome, new RegExp(`R1: stage ${stage} finished`), `the ${stage} job did not finish: ${outcome}`);
}

function readJsonl(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** The number of points the dashboard's loss chart should draw for these records (merged per stage:step). */
function lossPoints(records: Record<string, unknown>[]): number {
  const merged = new Map<string, Record<string, unknown>>();
  for (const r of records) merged.set(`${r.stage}:${r.step}`, { ...merged.get(`${r.stage}:${r.step}`), ...r });
  let n = 0;
  for (const r of merged.values()) n += ['loss', 'eval/loss'].filter((k) => typeof r[k] === 'number').length;
  return n;
}

interface ChartState {
  empty: boolean;
  points: number | undefined;
  /** Pixels drawn in the first dataset's colour and the columns they span. */
  linePixels: number;
  lineColumns: number;
}

function chartState(frame: Frame, id: string): Promise<ChartState> {
  return frame.evaluate(
    ({ fig, canvasSel }) => {
      const figure = document.querySelector(fig);
      const canvas = document.querySelector<HTMLCanvasElement>(canvasSel);
      const points = canvas?.dataset.points;
      const out = {
        empty: !figure || figure.classList.contains('empty'),
        points: points === undefined ? undefined : Number(points),
        linePixels: 0,
        lineColumns: 0,
      };
      if (!canvas || !canvas.width || !canvas.height) return out;
      const css = getComputedStyle(document.documentElement).getPropertyValue('--vscode-charts-blue').trim();
      const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(css || '#3794ff');
      const [r, g, b] = m ? [1, 2, 3].map((i) => parseInt(m[i], 16)) : [55, 148, 255];
      const { data, width } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      const columns = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 128) continue;
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) > 90) continue;
        out.linePixels++;
        columns.add((i / 4) % width);
      }
      out.lineColumns = columns.size;
      return out;
    },
    { fig: S.dashboard.chart(id), canvasSel: S.dashboard.chartCanvas(id) },
  );
}

scenario('startup', 'the workbench opens the workspace and the R1 daemon starts', 90_000, async (w, step) => {
  const text = await step('status bar shows the daemon idle', () => w.statusItem(/R1 idle/, 60_000));
  assert.match(text, /R1 idle · (auto|gpu|node|wasm|cpu)/);
});

scenario(
  'dashboard',
  'Run Stage → pretrain: the Training Dashboard chart receives points',
  180_000,
  async (w, step) => {
    const frame = await step('open the Training Dashboard', async () => {
      await w.runCommand('R1: Show Training Dashboard');
      return w.webview(S.dashboard.timeline);
    });
    const before = await chartState(frame, 'loss');
    assert.equal(before.empty, true, 'the loss chart is empty before any run');
    assert.equal(before.points ?? 0, 0);

    await step('run "R1: Run Stage" and pick pretrain', async () => {
      await w.runCommand('R1: Run Stage');
      await w.pick('R1: Run Stage', 'pretrain');
    });
    // Sample the chart while the stage trains: points must arrive live, not only after it ends.
    const samples: ChartState[] = [];
    const pretrain = frame.locator(S.dashboard.stage('pretrain'));
    await step('watch the loss chart while pretrain runs', () =>
      poll(
        'the timeline to mark pretrain done',
        async () => {
          samples.push(await chartState(frame, 'loss'));
          const cls = (await pretrain.getAttribute('class', { timeout: 1000 })) ?? '';
          return /\bdone\b/.test(cls);
        },
        STAGE_TIMEOUT,
      ),
    );
    const metricsFile = path.join(ws.runDir, 'pretrain', 'metrics.jsonl');
    const expected = lossPoints(readJsonl(metricsFile));
    assert.ok(expected >= TINY.stages.pretrain.steps / TINY.stages.pretrain.logEvery, `loss records in ${metricsFile}`);
    const final = await step(`the loss chart shows all ${expected} points`, () =>
      poll(
        `${expected} points on the loss chart`,
        async () => {
          const s = await chartState(frame, 'loss');
          return s.points === expected ? s : undefined;
        },
        15_000,
      ),
    );
    fs.writeFileSync(path.join(ARTIFACTS, 'dashboard-samples.json'), JSON.stringify({ expected, samples }, null, 1));
    assert.equal(final.empty, false);
    assert.ok(final.lineColumns > 100, `the loss line is drawn across the chart (${final.lineColumns} columns)`);
    const partial = samples.filter((s) => (s.points ?? 0) > 0 && (s.points ?? 0) < expected);
    assert.ok(partial.length > 0, `points arrived while pretrain ran (samples: ${samples.map((s) => s.points)})`);
    assert.equal(await frame.locator(S.dashboard.noData).isHidden(), true, '"No metrics" is hidden');
    const state = await pretrain.locator(S.dashboard.stageState).innerText();
    assert.match(state, new RegExp(`done · ${TINY.stages.pretrain.steps} / ${TINY.stages.pretrain.steps}`));
    await step('the run ends with a notification', () => w.toast(/R1: stage pretrain finished/, 30_000));
  },
);

scenario('rewards', 'cold start + reasoning RL: the Rewards Panel shows a GRPO group', 240_000, async (w, step) => {
  await runStageFromPalette(w, step, 'cold-start');
  await runStageFromPalette(w, step, 'reasoning-rl');
  const groups = readJsonl(path.join(ws.runDir, 'reasoning-rl', 'groups.jsonl'));
  assert.ok(groups.length > 0, 'groups.jsonl has groups');

  const frame = await step('open the Rewards Panel', async () => {
    await w.runCommand('R1: Show Rewards Panel');
    return w.webview(S.rewards.completion, 30_000);
  });
  const rl = TINY.stages['reasoning-rl'];
  const cards = frame.locator(S.rewards.completion);
  assert.equal(await cards.count(), rl.numGenerations, 'one card per completion of the group');
  assert.match(await frame.locator(S.rewards.promptText).innerText(), /What is \d+ [-+*] \d+\?/);
  assert.match(await frame.locator(S.rewards.groupNav).innerText(), new RegExp(`prompt 1 of ${rl.promptsPerStep}`));
  assert.match(await frame.locator(S.rewards.summary).innerText(), new RegExp(`${rl.numGenerations} completions`));
  const chips = await cards.first().locator(S.rewards.rewardChip).allInnerTexts();
  for (const name of ['accuracy', 'format', 'language']) {
    assert.ok(
      chips.some((c) => c.startsWith(name)),
      `a ${name} reward chip (${chips.join(', ')})`,
    );
  }
  assert.match(await frame.locator(S.rewards.title).innerText(), /Rewards — default/);
});

scenario('think-tokens', 'a .jsonl dataset: <think> content gets its own token colour', 90_000, async (w, step) => {
  await step('open cold-start.jsonl with Quick Open', () => w.quickOpen('cold-start.jsonl'));
  const first = readJsonl(path.join(ws.dir, 'cold-start.jsonl'))[0] as { prompt: string; completion: string };
  const thinkLine = first.completion.split('\n')[1]; // the first line of the reasoning, e.g. "063+611"
  const classes = await step('the editor tokenizes <think> apart from plain string text', () =>
    poll(
      'distinct token classes for <think> content and the prompt string',
      async () => {
        // View lines are recycled DOM nodes: find the one showing the first record.
        const lines = await w.page.locator(`${S.editor.active} ${S.editor.viewLine}`).evaluateAll((els) =>
          els.map((line) =>
            [...line.querySelectorAll('span > span')].map((e) => ({
              // the editor renders spaces as U+00A0
              text: (e.textContent ?? '').replace(/\u00a0/g, ' '),
              cls: e.className,
            })),
          ),
        );
        const tokens = lines.find((l) => l.some((t) => t.text.includes(first.prompt))) ?? [];
        const prompt = tokens.find((t) => t.text.includes(first.prompt));
        const tag = tokens.find((t) => /^<?think>?$/.test(t.text));
        const content = tokens.find((t) => t.text.includes(thinkLine));
        if (!prompt || !tag || !content) throw new Error(`line 1 not rendered yet (${JSON.stringify(tokens)})`);
        const colour = (cls: string) => /\bmtk\d+\b/.exec(cls)?.[0];
        const found = { prompt: colour(prompt.cls), tag: colour(tag.cls), content: colour(content.cls) };
        // Tokenization is asynchronous: until it lands, everything in the string has one colour.
        if (found.prompt === found.content || found.prompt === found.tag) throw new Error(JSON.stringify(found));
        return found;
      },
      30_000,
    ),
  );
  for (const c of Object.values(classes)) assert.match(c ?? '', /^mtk\d+$/);
  assert.notEqual(classes.content, classes.prompt, '<think> content vs string text');
  assert.notEqual(classes.tag, classes.prompt, '<think> tag vs string text');
  fs.writeFileSync(path.join(ARTIFACTS, 'think-tokens.json'), JSON.stringify(classes, null, 2));
});

scenario('problems', 'a broken record shows up in the Problems panel', 90_000, async (w, step) => {
  await step('open data/broken.jsonl', () => w.quickOpen('broken.jsonl'));
  await step('the editor underlines the broken record', () =>
    w.page
      .locator(`${S.editor.active} ${S.editor.squiggleError}`)
      .first()
      .waitFor({ state: 'attached', timeout: 30_000 }),
  );
  const row = await step('the Problems panel lists the error', async () => {
    await w.page.keyboard.press('Control+Shift+M');
    const r = w.page.locator(S.panels.problemRow).filter({ hasText: BROKEN_MESSAGE }).first();
    await r.waitFor({ state: 'visible', timeout: 30_000 });
    return r;
  });
  const text = await row.innerText();
  assert.match(text, new RegExp(`\\[Ln ${BROKEN_RECORD_LINE}, Col \\d+\\]`));
  assert.ok((await row.getAttribute('aria-label'))?.includes(BROKEN_MESSAGE));
  await w.page.keyboard.press('Control+Shift+M'); // close the panel again
});

scenario('review', 'accepting a trace through its code lens writes curated.jsonl', 90_000, async (w, step) => {
  await step('open review/traces.review.jsonl', () => w.quickOpen('traces.review.jsonl'));
  const accept = w.page.locator(`${S.editor.active} ${S.editor.codeLens}`, { hasText: /^Accept$/ }).first();
  await step('click the first record’s Accept code lens', async () => {
    await accept.waitFor({ state: 'visible', timeout: 30_000 });
    await accept.click();
  });
  const record = reviewRecord(12, 30);
  const expected = { prompt: record.prompt, completion: record.completion };
  const curated = await step('curated.jsonl on disk holds the accepted pair', () =>
    poll(
      'curated.jsonl with the accepted trace',
      async () => (fs.existsSync(ws.curated) && readJsonl(ws.curated).length ? readJsonl(ws.curated) : undefined),
      20_000,
    ),
  );
  assert.deepEqual(curated, [expected]);
  const saved = await step('the review file on disk marks it accepted', () =>
    poll(
      'the review file saved with status accepted',
      async () => {
        const recs = readJsonl(ws.review);
        return recs[0].status === 'accepted' ? recs : undefined;
      },
      20_000,
    ),
  );
  assert.equal(saved[1].status, 'pending', 'the other trace is untouched');
  await step('the code lens now reads "Accepted ✓"', () =>
    w.page
      .locator(`${S.editor.active} ${S.editor.codeLens}`, { hasText: 'Accepted' })
      .first()
      .waitFor({ state: 'visible', timeout: 20_000 }),
  );
});

test('extension-host mocha suite passes inside code-server', { timeout: 240_000 }, async () => {
  assert.ok(browser && server, 'code-server did not start (see the before hook)');
  const folder = fs.mkdtempSync(path.join(scratch!, 'exthost-ws-'));
  const t0 = Date.now();
  try {
    const result = await runExtensionHostTests(browser, server.url, folder, ARTIFACTS);
    log(`extension-host suite: exit ${result.exitCode}\n${result.output}`);
    assert.equal(result.exitCode, 0, `the extension-host suite failed:\n${result.output}`);
    assert.match(result.output, /\d+ passing/);
    assert.doesNotMatch(result.output, /\d+ failing/);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    timings['extension-host suite'] = (Date.now() - t0) / 1000;
  }
});
