// New Dataset (a template per format of spec §3), Review Traces (pick a review file) and the
// walkthrough's "copy the samples into the workspace".
import * as vscode from 'vscode';
import { workspaceFolder } from '../settings';

interface Template extends vscode.QuickPickItem {
  records: object[];
}

const THINK = '<think>\n347 + 589: 7+9=16, write 6 carry 1; 4+8+1=13, write 3 carry 1; 3+5+1=9.\n</think>\n';

export const TEMPLATES: Template[] = [
  {
    label: 'SFT, standard',
    description: '{"prompt", "completion"}',
    detail: 'Cold start and SFT: reasoning completions in R1’s <think>/<answer> template',
    records: [
      { prompt: 'What is 347 + 589?', completion: `${THINK}<answer>936</answer>` },
      {
        prompt: 'Write a haiku about autumn.',
        completion: 'Leaves drift on cold wind,\nthe maple lets go of red,\nthe path keeps the sun.',
      },
    ],
  },
  {
    label: 'SFT, conversational',
    description: '{"messages": [{role, content}, …]}',
    detail: 'Chat-formatted SFT data',
    records: [
      {
        messages: [
          { role: 'system', content: 'You are a helpful assistant. Think before you answer.' },
          { role: 'user', content: 'What is 347 + 589?' },
          { role: 'assistant', content: `${THINK}<answer>936</answer>` },
        ],
      },
    ],
  },
  {
    label: 'RL / eval prompts',
    description: '{"prompt", "answer", "task"?}',
    detail: 'GRPO prompts with verifiable answers (task: math, code or general)',
    records: [
      { prompt: 'What is 347 + 589?', answer: '936', task: 'math' },
      { prompt: 'What is 71 - 908?', answer: '-837', task: 'math' },
      {
        prompt: 'Write a JavaScript function add(a, b) that returns a + b.',
        answer: '',
        task: 'code',
        tests: ['assert.strictEqual(add(2, 3), 5)'],
      },
    ],
  },
  {
    label: 'RL / eval, GSM8K style',
    description: '{"question", "answer": "… #### 42"}',
    detail: 'The text after #### is the answer',
    records: [
      {
        question: 'Tom has 3 boxes of 14 pens. How many pens does he have?',
        answer: '3 boxes of 14 is 3*14 = 42.\n#### 42',
      },
    ],
  },
  {
    label: 'Preference pairs',
    description: '{"prompt", "chosen", "rejected"}',
    detail: 'Reward-model training data',
    records: [
      {
        prompt: 'Explain what a carry is in addition.',
        chosen:
          'When a column adds up to 10 or more, you write the ones digit and carry the tens digit to the next column.',
        rejected: 'A carry is when you add numbers.',
      },
    ],
  },
  {
    label: 'Review file',
    description: '{"prompt", "completion", "rewards", "status", "source"}',
    detail: 'Traces to accept or reject; accepted ones go to curated.jsonl',
    records: [
      {
        prompt: 'What is 347 + 589?',
        completion: `${THINK}<answer>936</answer>`,
        answer: '936',
        rewards: { accuracy: 1, format: 1, language: 1 },
        status: 'pending',
        source: { stage: 'rejection-sampling', sample: 0 },
      },
    ],
  },
];

export async function newDataset(): Promise<void> {
  const pick = await vscode.window.showQuickPick(TEMPLATES, {
    title: 'R1: New Dataset',
    placeHolder: 'Dataset format',
    matchOnDescription: true,
  });
  if (!pick) return;
  const content = pick.records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const doc = await vscode.workspace.openTextDocument({ language: 'jsonl', content });
  await vscode.window.showTextDocument(doc);
}

/** Review files in the workspace, newest first; opens the picked one and the Traces view. */
export async function reviewTraces(): Promise<void> {
  const files = await vscode.workspace.findFiles(
    '{**/*.review.jsonl,**/rejection-sampling/*.jsonl}',
    '{**/node_modules/**,**/curated.jsonl}',
    200,
  );
  if (files.length === 0) {
    void vscode.window.showInformationMessage(
      'R1: no review file yet. Run the rejection-sampling stage, or create one with "R1: New Dataset" → Review file.',
    );
    return;
  }
  const withTimes = await Promise.all(
    files.map(async (uri) => ({ uri, mtime: (await vscode.workspace.fs.stat(uri)).mtime })),
  );
  withTimes.sort((a, b) => b.mtime - a.mtime);
  const pick =
    withTimes.length === 1
      ? withTimes[0]
      : await vscode.window.showQuickPick(
          withTimes.map((f) => ({
            label: vscode.workspace.asRelativePath(f.uri),
            description: new Date(f.mtime).toLocaleString(),
            uri: f.uri,
            mtime: f.mtime,
          })),
          { title: 'R1: Review Traces', placeHolder: 'Review file' },
        );
  if (!pick) return;
  await vscode.window.showTextDocument(pick.uri);
  await vscode.commands.executeCommand('r1.traces.focus');
}

/** Copies the extension's samples/ into the workspace (never over existing files). */
export async function copySamples(extensionUri: vscode.Uri): Promise<void> {
  const ws = workspaceFolder();
  if (!ws) {
    void vscode.window.showWarningMessage('R1: open a folder first; the samples are copied into it.');
    return;
  }
  const from = vscode.Uri.joinPath(extensionUri, 'samples');
  const to = vscode.Uri.joinPath(vscode.Uri.file(ws), 'samples');
  let copied = 0;
  for (const [name, type] of await vscode.workspace.fs.readDirectory(from)) {
    if (type !== vscode.FileType.File || name.endsWith('.ts')) continue;
    const target = vscode.Uri.joinPath(to, name);
    try {
      await vscode.workspace.fs.stat(target);
      continue; // keep the user's copy
    } catch {
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(from, name), target);
      copied++;
    }
  }
  const config = vscode.Uri.joinPath(to, 'r1.config.json');
  void vscode.window.showInformationMessage(`R1: copied ${copied} sample file(s) into samples/.`);
  await vscode.window.showTextDocument(config);
}
