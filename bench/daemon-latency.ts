// Editor latency of the daemon while it trains: starts `r1 daemon --stdio` as an LSP client
// would, opens a generated 10,000-record dataset, starts a pretrain stage in the same daemon, then
// applies incremental edits and times, for each, the publishDiagnostics of that version, a hover
// and a documentSymbol request. Prints p50/p95 per measure; `--json` adds one JSON object as the
// last line (for CI and comparisons).
//
// The diagnostics debounce is sent as initializationOptions.diagnosticsDebounceMs (default here:
// 0, so the figures are the work and the transport, not the wait); `--debounce 200` measures what
// an editor sees with the daemon's default, and the table shows both the raw time and the time
// minus the debounce.
//
// Run: node --import tsx bench/daemon-latency.ts [--json] [--records 10000] [--edits 100]
//        [--debounce 0] [--steps 1000000] [--idle]
// `--idle` starts no training stage: the same measures with the daemon otherwise idle, to tell
// what training costs the editor from what the edits cost.
// Backend: R1_TEST_BACKEND (default wasm), as for the integration tests whose helpers this uses.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import {
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol';
import {
  Notifications,
  Requests,
  type DaemonStatus,
  type JobEvent,
  type JobRef,
} from '../server/src/protocol/messages';
import {
  BACKEND,
  lspConnection,
  Recorder,
  spawnDaemon,
  stopDaemon,
  tempWorkspace,
  writeTinyConfig,
} from '../test/integration/helpers/daemon';
import { benchDatasetLines, nextEdit } from './diagnostics';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    records: { type: 'string', default: '10000' },
    edits: { type: 'string', default: '100' },
    debounce: { type: 'string', default: '0' },
    // Far more than the measurement lasts, so the stage trains throughout; it is cancelled at the end.
    steps: { type: 'string', default: '1000000' },
    idle: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(args.records);
const EDITS = Number(args.edits);
const DEBOUNCE_MS = Number(args.debounce);
const STEPS = Number(args.steps);
/** Per wait; a daemon that stops answering ends the bench instead of hanging it. */
const TIMEOUT_MS = 120_000;

/** Nearest-rank percentile of `xs` (p in 0..100). */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function isRecord(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

interface Measures {
  diagnostics: number[];
  hover: number[];
  symbols: number[];
  openMs: number;
  /** Diagnostics per publish: the edits that break and repair records must move this. */
  counts: number[];
}

async function measure(conn: MessageConnection, uri: string, lines: string[]): Promise<Measures> {
  const diagnostics = new Recorder<PublishDiagnosticsParams>();
  conn.onNotification(PublishDiagnosticsNotification.type, diagnostics.push);
  const forVersion = (version: number, from: number) =>
    diagnostics.wait((p) => p.uri === uri && p.version === version, `diagnostics v${version}`, TIMEOUT_MS, from);

  const [, openMs] = await timed(async () => {
    await conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'jsonl', version: 1, text: lines.join('\n') + '\n' },
    });
    await forVersion(1, 0);
  });
  const out: Measures = { diagnostics: [], hover: [], symbols: [], openMs, counts: [] };
  const broken: { line?: number } = {};
  for (let i = 0; i < EDITS; i++) {
    const version = i + 2;
    const change = nextEdit(i, lines, broken);
    const from = diagnostics.items.length;
    const [published, ms] = await timed(async () => {
      await conn.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version },
        contentChanges: [change],
      });
      return forVersion(version, from);
    });
    out.diagnostics.push(ms);
    out.counts.push(published.diagnostics.length);
    const line = change.range.start.line;
    const [hover, hoverMs] = await timed(() =>
      conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 3 } }),
    );
    // A broken line has no record to hover; every other one must answer with its breakdown.
    if (!hover && isRecord(lines[line])) throw new Error(`no hover on line ${line + 1}`);
    out.hover.push(hoverMs);
    const [symbols, symbolsMs] = await timed(() =>
      conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }),
    );
    if ((symbols?.length ?? 0) !== lines.length)
      throw new Error(`${symbols?.length} symbols for ${lines.length} lines`);
    out.symbols.push(symbolsMs);
  }
  return out;
}

