// The daemon as a language server over stdio, the way vscode-languageclient starts it:
// diagnostics with the right lines (and after incremental edits), hovers, code lenses,
// symbols, and the score / review / generate / status requests.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import {
  CodeLensRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  type CodeLens,
  type DocumentSymbol,
  type Hover,
  type InitializeResult,
  type LogMessageParams,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol';
import {
  LensCommands,
  Requests,
  type DaemonStatus,
  type ReviewResult,
  type ScoreResult,
} from '../../server/src/protocol/messages';
import {
  type Daemon,
  lspConnection,
  Recorder,
  spawnDaemon,
  stopDaemon,
  tempWorkspace,
  waitForTokenFile,
} from './helpers/daemon';

// Bounds each test, so a daemon that stops answering fails the test instead of hanging the suite.
const LIMIT = { timeout: 90_000 };

const SFT_LINES = [
  '{"prompt": "What is 2 + 2?", "completion": "<think>\\n2+2=4\\n</think>\\n<answer>4</answer>", "answer": "4"}',
  '{"prompt": "What is 3 + 3?", "completion": ',
  '{"prompt": "What is 5 + 5?", "completion": "<think>\\nadd 5 和 5 得到 10\\n</think>\\n<answer>10</answer>"}',
  '{"prompt": "What is 6 + 6?", "completion": 12}',
  '{"prompt": "What is 2 + 2?", "completion": "<think>\\nfour\\n</think>\\n<answer>4</answer>"}',
];
const REVIEW_LINES = [
  '{"prompt": "What is 3 + 4?", "completion": "<think>\\n3+4=7\\n</think>\\n<answer>7</answer>", "answer": "7", "rewards": {"accuracy": 1}, "status": "pending", "source": {"sample": 0}}',
  '{"prompt": "What is 3 + 5?", "completion": "<think>\\n3+5=9\\n</think>\\n<answer>9</answer>", "answer": "8", "rewards": {"accuracy": 0}, "status": "accepted", "source": {"sample": 1}}',
];

let daemon: Daemon | undefined;
let conn: MessageConnection;
let workspace: string;
let init: InitializeResult;
const diagnostics = new Recorder<PublishDiagnosticsParams>();
const logs = new Recorder<LogMessageParams>();
const sftUri = () => pathToFileURL(path.join(workspace, 'data.jsonl')).href;
const reviewUri = () => pathToFileURL(path.join(workspace, 'review.jsonl')).href;

before(async () => {
  workspace = tempWorkspace('lsp');
  fs.writeFileSync(path.join(workspace, 'review.jsonl'), REVIEW_LINES.join('\n') + '\n');
  daemon = spawnDaemon(['--stdio', '--workspace', workspace]);
  conn = lspConnection(daemon);
  conn.onNotification(PublishDiagnosticsNotification.type, diagnostics.push);
  conn.onNotification(LogMessageNotification.type, logs.push);
  init = await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(workspace).href,
    capabilities: {},
  });
  await conn.sendNotification(InitializedNotification.type, {});
  const open = (uri: string, lines: string[]) =>
    conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'jsonl', version: 1, text: lines.join('\n') + '\n' },
    });
  await open(sftUri(), SFT_LINES);
  await open(reviewUri(), REVIEW_LINES);
}, LIMIT);

after(async () => {
  conn?.dispose();
  await stopDaemon(daemon);
  fs.rmSync(workspace, { recursive: true, force: true });
});

test('initialize announces incremental sync, hovers, code lenses and symbols', LIMIT, () => {
  const caps = init.capabilities;
  const sync = caps.textDocumentSync as { change?: number };
  assert.equal(sync.change, 2, 'TextDocumentSyncKind.Incremental');
  assert.ok(caps.hoverProvider);
  assert.ok(caps.codeLensProvider);
  assert.ok(caps.documentSymbolProvider);
});

