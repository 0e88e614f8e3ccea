// The daemon (spec §6): one process per workspace. It serves LSP over stdio when the editor
// starts it (`--stdio`), and always an HTTP + WebSocket server on 127.0.0.1 for webviews,
// `r1` clients and OpenAI-compatible clients. Training and sampling run in worker threads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import type { BackendName } from '../backend/backend';
import { checkpointExists } from '../checkpoint/checkpoint';
import { LANGUAGE_CAPABILITIES, registerLanguageFeatures } from '../lsp';
import { Notifications, type DaemonReadyLine, type DaemonStatus } from '../protocol/messages';
import { UserError } from '../util/errors';
import { EventHub } from './hub';
import { JobManager } from './jobs';
import { DaemonLog } from './log';
import { createApiHandler } from './openai';
import { registerRequests } from './requests';
import { Sampler } from './sampler';
import { newToken, removeTokenFile, tokenFilePath, writeTokenFile } from './tokenFile';
import { workerHeapLimitMb } from './workerHost';
import { startEndpoints } from './wsServer';

export const DAEMON_VERSION = '0.1.0';

export interface DaemonOptions {
  /** Workspace folder: default config, `runs/`, and `.r1/` (token file, daemon.log). */
  workspace: string;
  /** Checkpoint served by the HTTP API and used by `generate` by default. */
  checkpoint?: string;
  /** Speak LSP on stdin/stdout (how the extension starts the daemon). */
  stdio: boolean;
  /** tfjs backend for training and sampling workers (default: each config's, else auto). */
  backend?: BackendName;
  /** JS heap limit of each worker in MB (default: `R1_WORKER_HEAP_MB`, else 4096; see workerHost.ts). */
  workerHeapMb?: number;
}

export interface DaemonHandle {
  ready: DaemonReadyLine;
  close(): Promise<void>;
}

// Standalone, a closed stdin means whoever started us is gone; a terminal or /dev/null does not.
function stdinIsPipe(): boolean {
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/** Starts the daemon; resolves once the endpoints listen and the token file is written. */
export async function startDaemon(opts: DaemonOptions): Promise<DaemonHandle> {
  const workspace = path.resolve(opts.workspace);
  const served = opts.checkpoint ? path.resolve(opts.checkpoint) : undefined;
  if (served && !checkpointExists(served))
    throw new UserError(`--checkpoint ${opts.checkpoint}: not a checkpoint folder (expected state.json, model.json)`);
  // The folder of the token file: private to the user (the file itself is 0600 regardless).
  fs.mkdirSync(path.join(workspace, '.r1'), { recursive: true, mode: 0o700 });
  const workerHeapMb = opts.workerHeapMb ?? workerHeapLimitMb();
  const log = new DaemonLog(path.join(workspace, '.r1', 'daemon.log'));
  let detachStderr = log.attach((level, m) => process.stderr.write(`r1 daemon: ${level}: ${m}\n`));

  const hub = new EventHub();
  const jobs = new JobManager({
    onEvent: (e) => hub.event(e),
    onMetric: (m) => hub.metric(m),
    log: (m) => log.info(m),
    workerHeapMb,
  });
  const sampler = new Sampler((m) => log.info(m), workerHeapMb);
  const token = newToken();
  const tokenFile = tokenFilePath(workspace);
  let urls = { http: '', ws: '' };
  const status = (): DaemonStatus => {
    const s = jobs.status();
    return {
      version: DAEMON_VERSION,
      backend: jobs.backend ?? sampler.backend ?? opts.backend,
      state: s.running ? 'running' : 'idle',
      job: s.job,
      queue: s.queue,
      ...urls,
      tokenFile,
      serving: served,
    };
  };
  const endpoints = await startEndpoints({
    token,
    hub,
    version: DAEMON_VERSION,
    status,
    http: createApiHandler({
      token,
      served: () => served,
      sample: (spec, onChunk) => sampler.sample(spec, onChunk),
      backend: opts.backend,
      log: (m) => log.warn(m),
    }),
  });
  urls = { http: endpoints.httpUrl, ws: endpoints.wsUrl };
  const ready: DaemonReadyLine = { ...urls, tokenFile };
  writeTokenFile(tokenFile, { ...ready, token, pid: process.pid, workspace });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      removeTokenFile(tokenFile, token);
      jobs.dispose();
      sampler.dispose();
      await endpoints.close();
    })());
  // Exit paths: signals, stdin closing (below, and inside vscode-languageserver), or a crash.
  // The 'exit' hook is synchronous and catches all of them for the token file.
  process.on('exit', () => removeTokenFile(tokenFile, token));
  const exitSoon = () => {
    setTimeout(() => process.exit(0), 2000).unref();
    void close().finally(() => process.exit(0));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, exitSoon);
  // A bug in one handler must not take the editor's language features and a running job down
  // with it: log it (daemon.log + output channel) and keep serving.
  process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (why) => log.error(`unhandled rejection: ${(why as Error)?.stack ?? String(why)}`));

  if (opts.stdio) {
    // Streams (not message readers), so vscode-languageserver exits when stdin ends: the editor is gone.
    const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
    // stdout is the LSP channel: a stray console.log anywhere on this thread would corrupt it.
    for (const name of ['log', 'info', 'debug', 'warn', 'error'] as const)
      console[name] = (...args: unknown[]) =>
        log[name === 'error' ? 'error' : name === 'warn' ? 'warn' : 'info'](format(...args));
    let initialized = false;
    hub.subscribe((msg) => {
      if (!initialized) return;
      if (msg.type === 'metric') void connection.sendNotification(Notifications.metric, msg.data);
      else void connection.sendNotification(Notifications.jobEvent, msg.data);
    });
    const language = registerLanguageFeatures(connection, (m) => log.error(m));
    const documents = language.documents;
    registerRequests(connection, { workspace, jobs, sampler, documents, status, served, backend: opts.backend });
    connection.onInitialize((params) => {
      language.configure(params.initializationOptions);
      return { capabilities: LANGUAGE_CAPABILITIES, serverInfo: { name: 'r1-daemon', version: DAEMON_VERSION } };
    });
    connection.onInitialized(() => {
      initialized = true;
      // From here the editor's output channel is the live log (stderr would show it twice).
      detachStderr();
      detachStderr = log.attach((level, m) => connection.console[level](m));
      log.info(`ready: ${JSON.stringify(ready)}`);
    });
    connection.onShutdown(() => close());
    connection.listen();
  } else if (stdinIsPipe()) {
    process.stdin.on('end', exitSoon);
    process.stdin.resume();
  }
  log.info(`daemon ${DAEMON_VERSION} for ${workspace}: ${JSON.stringify(ready)}; worker heap limit ${workerHeapMb} MB`);
  return { ready, close };
}
