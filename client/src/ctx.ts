// Owns the daemon's lifecycle (start, restart, stop with a grace period) and is the one door to
// it: typed requests, notification events and the last known status. Everything else in the
// extension talks to the daemon through a Ctx, so a daemon that is down or still being built
// is one clear message, never a crash.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CancellationToken,
  ErrorCodes,
  LanguageClient,
  LanguageClientOptions,
  RequestType,
  ResponseError,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import type {
  DaemonStatus,
  GenerateChunk,
  JobEvent,
  MetricNotification,
  RunInfo,
} from '../../server/src/protocol/messages';
import * as ext from './lspExt';
import { readSettings, runsRoot, workspaceFolder } from './settings';

export type DaemonState = 'stopped' | 'starting' | 'running' | 'failed';

/** A request that could not reach the daemon or that it refused; its message is for the user. */
export class DaemonError extends Error {
  override name = 'DaemonError';
}

const STOP_GRACE_MS = 3000;
const CURRENT_RUN_KEY = 'r1.currentRun';

export class Ctx implements vscode.Disposable {
  readonly output: vscode.OutputChannel;
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private _state: DaemonState = 'stopped';
  private _lastError: string | undefined;
  private _status: DaemonStatus | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private clientSubscriptions: vscode.Disposable[] = [];

  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  private readonly statusEmitter = new vscode.EventEmitter<DaemonStatus | undefined>();
  private readonly metricEmitter = new vscode.EventEmitter<MetricNotification>();
  private readonly jobEventEmitter = new vscode.EventEmitter<JobEvent>();
  private readonly chunkEmitter = new vscode.EventEmitter<GenerateChunk>();
  private readonly runEmitter = new vscode.EventEmitter<string | undefined>();

  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidChangeStatus = this.statusEmitter.event;
  readonly onMetric = this.metricEmitter.event;
  readonly onJobEvent = this.jobEventEmitter.event;
  readonly onGenerateChunk = this.chunkEmitter.event;
  /** The run the dashboard and rewards panel show changed. */
  readonly onDidChangeCurrentRun = this.runEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('R1 Workbench');
    this.subscriptions.push(
      this.output,
      this.stateEmitter,
      this.statusEmitter,
      this.metricEmitter,
      this.jobEventEmitter,
      this.chunkEmitter,
      this.runEmitter,
    );
    // A job's events are the moments the status (stage, step) changes.
    this.subscriptions.push(
      this.onJobEvent((e) => {
        if (e.kind !== 'log') void this.refreshStatus();
      }),
    );
  }

  get state(): DaemonState {
    return this._state;
  }

  get lastError(): string | undefined {
    return this._lastError;
  }

  get status(): DaemonStatus | undefined {
    return this._status;
  }

  get extensionPath(): string {
    return this.extension.extensionPath;
  }

  /** The run folder runs go to and the panels show: the last one run or opened, else the running job's. */
  get currentRun(): string | undefined {
    return this.extension.workspaceState.get<string>(CURRENT_RUN_KEY) ?? this._status?.job?.runDir;
  }

  /**
   * The run to show when none was run or opened yet: `<runsFolder>/default` if it exists, else
   * the first run the daemon lists.
   */
  async resolveRun(): Promise<string | undefined> {
    if (this.currentRun) return this.currentRun;
    const root = runsRoot(readSettings());
    if (!root) return undefined;
    if (fs.existsSync(path.join(root, 'default'))) return path.join(root, 'default');
    try {
      return ext.asList<RunInfo>(await this.request(ext.listRuns, { root }), 'runs')[0]?.runDir;
    } catch {
      return undefined;
    }
  }

  setCurrentRun(runDir: string | undefined): void {
    void this.extension.workspaceState.update(CURRENT_RUN_KEY, runDir);
    this.runEmitter.fire(runDir);
  }

  /** Starts the daemon if it is not running; resolves once it answers (or has failed). */
  start(): Promise<void> {
    if (this._state === 'running') return Promise.resolve();
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const folder = workspaceFolder();
    if (!folder) {
      this.setState('stopped', 'Open a folder to use the R1 daemon.');
      return;
    }
    const module = this.extension.asAbsolutePath('server/out/cli.js');
    if (!fs.existsSync(module)) {
      this.setState('failed', `The daemon is not built (${module} is missing): run \`npm run build\`.`);
      return;
    }
    this.setState('starting');
    const settings = readSettings();
    // vscode-languageclient appends `--stdio --clientProcessId=<pid>` itself; the daemon accepts both.
    const args = ['daemon', '--stdio', '--workspace', folder];
    if (settings.backend !== 'auto') args.push('--backend', settings.backend);
    const serverOptions: ServerOptions = {
      run: { module, args, transport: TransportKind.stdio },
      debug: {
        module,
        args,
        transport: TransportKind.stdio,
        options: { execArgv: ['--nolazy', '--inspect=6009'] },
      },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'jsonl' },
        { scheme: 'untitled', language: 'jsonl' },
        { scheme: 'file', pattern: '**/r1.config.json' },
        { scheme: 'file', pattern: '**/*.r1.config.json' },
      ],
      // The daemon reads the backend and paths at start; `r1.*` changes reach it as
      // workspace/didChangeConfiguration.
      initializationOptions: { ...settings, runsFolder: runsRoot(settings) },
      synchronize: { configurationSection: 'r1' },
      outputChannel: this.output,
      // Errors surface as messages with a Show Logs button instead of stealing focus.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
    };
    const client = new LanguageClient('r1', 'R1 Workbench daemon', serverOptions, clientOptions);
    this.client = client;
    this.clientSubscriptions = [
      client.onNotification(ext.metric, (m) => this.metricEmitter.fire(m)),
      client.onNotification(ext.jobEvent, (e) => this.jobEventEmitter.fire(e)),
      client.onNotification(ext.generateChunk, (c) => this.chunkEmitter.fire(c)),
      client.onDidChangeState((e) => {
        if (this.client !== client) return;
        if (e.newState === State.Stopped && this._state === 'running') {
          this.setState('failed', 'The daemon stopped; see the log.');
        }
      }),
    ];
    try {
      await client.start();
      if (this.client !== client) return; // stopped while starting
      this.setState('running');
      await this.refreshStatus();
    } catch (err) {
      this.output.appendLine(`[r1] daemon failed to start: ${messageOf(err)}`);
      this.setState('failed', `The daemon failed to start: ${messageOf(err)}`);
      this.disposeClient();
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.disposeClient();
    this._status = undefined;
    this.statusEmitter.fire(undefined);
    this.setState('stopped');
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(STOP_GRACE_MS);
      } catch (err) {
        this.output.appendLine(`[r1] stopping the daemon: ${messageOf(err)}`);
      }
    }
  }

  async restart(): Promise<void> {
    this.output.appendLine('[r1] restarting the daemon');
    await this.stop();
    await this.start();
  }

  private disposeClient(): void {
    for (const d of this.clientSubscriptions) d.dispose();
    this.clientSubscriptions = [];
    this.client = undefined;
  }

  /**
   * Sends a typed request. Throws a DaemonError with a message for the user when the daemon is
   * down, does not know the method yet, or answers with an error.
   */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    if (this._state !== 'running') await this.start();
    const client = this.client;
    if (this._state !== 'running' || !client) {
      throw new DaemonError(`The R1 daemon is not running. ${this._lastError ?? ''}`.trim());
    }
    try {
      return await client.sendRequest(type, params, token);
    } catch (err) {
      if (err instanceof ResponseError && err.code === ErrorCodes.MethodNotFound) {
        throw new DaemonError(`This daemon does not answer \`${type.method}\` yet.`);
      }
      if (err instanceof ResponseError && err.code === -32800 /* RequestCancelled */) {
        throw new vscode.CancellationError();
      }
      throw new DaemonError(messageOf(err));
    }
  }

  /** Asks the daemon for its status; a failure leaves the last known status. */
  async refreshStatus(): Promise<DaemonStatus | undefined> {
    if (this._state !== 'running' || !this.client) return undefined;
    try {
      this._status = await this.client.sendRequest(ext.status, {});
      this.statusEmitter.fire(this._status);
    } catch (err) {
      this.output.appendLine(`[r1] status: ${messageOf(err)}`);
    }
    return this._status;
  }

  private setState(state: DaemonState, error?: string): void {
    this._state = state;
    this._lastError = error;
    if (error) this.output.appendLine(`[r1] ${error}`);
    this.stateEmitter.fire(state);
  }

  dispose(): void {
    void this.stop();
    for (const d of this.subscriptions) d.dispose();
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