test('diagnostics point at the broken lines (0-based LSP lines)', LIMIT, async () => {
  const published = await diagnostics.wait((p) => p.uri === sftUri(), 'diagnostics for data.jsonl');
  const byLine = (line: number) => published.diagnostics.filter((d) => d.range.start.line === line);
  assert.equal(byLine(0).length, 0, 'the good record has no diagnostics');
  assert.match(byLine(1)[0]?.message ?? '', /invalid JSON/);
  assert.equal(byLine(1)[0].severity, 1);
  const mixed = byLine(2).find((d) => d.code === 'mixed-language');
  assert.ok(mixed, 'mixed-language warning on line 2');
  assert.equal(mixed.severity, 2);
  assert.match(byLine(3)[0]?.message ?? '', /completion/);
  assert.match(byLine(4)[0]?.message ?? '', /duplicate prompt: same as line 1/);
  // Ranges underline something on their own line.
  for (const d of published.diagnostics) {
    assert.equal(d.range.start.line, d.range.end.line);
    assert.ok(d.range.end.character > d.range.start.character, JSON.stringify(d));
  }
});

test('an incremental edit that fixes line 1 republishes without its error', LIMIT, async () => {
  const from = diagnostics.items.length;
  const end = SFT_LINES[1].length;
  await conn.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: sftUri(), version: 2 },
    contentChanges: [
      {
        range: { start: { line: 1, character: end }, end: { line: 1, character: end } },
        text: '"<think>\\n3+3=6\\n</think>\\n<answer>6</answer>"}',
      },
    ],
  });
  const published = await diagnostics.wait(
    (p) => p.uri === sftUri() && p.version === 2,
    'diagnostics v2',
    10_000,
    from,
  );
  assert.equal(published.diagnostics.filter((d) => d.range.start.line === 1).length, 0);
  assert.ok(
    published.diagnostics.some((d) => d.range.start.line === 3),
    'other problems are still reported',
  );
});

test('hover shows token counts and the reward breakdown', LIMIT, async () => {
  const hover = (await conn.sendRequest(HoverRequest.type, {
    textDocument: { uri: sftUri() },
    position: { line: 0, character: 5 },
  })) as Hover;
  const text = (hover.contents as { value: string }).value;
  assert.match(text, /Tokens: prompt \d+ · completion \d+/);
  assert.match(text, /\| accuracy \| 1 \|/);
  assert.match(text, /\| format \| 1 \|/);
  assert.match(text, /\*\*total\*\*/);
});

test('code lenses: Accept/Reject/Score on review records, Score on SFT records', LIMIT, async () => {
  const lenses = (await conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: reviewUri() } })) as CodeLens[];
  const onLine0 = lenses.filter((l) => l.range.start.line === 0).map((l) => l.command?.command);
  assert.deepEqual(
    onLine0.sort(),
    [LensCommands.acceptTrace, LensCommands.rejectTrace, LensCommands.scoreSample].sort(),
  );
  const accept = lenses.find((l) => l.command?.command === LensCommands.acceptTrace && l.range.start.line === 1);
  assert.deepEqual(accept?.command?.arguments, [reviewUri(), 1]);
  const sft = (await conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: sftUri() } })) as CodeLens[];
  assert.ok(sft.every((l) => l.command?.command === LensCommands.scoreSample));
  assert.ok(sft.some((l) => l.range.start.line === 0));
});

test('document symbols: one per record, named by its prompt', LIMIT, async () => {
  const symbols = (await conn.sendRequest(DocumentSymbolRequest.type, {
    textDocument: { uri: reviewUri() },
  })) as DocumentSymbol[];
  assert.deepEqual(
    symbols.map((s) => [s.name, s.range.start.line, s.detail]),
    [
      ['What is 3 + 4?', 0, 'pending'],
      ['What is 3 + 5?', 1, 'accepted'],
    ],
  );
});

test('score: reward breakdown of a record by uri and line', LIMIT, async () => {
  const right = await conn.sendRequest<ScoreResult>(Requests.score, { uri: reviewUri(), line: 0 });
  assert.deepEqual(right.rewards, { accuracy: 1, format: 1, language: 1 });
  assert.ok(right.tokens > 10);
  const wrong = await conn.sendRequest<ScoreResult>(Requests.score, { uri: reviewUri(), line: 1 });
  assert.equal(wrong.rewards.accuracy, 0);
  assert.ok(wrong.total < right.total);
  await assert.rejects(conn.sendRequest(Requests.score, { uri: reviewUri(), line: 7 }), /not a JSON object record/);
});