function table(rows: [string, number[]][]): string {
  const head = ['measure (ms)', 'n', 'p50', 'p95', 'max'];
  const body = rows.map(([name, xs]) => [
    name,
    String(xs.length),
    ...[percentile(xs, 50), percentile(xs, 95), Math.max(...xs)].map((x) => x.toFixed(1)),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((cell, c) => (c ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
}

/** Starts the pretrain stage and waits for its first step: before that the worker is still loading. */
async function startTraining(
  conn: MessageConnection,
  events: Recorder<JobEvent>,
  config: string,
  workspace: string,
): Promise<{ jobId: string; firstStep: number }> {
  const job = await conn.sendRequest<JobRef>(Requests.runStage, {
    stage: 'pretrain',
    config,
    out: path.join(workspace, 'runs', 'bench'),
  });
  const first = await events.wait(
    (e) => e.jobId === job.jobId && (e.kind === 'progress' || e.kind === 'failed'),
    'the first training step',
    TIMEOUT_MS,
  );
  if (first.kind === 'failed') throw new Error(`training failed: ${first.message}`);
  return { jobId: job.jobId, firstStep: first.step ?? 0 };
}

async function main(): Promise<void> {
  const workspace = tempWorkspace('bench');
  const lines = benchDatasetLines(RECORDS);
  const uri = pathToFileURL(path.join(workspace, 'bench.jsonl')).href;
  const config = writeTinyConfig(workspace, { pretrain: { steps: STEPS, logEvery: 5 } });
  const daemon = spawnDaemon(['--stdio', '--workspace', workspace]);
  const conn = lspConnection(daemon);
  const events = new Recorder<JobEvent>();
  conn.onNotification(Notifications.jobEvent, events.push);
  try {
    await conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(workspace).href,
      capabilities: {},
      initializationOptions: { diagnosticsDebounceMs: DEBOUNCE_MS },
    });
    await conn.sendNotification(InitializedNotification.type, {});

    const job = args.idle ? undefined : await startTraining(conn, events, config, workspace);
    const load0 = os.loadavg()[0];
    const t0 = performance.now();
    const m = await measure(conn, uri, lines);
    const seconds = (performance.now() - t0) / 1000;
    const load1 = os.loadavg()[0];

    const status = await conn.sendRequest<DaemonStatus>(Requests.status);
    const trained = job !== undefined && status.state === 'running' && status.job?.jobId === job.jobId;
    const steps = Math.max(0, (status.job?.step ?? 0) - (job?.firstStep ?? 0));
    if (job) await conn.sendRequest(Requests.cancel, { jobId: job.jobId });

    const minus = m.diagnostics.map((x) => Math.max(0, x - DEBOUNCE_MS));
    const text = lines.join('\n');
    const out = process.stdout;
    const during = job ? 'while training' : 'idle (--idle: no training stage)';
    out.write(`daemon latency ${during} (backend ${BACKEND}, ${os.cpus().length} CPUs)\n`);
    out.write(`dataset: ${RECORDS} records, ${(text.length / 1e6).toFixed(1)} MB; ${EDITS} incremental edits\n`);
    out.write(`diagnostics debounce: ${DEBOUNCE_MS} ms (initializationOptions.diagnosticsDebounceMs)\n`);
    out.write(`open to first diagnostics: ${m.openMs.toFixed(1)} ms\n`);
    out.write(`diagnostics per publish: ${Math.min(...m.counts)} to ${Math.max(...m.counts)}\n`);
    if (job)
      out.write(
        `training: ${trained ? 'ran throughout' : 'NOT running at the end'}, ${steps} steps in ${seconds.toFixed(1)} s\n`,
      );
    out.write(`load average (1 min): ${load0.toFixed(2)} before, ${load1.toFixed(2)} after\n\n`);
    out.write(
      table([
        ['diagnostics (edit to publish)', m.diagnostics],
        [`diagnostics - ${DEBOUNCE_MS} ms debounce`, minus],
        ['hover', m.hover],
        ['documentSymbol', m.symbols],
      ]) + '\n',
    );
    if (args.json) {
      const r = (x: number) => Math.round(x * 10) / 10;
      const summary = {
        records: RECORDS,
        edits: EDITS,
        backend: BACKEND,
        debounce_ms: DEBOUNCE_MS,
        open_diagnostics_ms: r(m.openMs),
        diagnostics_p50_ms: r(percentile(m.diagnostics, 50)),
        diagnostics_p95_ms: r(percentile(m.diagnostics, 95)),
        diagnostics_minus_debounce_p50_ms: r(percentile(minus, 50)),
        diagnostics_minus_debounce_p95_ms: r(percentile(minus, 95)),
        hover_p50_ms: r(percentile(m.hover, 50)),
        hover_p95_ms: r(percentile(m.hover, 95)),
        document_symbol_p50_ms: r(percentile(m.symbols, 50)),
        document_symbol_p95_ms: r(percentile(m.symbols, 95)),
        training: job !== undefined,
        training_throughout: trained,
        training_steps: steps,
        seconds: r(seconds),
        cpus: os.cpus().length,
        loadavg_1m: r(load1),
      };
      out.write(`${JSON.stringify(summary)}\n`);
    }
  } catch (err) {
    process.stderr.write(`daemon stderr:\n${daemon.stderr()}\n`);
    throw err;
  } finally {
    // A clean LSP exit; stopDaemon kills it if that does not end it in time.
    await Promise.race([
      (async () => {
        await conn.sendRequest(ShutdownRequest.type);
        await conn.sendNotification(ExitNotification.type);
      })().catch(() => {}),
      new Promise((r) => setTimeout(r, 5000).unref()),
    ]);
    conn.dispose();
    await stopDaemon(daemon);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
