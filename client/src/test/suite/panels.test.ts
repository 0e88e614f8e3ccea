// The Training Dashboard and Rewards Panel webviews inside the real workbench: opened by their
// commands as one editor tab each of their view types, and restorable after a reload.
//
// What can and cannot be checked in-host about restoring: a window reload (or an extension-host
// restart) would end this test run, and VS Code 1.100 keeps no webview in its closed-editors
// history (`workbench.action.reopenClosedEditor` only reopens editors with an untyped form), so
// nothing here can make the workbench call the extension's serializer. Checked instead: the
// `onWebviewPanel:` activation events that wake the extension for a restored panel; that a
// serializer is registered for each view type (the extension host refuses a second one); and the
// panels' `revive` (what the serializers call), from this suite's own copy of the panel classes,
// on a bare webview panel as the workbench hands it over and with a stand-in for the daemon: the
// options and page it sets up, that it becomes the panel the command reveals, and (rewards) that it
// keeps the saved run and stage. Not checked: the page's `initialized` handshake after a revive.
// In the extension-host test page of code-server no webview page loads its scripts (the
// vscode-cdn.net resource requests fail while the webview service worker waits for control), so
// only the UI scenarios of test/e2e see webview content.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../commandIds';
import type { Ctx } from '../../ctx';
import { DashboardPanel } from '../../panels/dashboardPanel';
import { RewardsPanel } from '../../panels/rewardsPanel';
import {
  closeAllTabs,
  extension,
  manifest,
  MessageSpy,
  poll,
  scratchFolder,
  sleep,
  spyMessages,
  webviewTabs,
  within,
} from './util';

const PANELS = [
  { name: 'dashboard', viewType: DashboardPanel.viewType, title: /^R1 Training\b/, command: Commands.showDashboard },
  { name: 'rewards panel', viewType: RewardsPanel.viewType, title: /^R1 Rewards\b/, command: Commands.showRewards },
];

/** Enough of a Ctx for a panel: the extension's folder, no daemon events, requests answered empty. */
function standInCtx(runDir: string) {
  const requests: { method: string; params: unknown }[] = [];
  const never = new vscode.EventEmitter<never>().event;
  const ctx = {
    extension: { extensionUri: extension().extensionUri },
    output: { appendLine: () => undefined },
    state: 'running',
    lastError: undefined,
    status: undefined,
    currentRun: runDir,
    resolveRun: async () => runDir,
    request: async (type: { method: string }, params: unknown) => {
      requests.push({ method: type.method, params });
      return [];
    },
    onMetric: never,
    onJobEvent: never,
    onDidChangeCurrentRun: never,
    onDidChangeState: never,
  };
  return { ctx: ctx as unknown as Ctx, requests };
}

