// Accept / Reject on a review file through the real editor: the status edit lands in the open
// document (saved or left dirty per `r1.review.autoSave`), curated.jsonl beside it follows, and
// the edit is undoable. Each test starts from its own review file (two pending traces) in a
// fresh folder of the workspace.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Commands } from '../../commandIds';
import {
  closeAllTabs,
  exists,
  extension,
  jsonl,
  MessageSpy,
  poll,
  readText,
  reviewRecord,
  scratchFolder,
  spyMessages,
  within,
  writeText,
} from './util';

const RECORDS = [reviewRecord(12, 30), reviewRecord(5, 7)];
const pair = (r: Record<string, unknown>) => ({ prompt: r.prompt, completion: r.completion });

describe('R1 Workbench extension: review edits', () => {
  let review: vscode.Uri;
  let curated: vscode.Uri;
  let doc: vscode.TextDocument;
  let spy: MessageSpy;

  const status = (line: number) => JSON.parse(doc.lineAt(line).text).status as string;
  const statusesOnDisk = async () => jsonl(await readText(review)).map((r) => r.status);
  const curatedOnDisk = async () => ((await exists(curated)) ? jsonl(await readText(curated)) : []);
  const run = async (command: string, line: number) => {
    await vscode.window.showTextDocument(doc);
    await within(command, vscode.commands.executeCommand(command, review.toString(), line), 30_000);
  };
  const setAutoSave = (value: boolean | undefined) =>
    vscode.workspace
      .getConfiguration('r1')
      .update(
        'review.autoSave',
        value,
        vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global,
      );

  before(async () => {
    await extension().activate();
  });

  beforeEach(async () => {
    spy = spyMessages();
    const folder = await scratchFolder('review');
    review = vscode.Uri.joinPath(folder, 'traces.review.jsonl');
    curated = vscode.Uri.joinPath(folder, 'curated.jsonl');
    await writeText(review, RECORDS.map((r) => JSON.stringify(r) + '\n').join(''));
    doc = await vscode.workspace.openTextDocument(review);
    await vscode.window.showTextDocument(doc);
  });

  afterEach(async () => {
    spy.dispose();
    await setAutoSave(undefined);
    await closeAllTabs();
  });

  it('Accept Trace sets "status":"accepted" in the editor, saves it and appends the pair to curated.jsonl', async () => {
    assert.equal(vscode.workspace.getConfiguration('r1').get('review.autoSave'), true, 'autoSave defaults to on');
    await run(Commands.acceptTrace, 0);
    assert.match(doc.lineAt(0).text, /"status":\s*"accepted"/);
    assert.deepEqual(JSON.parse(doc.lineAt(0).text), { ...RECORDS[0], status: 'accepted' }, 'only the status changed');
    assert.equal(status(1), 'pending', 'the other trace is untouched');
    await poll('the review file to be saved', () => !doc.isDirty);
    assert.deepEqual(await statusesOnDisk(), ['accepted', 'pending']);
    assert.deepEqual(await curatedOnDisk(), [pair(RECORDS[0])]);
    // A second accept appends below the first.
    await run(Commands.acceptTrace, 1);
    await poll('the review file to be saved', () => !doc.isDirty);
    assert.deepEqual(await curatedOnDisk(), [pair(RECORDS[0]), pair(RECORDS[1])]);
    assert.deepEqual(spy.of('error'), []);
  });

  it('undo (one Ctrl+Z in the review file) reverts the line and takes back the curated.jsonl it created', async () => {
    await run(Commands.acceptTrace, 0);
    await poll('the review file to be saved', () => !doc.isDirty);
    assert.equal(await exists(curated), true);
    await vscode.window.showTextDocument(doc);
    await within('undo', vscode.commands.executeCommand('undo'));
    await poll('the review line to be pending again', () => status(0) === 'pending', 3000);
    assert.deepEqual(JSON.parse(doc.lineAt(0).text), RECORDS[0]);
    assert.equal(doc.isDirty, true, 'the file on disk still says accepted until saved');
    assert.equal(await exists(curated), false, 'the curated.jsonl the accept created is gone again');
    assert.ok(await doc.save());
    assert.deepEqual(await statusesOnDisk(), ['pending', 'pending']);
    assert.deepEqual(spy.of('error'), []);
  });

  it('with r1.review.autoSave off, Accept leaves the edits unsaved in the editor', async () => {
    await writeText(curated, JSON.stringify(pair(RECORDS[1])) + '\n');
    await setAutoSave(false);
    await run(Commands.acceptTrace, 0);
    assert.equal(status(0), 'accepted');
    assert.equal(doc.isDirty, true, 'not saved');
    assert.deepEqual(await statusesOnDisk(), ['pending', 'pending'], 'the file on disk is unchanged');
    const curatedDoc = await vscode.workspace.openTextDocument(curated);
    assert.equal(curatedDoc.isDirty, true, 'curated.jsonl not saved either');
    assert.deepEqual(jsonl(curatedDoc.getText()), [pair(RECORDS[1]), pair(RECORDS[0])]);
    assert.deepEqual(await curatedOnDisk(), [pair(RECORDS[1])]);
    assert.deepEqual(spy.of('error'), []);
  });

  it('Reject on an accepted trace removes its pair from curated.jsonl (and again changes nothing)', async () => {
    await run(Commands.acceptTrace, 0);
    await run(Commands.acceptTrace, 1);
    assert.deepEqual(await curatedOnDisk(), [pair(RECORDS[0]), pair(RECORDS[1])]);
    await run(Commands.rejectTrace, 0);
    assert.match(doc.lineAt(0).text, /"status":\s*"rejected"/);
    await poll('the review file to be saved', () => !doc.isDirty);
    assert.deepEqual(await curatedOnDisk(), [pair(RECORDS[1])], 'the rejected pair is gone, the other stays');
    assert.deepEqual(await statusesOnDisk(), ['rejected', 'accepted']);
    // Rejecting again (already rejected) changes nothing in curated.jsonl.
    await run(Commands.rejectTrace, 0);
    assert.deepEqual(await curatedOnDisk(), [pair(RECORDS[1])]);
    assert.deepEqual(spy.of('error'), []);
  });

  it('Accept on a line that is not a review record warns and edits nothing', async () => {
    const data = vscode.Uri.joinPath(review, '..', 'data.jsonl');
    await writeText(data, '{"prompt":"p","completion":"c"}\n');
    const plain = await vscode.workspace.openTextDocument(data);
    await within('acceptTrace', vscode.commands.executeCommand(Commands.acceptTrace, data.toString(), 0), 30_000);
    assert.equal(plain.getText(), '{"prompt":"p","completion":"c"}\n');
    assert.equal(plain.isDirty, false);
    assert.equal(await exists(curated), false);
    assert.deepEqual(spy.of('warning'), ['R1: line 1 is not a review record (it has no "status").']);
  });
});
