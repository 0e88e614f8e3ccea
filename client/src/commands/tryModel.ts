// Try Model: a prompt in, the model's completion streamed into an untitled document.
import * as vscode from 'vscode';
import type { GenerateParams } from '../../../server/src/protocol/messages';
import { Ctx, messageOf } from '../ctx';
import * as ext from '../lspExt';
import { RECORD_LANGUAGE } from '../review/recordText';
import { readSettings, runsRoot } from '../settings';

let streamCounter = 0;

export async function tryModel(ctx: Ctx): Promise<void> {
  const prompt = await vscode.window.showInputBox({
    title: 'R1: Try Model',
    prompt: 'Prompt for the model',
    value: 'What is 347 + 589?',
    ignoreFocusOut: true,
  });
  if (!prompt) return;
  const checkpoint = await pickCheckpoint(ctx);
  if (checkpoint === null) return;

  const header = `=== prompt ===\n${prompt}\n=== completion${checkpoint ? ` (${checkpoint})` : ''} ===\n`;
  const doc = await vscode.workspace.openTextDocument({ language: RECORD_LANGUAGE, content: header });
  await vscode.window.showTextDocument(doc, { preview: false });

  const streamId = `try-${process.pid}-${++streamCounter}`;
  let streamed = false;
  // Chunks are applied one after another, in arrival order.
  let queue: Thenable<unknown> = Promise.resolve();
  const append = (text: string) => {
    queue = queue.then(() => {
      const edit = new vscode.WorkspaceEdit();
      edit.insert(doc.uri, doc.lineAt(doc.lineCount - 1).range.end, text);
      return vscode.workspace.applyEdit(edit);
    });
    return queue;
  };
  const sub = ctx.onGenerateChunk((c) => {
    if (c.streamId !== streamId) return;
    streamed = true;
    void append(c.text);
  });
  const params: GenerateParams = { prompt, streamId, checkpoint: checkpoint || undefined };
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'R1: generating…', cancellable: true },
      async (_progress, token) => {
        const result = await ctx.request(ext.generate, params, token);
        await queue;
        if (!streamed) await append(result.text);
        await append(`\n=== ${result.tokens} tokens ===\n`);
      },
    );
  } catch (err) {
    if (err instanceof vscode.CancellationError) await append('\n=== cancelled ===\n');
    else {
      await append(`\n=== error: ${messageOf(err)} ===\n`);
      throw err;
    }
  } finally {
    sub.dispose();
  }
}

/** The served checkpoint (''), a checkpoint picked from the runs, or null when the user gave up. */
async function pickCheckpoint(ctx: Ctx): Promise<string | null> {
  const status = await ctx.refreshStatus();
  if (status?.serving) return '';
  const root = runsRoot(readSettings());
  let runs: { runDir: string; name: string; stages: { stage: string; checkpoint?: string; done: boolean }[] }[];
  try {
    runs = ext.asList(await ctx.request(ext.listRuns, { root }), 'runs');
  } catch {
    return ''; // let the daemon say what it serves
  }
  const picks = runs.flatMap((run) =>
    run.stages
      .filter((s) => s.checkpoint)
      .map((s) => ({
        label: `${run.name} / ${s.stage}`,
        description: s.done ? 'done' : 'partial',
        detail: s.checkpoint,
        checkpoint: s.checkpoint!,
      })),
  );
  if (picks.length === 0) return '';
  if (picks.length === 1) return picks[0].checkpoint;
  const pick = await vscode.window.showQuickPick(picks.reverse(), {
    title: 'R1: Try Model',
    placeHolder: 'Checkpoint to sample from',
    matchOnDetail: true,
  });
  return pick ? pick.checkpoint : null;
}
