// Runs inside VS Code's extension host (see ./index.ts): activation, commands, contributions,
// and the review flow against a real editor (without relying on the daemon).
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'r1-workbench.r1-workbench';

const EXPECTED_COMMANDS: Record<string, string> = {
  'r1.runStage': 'Run Stage',
  'r1.runPipeline': 'Run Pipeline',
  'r1.stop': 'Stop',
  'r1.showDashboard': 'Show Training Dashboard',
  'r1.showRewards': 'Show Rewards Panel',
  'r1.reviewTraces': 'Review Traces',
  'r1.acceptTrace': 'Accept Trace',
  'r1.rejectTrace': 'Reject Trace',
  'r1.editTrace': 'Edit Trace',
  'r1.scoreSample': 'Score Sample',
  'r1.tryModel': 'Try Model',
  'r1.newDataset': 'New Dataset',
  'r1.openRun': 'Open Run',
  'r1.restartDaemon': 'Restart Daemon',
  'r1.showLogs': 'Show Logs',
};

interface Contributes {
  commands: { command: string; title: string; category: string }[];
  grammars: { scopeName: string; path: string; injectTo?: string[]; language?: string }[];
  jsonValidation: { fileMatch: string[]; url: string }[];
  views: Record<string, { id: string }[]>;
  walkthroughs: { id: string; steps: unknown[] }[];
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext;
}

const contributes = () => (extension().packageJSON as { contributes: Contributes }).contributes;

describe('R1 Workbench extension', () => {
  before(async () => {
    await extension().activate();
  });

  it('activates', () => {
    assert.equal(extension().isActive, true);
  });

  it('registers every command', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of Object.keys(EXPECTED_COMMANDS)) assert.ok(registered.has(id), `${id} registered`);
  });

  it('shows "R1: Run Stage" in the palette (category R1)', () => {
    const byId = new Map(contributes().commands.map((c) => [c.command, c]));
    for (const [id, title] of Object.entries(EXPECTED_COMMANDS)) {
      const c = byId.get(id);
      assert.ok(c, `${id} contributed`);
      assert.equal(c.title, title);
      assert.equal(c.category, 'R1');
    }
  });

  it('contributes the think injection grammar into JSON and JSON Lines', () => {
    const g = contributes().grammars.find((x) => x.scopeName === 'text.r1.think.injection');
    assert.ok(g);
    assert.deepEqual([...(g.injectTo ?? [])].sort(), ['source.json', 'source.json.lines']);
    assert.ok(contributes().grammars.some((x) => x.language === 'r1-record'));
  });

  it('contributes the config schema, the traces view and a walkthrough', () => {
    assert.ok(contributes().jsonValidation.some((j) => j.fileMatch.includes('r1.config.json')));
    assert.ok(contributes().views.r1.some((v) => v.id === 'r1.traces'));
    assert.ok(contributes().walkthroughs[0].steps.length >= 4);
  });

  it('accepts a trace through the editor and appends it to curated.jsonl', async () => {
    const folder = vscode.Uri.file(path.join(os.tmpdir(), `r1-review-${process.pid}-${Date.now()}`));
    await vscode.workspace.fs.createDirectory(folder);
    const review = vscode.Uri.joinPath(folder, 'traces.review.jsonl');
    const record = {
      prompt: 'What is 2 + 3?',
      completion: '<think>2+3=5</think><answer>5</answer>',
      status: 'pending',
    };
    await vscode.workspace.fs.writeFile(review, Buffer.from(JSON.stringify(record) + '\n'));
    const doc = await vscode.workspace.openTextDocument(review);
    await vscode.window.showTextDocument(doc);

    await vscode.commands.executeCommand('r1.acceptTrace', review.toString(), 0);

    assert.equal(JSON.parse(doc.lineAt(0).text).status, 'accepted');
    const curated = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'curated.jsonl'));
    assert.deepEqual(JSON.parse(curated.lineAt(0).text), { prompt: record.prompt, completion: record.completion });

    await vscode.commands.executeCommand('r1.rejectTrace', review.toString(), 0);
    assert.equal(JSON.parse(doc.lineAt(0).text).status, 'rejected');
    assert.equal(curated.getText().trim(), '', 'a rejected trace leaves curated.jsonl');
  });

  it('edits a record unescaped and writes one JSONL line back', async () => {
    const folder = vscode.Uri.file(path.join(os.tmpdir(), `r1-edit-${process.pid}-${Date.now()}`));
    await vscode.workspace.fs.createDirectory(folder);
    const file = vscode.Uri.joinPath(folder, 'data.jsonl');
    await vscode.workspace.fs.writeFile(file, Buffer.from('{"prompt": "p", "completion": "line1\\nline2"}\n'));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.commands.executeCommand('r1.editTrace', file.toString(), 0);
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor);
    assert.equal(editor.document.uri.scheme, 'r1-record');
    assert.equal(editor.document.languageId, 'r1-record');
    assert.ok(editor.document.getText().includes('line1\nline2'));
    await editor.edit((b) => b.replace(editor.document.positionAt(editor.document.getText().indexOf('line2')), 'new '));
    assert.ok(await editor.document.save());
    assert.deepEqual(JSON.parse(doc.lineAt(0).text), { prompt: 'p', completion: 'line1\nnew line2' });
  });
});
