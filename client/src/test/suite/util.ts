// Helpers shared by the extension-host test files: the extension under test, its manifest, the
// workspace fixture, polling, and a spy on the messages the extension shows.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'r1-workbench.r1-workbench';

export interface ManifestCommand {
  command: string;
  title: string;
  category?: string;
}

export interface ManifestGrammar {
  scopeName: string;
  path: string;
  injectTo?: string[];
  language?: string;
}

export interface Manifest {
  activationEvents?: string[];
  contributes: {
    commands: ManifestCommand[];
    grammars: ManifestGrammar[];
  };
}

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext;
}

export const manifest = (): Manifest => extension().packageJSON as Manifest;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with `fn`'s first truthy result; fails with `what` after `timeoutMs`. */
export async function poll<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 5000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Rejects when `p` takes longer than `ms` (a modal dialog would otherwise hang the suite). */
export function within<T>(what: string, p: Thenable<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(p), timeout]).finally(() => clearTimeout(timer));
}

/**
 * The folder the suite works in: the workspace folder the harness opened (test/e2e opens an
 * empty one), else a scratch folder. Each caller gets its own subfolder.
 */
export async function scratchFolder(name: string): Promise<vscode.Uri> {
  const ws = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri;
  const root = ws ?? vscode.Uri.file(path.join(os.tmpdir(), `r1-exthost-${process.pid}`));
  const folder = vscode.Uri.joinPath(root, `${name}-${Date.now().toString(36)}`);
  await vscode.workspace.fs.createDirectory(folder);
  return folder;
}

export async function writeText(uri: vscode.Uri, text: string): Promise<void> {
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
}

export async function readText(uri: vscode.Uri): Promise<string> {
  return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
}

export async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Parsed non-empty lines of a JSONL text. */
export const jsonl = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A pending review record (spec §3), like the ones rejection sampling writes. */
export function reviewRecord(a: number, b: number): Record<string, unknown> {
  const sum = String(a + b);
  return {
    prompt: `What is ${a} + ${b}?`,
    completion: `<think>\n${a}+${b}=${sum}\n</think>\n<answer>${sum}</answer>`,
    answer: sum,
    rewards: { accuracy: 1, format: 1, language: 1 },
    status: 'pending',
    source: { stage: 'rejection-sampling', sample: 0 },
  };
}

export type MessageKind = 'error' | 'warning' | 'info';

export interface MessageSpy extends vscode.Disposable {
  readonly shown: { kind: MessageKind; text: string }[];
  of(kind: MessageKind): string[];
}

/**
 * Records the messages shown through `vscode.window` (the test and the extension share the
 * extension's API object), so a command's error boundary (which turns a throw into an error
 * message) cannot hide a failure. Messages still show as usual.
 */
export function spyMessages(): MessageSpy {
  const win = vscode.window as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names: Record<MessageKind, string> = {
    error: 'showErrorMessage',
    warning: 'showWarningMessage',
    info: 'showInformationMessage',
  };
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  const shown: { kind: MessageKind; text: string }[] = [];
  for (const [kind, name] of Object.entries(names) as [MessageKind, string][]) {
    const original = win[name];
    originals.set(name, original);
    win[name] = (...args: unknown[]) => {
      shown.push({ kind, text: String(args[0]) });
      // Not awaited by the tests: a message with buttons would wait for a click.
      return original.apply(vscode.window, args);
    };
    assert.notEqual(win[name], original, `could not spy on window.${name}`);
  }
  return {
    shown,
    of: (kind) => shown.filter((m) => m.kind === kind).map((m) => m.text),
    dispose: () => {
      for (const [name, original] of originals) win[name] = original;
    },
  };
}

/** All open tabs of all groups. */
export const allTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs);

/** Webview tabs of an extension view type (VS Code reports it as `mainThreadWebview-<viewType>`). */
export function webviewTabs(viewType: string): vscode.Tab[] {
  return allTabs().filter(
    (t) =>
      t.input instanceof vscode.TabInputWebview &&
      (t.input.viewType === viewType || t.input.viewType.endsWith(`-${viewType}`)),
  );
}

/** Closes every tab without a save prompt: files are saved, untitled documents reverted. */
export async function closeAllTabs(): Promise<void> {
  for (const doc of vscode.workspace.textDocuments) {
    if (doc.isDirty && doc.uri.scheme === 'file') await doc.save();
  }
  for (const doc of vscode.workspace.textDocuments.filter((d) => d.isUntitled && d.isDirty)) {
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
  const tabs = allTabs();
  if (tabs.length) await within('closing all tabs', vscode.window.tabGroups.close(tabs));
}