test('review: accept/edit return edits of that line; the file is not written', LIMIT, async () => {
  const before = fs.readFileSync(path.join(workspace, 'review.jsonl'), 'utf8');
  const accept = await conn.sendRequest<ReviewResult>(Requests.review, { uri: reviewUri(), line: 0, action: 'accept' });
  assert.equal(accept.edits.length, 1);
  const applied = applyEdits(REVIEW_LINES[0], accept.edits);
  assert.equal(JSON.parse(applied).status, 'accepted');
  assert.equal(applied.replace('"accepted"', '"pending"'), REVIEW_LINES[0], 'only the status value changes');

  const edit = await conn.sendRequest<ReviewResult>(Requests.review, {
    uri: reviewUri(),
    line: 1,
    action: 'edit',
    completion: '<think>\n3+5=8\n</think>\n<answer>8</answer>',
  });
  const edited = JSON.parse(applyEdits(REVIEW_LINES[1], edit.edits));
  assert.equal(edited.completion, '<think>\n3+5=8\n</think>\n<answer>8</answer>');
  assert.equal(edited.status, 'accepted');
  assert.equal(fs.readFileSync(path.join(workspace, 'review.jsonl'), 'utf8'), before);
  await assert.rejects(
    conn.sendRequest(Requests.review, { uri: sftUri(), line: 0, action: 'accept' }),
    /not a review record/,
  );
});

test('generate without a checkpoint is an error that names the fix', LIMIT, async () => {
  await assert.rejects(conn.sendRequest(Requests.generate, { prompt: 'What is 1 + 1?' }), /--checkpoint/);
});

test('status, token file and HTTP endpoints in --stdio mode (503: no checkpoint served)', LIMIT, async () => {
  const status = await conn.sendRequest<DaemonStatus>(Requests.status);
  assert.equal(status.state, 'idle');
  assert.equal(status.tokenFile, path.join(workspace, '.r1', 'daemon.json'));
  const info = await waitForTokenFile(status.tokenFile!);
  assert.equal(fs.statSync(status.tokenFile!).mode & 0o777, 0o600);
  assert.equal(info.ws, status.ws);
  const res = await fetch(`${info.http}/v1/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${info.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'What is 1 + 1?' }),
  });
  assert.equal(res.status, 503);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /no checkpoint/);
  const models = await fetch(`${info.http}/v1/models`, { headers: { Authorization: `Bearer ${info.token}` } });
  assert.deepEqual(((await models.json()) as { data: unknown[] }).data, []);
});

test('the log reaches the LSP client, and daemon.log in the workspace', LIMIT, async () => {
  const ready = await logs.wait((m) => m.message.startsWith('ready: '), 'the ready log line', 10_000);
  const line = JSON.parse(ready.message.slice('ready: '.length)) as { http: string; ws: string };
  assert.match(line.ws, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
  assert.match(fs.readFileSync(path.join(workspace, '.r1', 'daemon.log'), 'utf8'), /ready: /);
});

test('closing stdin (the editor went away) stops the daemon and removes the token file', LIMIT, async () => {
  const tokenFile = path.join(workspace, '.r1', 'daemon.json');
  assert.ok(fs.existsSync(tokenFile));
  conn.dispose();
  daemon!.child.stdin!.end();
  await daemon!.exited;
  assert.equal(fs.existsSync(tokenFile), false);
});

function applyEdits(line: string, edits: ReviewResult['edits']): string {
  const sorted = [...edits].sort((a, b) => b.range.start.character - a.range.start.character);
  for (const e of sorted) {
    assert.equal(e.range.start.line, e.range.end.line);
    line = line.slice(0, e.range.start.character) + e.newText + line.slice(e.range.end.character);
  }
  return line;
}
