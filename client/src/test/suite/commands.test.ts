// The command table inside the real extension host: the manifest's commands against what the
// extension registers, and a few commands run end to end in a workspace with no daemon job.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Commands } from '../../commandIds';
import { TEMPLATES } from '../../commands/datasets';
import {
  closeAllTabs,
  extension,
  jsonl,
  manifest,
  MessageSpy,
  poll,
  reviewRecord,
  scratchFolder,
  spyMessages,
  within,
  writeText,
} from './util';

/** Commands VS Code derives from the `r1.traces` view contribution (focus, reset location, …). */
const VIEW_COMMAND = /^r1\.traces\./;

/** Accepts the active quick pick's selected item until `done` (the pick opens asynchronously). */
async function acceptQuickPickUntil<T>(what: string, done: () => T | undefined): Promise<T> {
  return poll(
    what,
    async () => {
      const v = done();
      if (v) return v;
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return undefined;
    },
    10_000,
    150,
  );
}

describe('R1 Workbench extension: commands', () => {
  let spy: MessageSpy;

  before(async () => {
    await extension().activate();
  });

  beforeEach(() => {
    spy = spyMessages();
  });

  afterEach(async () => {
    spy.dispose();
    await closeAllTabs();
  });

  it('contributes exactly the command ids the extension declares (commandIds.ts)', () => {
    const contributed = manifest().contributes.commands.map((c) => c.command);
    assert.equal(new Set(contributed).size, contributed.length, 'no command is contributed twice');
    assert.deepEqual([...contributed].sort(), Object.values(Commands).sort());
  });

  it('registers every contributed command, and no r1.* command the manifest lacks', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = manifest().contributes.commands.map((c) => c.command);
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], 'contributed but not registered');
    const extra = [...registered].filter(
      (id) => id.startsWith('r1.') && !VIEW_COMMAND.test(id) && !contributed.includes(id),
    );
    assert.deepEqual(extra, [], 'registered but not in contributes.commands');
  });

  it('puts every command in category R1 with a distinct title', () => {
    const commands = manifest().contributes.commands;
    for (const c of commands) {
      assert.equal(c.category, 'R1', `${c.command} category`);
      assert.ok(c.title.trim(), `${c.command} has a title`);
    }
    const titles = commands.map((c) => c.title);
    assert.equal(new Set(titles).size, titles.length, 'titles are distinct in the palette');
  });

  it('Show Logs reveals the R1 Workbench output channel without an error', async () => {
    await within('r1.showLogs', vscode.commands.executeCommand(Commands.showLogs));
    // The Output panel's editor shows the channel (it is not open before: nothing logs loudly).
    const out = await poll('the R1 Workbench output channel to be visible', () =>
      vscode.window.visibleTextEditors.find(
        (e) =>
          e.document.uri.scheme === 'output' && decodeURIComponent(e.document.uri.toString()).includes('R1 Workbench'),
      ),
    );
    assert.ok(out.document.getText().length > 0, 'the channel has the daemon log');
    assert.deepEqual(spy.of('error'), []);
  });

  it('New Dataset opens an untitled JSONL document with the picked template', async () => {
    const opened = vscode.commands.executeCommand(Commands.newDataset);
    const editor = await acceptQuickPickUntil('the new dataset editor', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.isUntitled && e.document.languageId === 'jsonl' ? e : undefined;
    });
    await within('r1.newDataset', opened);
    const template = TEMPLATES[0]; // the first item, the one a plain Enter picks
    const expected = template.records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    assert.equal(editor.document.getText(), expected);
    const records = jsonl(editor.document.getText());
    assert.ok(records.length > 0);
    for (const r of records) assert.equal(typeof r.prompt, 'string');
    assert.ok(
      records.some((r) => String(r.completion).includes('<think>')),
      'a reasoning completion',
    );
    assert.deepEqual(spy.of('error'), []);
  });

  it('Stop with no job says nothing is running (the daemon answers, no error)', async () => {
    await within('r1.stop', vscode.commands.executeCommand(Commands.stop), 30_000);
    assert.deepEqual(spy.of('error'), []);
    assert.deepEqual(spy.of('info'), ['R1: nothing is running.']);
  });

  it('Review Traces opens the newest review file of the workspace', async () => {
    const folder = await scratchFolder('review-traces');
    const file = vscode.Uri.joinPath(folder, 'fresh.review.jsonl');
    await writeText(file, JSON.stringify(reviewRecord(1, 2)) + '\n');
    const run = vscode.commands.executeCommand(Commands.reviewTraces);
    // With several review files in the workspace it asks which, newest first.
    const editor = await acceptQuickPickUntil('the review file in an editor', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.uri.toString() === file.toString() ? e : undefined;
    });
    await within('r1.reviewTraces', run);
    assert.equal(editor.document.lineCount >= 1, true);
    assert.deepEqual(spy.of('error'), []);
    assert.deepEqual(spy.of('info'), [], 'no "no review file yet" message');
  });

  it('Refresh Traces and Restart Daemon run without an error', async () => {
    await within('r1.refreshTraces', vscode.commands.executeCommand(Commands.refreshTraces));
    await within('r1.restartDaemon', vscode.commands.executeCommand(Commands.restartDaemon), 30_000);
    assert.deepEqual(spy.of('error'), []);
    assert.deepEqual(spy.of('info'), ['R1: daemon restarted.']);
  });
});