describe('R1 Workbench extension: panels', () => {
  let spy: MessageSpy;

  before(async () => {
    await extension().activate();
    await closeAllTabs();
  });

  beforeEach(() => {
    spy = spyMessages();
  });

  afterEach(() => {
    spy.dispose();
  });

  after(async () => {
    await closeAllTabs();
  });

  it('activates on both panels’ view types (onWebviewPanel), so a restored panel wakes the extension', () => {
    const events = manifest().activationEvents ?? [];
    for (const p of PANELS) assert.ok(events.includes(`onWebviewPanel:${p.viewType}`), `onWebviewPanel:${p.viewType}`);
  });

  it('has a webview panel serializer registered for each view type', () => {
    // The extension host keeps one serializer per view type: registering another must fail.
    for (const p of PANELS) {
      let registered: vscode.Disposable | undefined;
      assert.throws(
        () => {
          registered = vscode.window.registerWebviewPanelSerializer(p.viewType, {
            deserializeWebviewPanel: async () => undefined,
          });
        },
        /already registered/,
        `a serializer for ${p.viewType}`,
      );
      registered?.dispose();
    }
  });

  for (const p of PANELS) {
    it(`opens the ${p.name} as one ${p.viewType} webview tab; a second call only reveals it`, async () => {
      await within(p.command, vscode.commands.executeCommand(p.command));
      const [tab] = await poll(`a ${p.viewType} tab`, () => {
        const tabs = webviewTabs(p.viewType);
        return tabs.length ? tabs : undefined;
      });
      assert.match(tab.label, p.title);
      assert.equal(tab.isActive, true);
      await within(p.command, vscode.commands.executeCommand(p.command));
      await sleep(200);
      assert.equal(webviewTabs(p.viewType).length, 1, 'a second call reveals the open panel');
      assert.deepEqual(spy.of('error'), []);
    });

    it(`opens a fresh ${p.name} after its tab was closed`, async () => {
      const [tab] = webviewTabs(p.viewType);
      assert.ok(tab, `the ${p.name} is open`);
      await vscode.window.tabGroups.close(tab);
      await poll(`the ${p.viewType} tab to close`, () => webviewTabs(p.viewType).length === 0);
      // A panel that forgot its disposal would be "revealed" here (and throw) instead.
      await within(p.command, vscode.commands.executeCommand(p.command));
      const [again] = await poll(`a new ${p.viewType} tab`, () => {
        const tabs = webviewTabs(p.viewType);
        return tabs.length ? tabs : undefined;
      });
      assert.match(again.label, p.title);
      assert.deepEqual(spy.of('error'), []);
    });
  }

  describe('revive (what the serializers call on restore)', () => {
    let runDir: string;

    before(async () => {
      await closeAllTabs();
      runDir = path.join((await scratchFolder('runs')).fsPath, 'restored-run');
    });

    afterEach(async () => {
      await closeAllTabs();
    });

    /** What revive must set up for the page to run: scripts on, only media/ readable, a CSP'd script. */
    const assertPage = (panel: vscode.WebviewPanel, script: string) => {
      const { options, html } = panel.webview;
      assert.equal(options.enableScripts, true, 'scripts enabled again');
      assert.deepEqual(
        options.localResourceRoots?.map((u) => u.toString()),
        [vscode.Uri.joinPath(extension().extensionUri, 'media').toString()],
      );
      const nonce = /script-src 'nonce-([^']+)'/.exec(html)?.[1];
      assert.ok(nonce, 'a CSP with a script nonce');
      const tag = /<script nonce="([^"]+)" src="([^"]+)"/.exec(html);
      assert.equal(tag?.[1], nonce, 'the script carries the nonce');
      assert.ok(tag[2].endsWith(`/media/out/${script}`), tag[2]);
    };

    /** A panel as the workbench restores it: the view type and title, no options or html yet. */
    const barePanel = (viewType: string, title: string) =>
      vscode.window.createWebviewPanel(viewType, title, { viewColumn: vscode.ViewColumn.Active }, {});

    it('revives a bare dashboard panel into the one Show Dashboard reveals', async () => {
      const { ctx } = standInCtx(runDir);
      const panel = barePanel(DashboardPanel.viewType, 'R1 Training');
      DashboardPanel.revive(ctx, panel, { runDir });
      assertPage(panel, 'dashboard.js');
      await poll('the revived panel’s tab', () => webviewTabs(DashboardPanel.viewType).length === 1);
      const shown = DashboardPanel.createOrShow(ctx);
      await sleep(200);
      assert.equal(webviewTabs(DashboardPanel.viewType).length, 1, 'no second dashboard');
      // Disposing it lets the next call open a new one.
      shown.dispose();
      await poll('the revived dashboard to close', () => webviewTabs(DashboardPanel.viewType).length === 0);
      const fresh = DashboardPanel.createOrShow(ctx);
      await poll('a new dashboard', () => webviewTabs(DashboardPanel.viewType).length === 1);
      fresh.dispose();
    });

    it('revives a rewards panel with its saved run and stage', async () => {
      const { ctx, requests } = standInCtx(runDir);
      const panel = barePanel(RewardsPanel.viewType, 'R1 Rewards');
      RewardsPanel.revive(ctx, panel, { runDir, stage: 'reasoning-rl', follow: false });
      assertPage(panel, 'rewards.js');
      await poll('the revived panel’s tab', () => webviewTabs(RewardsPanel.viewType).length === 1);
      // Navigating the revived panel (what Show Rewards with a step does) keeps its run and stage.
      const shown = RewardsPanel.createOrShow(ctx, { step: 3 });
      await sleep(200);
      assert.equal(webviewTabs(RewardsPanel.viewType).length, 1, 'no second rewards panel');
      const groups = await poll('a groups request', () => requests.find((r) => r.method === 'r1/groups'));
      assert.deepEqual(groups.params, { runDir, stage: 'reasoning-rl', step: 3 });
      await poll('the title to name the stage', () => panel.title === 'R1 Rewards — reasoning-rl');
      shown.dispose();
    });
  });
});
