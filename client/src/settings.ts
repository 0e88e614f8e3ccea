// The extension's settings (`r1.*`) and what they resolve to in the workspace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export type BackendSetting = 'auto' | 'gpu' | 'node' | 'wasm' | 'cpu';

export interface Settings {
  backend: BackendSetting;
  /** A preset name from the config's `presets` (e.g. `tiny`); empty: none. */
  preset: string;
  /** Folder holding run folders, relative to the workspace folder. */
  runsFolder: string;
  /** Pipeline config, relative to the workspace folder. */
  configFile: string;
  /** Save a review file and curated.jsonl after Accept/Reject when they had no unsaved changes. */
  autoSave: boolean;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('r1');
  return {
    backend: c.get<BackendSetting>('backend', 'auto'),
    preset: c.get<string>('preset', '').trim(),
    runsFolder: c.get<string>('runsFolder', 'runs').trim() || 'runs',
    configFile: c.get<string>('configFile', 'r1.config.json').trim() || 'r1.config.json',
    autoSave: c.get<boolean>('review.autoSave', true),
  };
}

/** The folder the daemon works in: the first workspace folder on disk. */
export function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

/**
 * The pipeline config to run: the `r1.configFile` setting if that file exists; for the default
 * setting, `samples/r1.config.json` in the workspace, then the samples shipped with the extension.
 */
export function resolveConfigFile(extensionPath: string, settings = readSettings()): string | undefined {
  const ws = workspaceFolder();
  const candidates: string[] = [];
  if (path.isAbsolute(settings.configFile)) candidates.push(settings.configFile);
  else if (ws) candidates.push(path.join(ws, settings.configFile));
  if (settings.configFile === 'r1.config.json') {
    if (ws) candidates.push(path.join(ws, 'samples', 'r1.config.json'));
    candidates.push(path.join(extensionPath, 'samples', 'r1.config.json'));
  }
  return candidates.find((f) => fs.existsSync(f));
}

/** Absolute folder holding the runs. */
export function runsRoot(settings = readSettings()): string | undefined {
  const ws = workspaceFolder();
  if (path.isAbsolute(settings.runsFolder)) return settings.runsFolder;
  return ws ? path.join(ws, settings.runsFolder) : undefined;
}
