// code-server (the real VS Code server and workbench, from npm) for the end-to-end tests: a pinned
// install cached in .cache/code-server, the VSIX of this checkout installed into an isolated
// profile, and a server on 127.0.0.1 that is always stopped with its whole process group
// (extension hosts and the R1 daemon otherwise linger). See docs/platform-notes.md §2.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const CACHE_DIR = path.join(ROOT, '.cache', 'code-server');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
export const CHROMIUM = process.env.R1_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const APT_FIX = 'apt-get install -y chromium ripgrep libkrb5-dev build-essential python3 pkg-config';

const ENTRY = path.join(CACHE_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const MARKER = path.join(CACHE_DIR, `.installed-${CODE_SERVER_VERSION}`);
// @vscode/ripgrep's postinstall downloads rg from GitHub; its cache is seeded with Debian's rg.
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_TARBALL = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

/** Throws one line that says what is missing and the apt command that fixes it. */
export function checkPrerequisites(forInstall: boolean): void {
  const missing: string[] = [];
  if (!isExecutable(CHROMIUM)) missing.push(CHROMIUM);
  if (forInstall) {
    for (const tool of ['rg', 'make', 'g++', 'python3', 'pkg-config', 'krb5-config']) {
      if (!onPath(tool)) missing.push(tool);
    }
  }
  if (missing.length) throw new Error(`e2e prerequisites missing (${missing.join(', ')}): run \`${APT_FIX}\``);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && isExecutable(path.join(dir, tool)));
}

function installedVersion(): string | undefined {
  try {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(CACHE_DIR, 'node_modules', 'code-server', 'package.json'), 'utf8'),
    );
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Installs code-server@CODE_SERVER_VERSION into .cache/code-server (gitignored) unless that exact
 * version is already there (~80 s cold). Returns the path of its entry script.
 */
export function ensureCodeServer(log: (line: string) => void): string {
  if (fs.existsSync(MARKER) && installedVersion() === CODE_SERVER_VERSION && fs.existsSync(ENTRY)) return ENTRY;
  checkPrerequisites(true);
  log(`installing code-server@${CODE_SERVER_VERSION} into ${path.relative(ROOT, CACHE_DIR)} (once, ~1-2 min)`);
  fs.rmSync(CACHE_DIR, { recursive: true, force: true });
  const tmp = path.join(CACHE_DIR, 'tmp');
  fs.mkdirSync(path.join(tmp, RIPGREP_CACHE), { recursive: true });
  fs.writeFileSync(
    path.join(CACHE_DIR, 'package.json'),
    JSON.stringify({ name: 'r1-e2e-code-server', private: true }, null, 2) + '\n',
  );
  const rg = spawnSync('tar', ['czf', path.join(tmp, RIPGREP_CACHE, RIPGREP_TARBALL), '-C', '/usr/bin', 'rg']);
  if (rg.status !== 0) throw new Error(`could not seed the ripgrep cache from /usr/bin/rg: run \`${APT_FIX}\``);
  const logFile = path.join(ARTIFACTS, 'code-server-install.log');
  const args = ['install', '--prefix', CACHE_DIR, '--unsafe-perm', '--no-audit', '--no-fund'];
  const res = spawnSync('npm', [...args, `code-server@${CODE_SERVER_VERSION}`], {
    cwd: CACHE_DIR,
    env: {
      ...process.env,
      npm_config_yes: 'true', // node-pty's postinstall runs `npx node-gyp`
      npm_config_nodedir: '/usr', // headers of the system Node, no download
      TMPDIR: tmp,
    },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 10 * 60_000,
  });
  fs.writeFileSync(logFile, `$ npm ${args.join(' ')}\n${res.stdout ?? ''}\n${res.stderr ?? ''}`);
  if (res.status !== 0 || installedVersion() !== CODE_SERVER_VERSION || !fs.existsSync(ENTRY)) {
    const tail = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(
      `installing code-server@${CODE_SERVER_VERSION} failed (${res.error?.message ?? `exit ${res.status}`}); ` +
        `log: ${logFile}; if a native build failed, run \`${APT_FIX}\`\n${tail}`,
    );
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.writeFileSync(MARKER, new Date().toISOString() + '\n');
  return ENTRY;
}

/** Runs a command to completion; throws with its output tail when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; log?: string },
): string {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 5 * 60_000,
  });
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (opts.log) fs.appendFileSync(opts.log, `$ ${cmd} ${args.join(' ')}\n${out}\n`);
  if (res.status !== 0) {
    const tail = out.trim().split('\n').slice(-20).join('\n');
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed (${res.error?.message ?? `exit ${res.status}`})\n${tail}`);
  }
  return out;
}

/**
 * Builds the bundles and packages the VSIX the way `npm run package` does (with the production
 * dependencies .vscodeignore allows: the tfjs packages the bundles keep external).
 */
export function buildVsix(outFile: string, log: string): void {
  run(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { log });
  run(
    path.join(ROOT, 'node_modules', '.bin', 'vsce'),
    ['package', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '-o', outFile],
    { log },
  );
}

/** HOME, XDG_* and TMPDIR under `scratch`: code-server, VS Code and Chromium all write there. */
export function isolatedEnv(scratch: string): NodeJS.ProcessEnv {
  const dirs = {
    HOME: path.join(scratch, 'home'),
    XDG_CONFIG_HOME: path.join(scratch, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(scratch, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(scratch, 'xdg', 'cache'),
    TMPDIR: path.join(scratch, 'tmp'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  // Only what a user's shell would carry: not npm's or the test runner's variables.
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TERM', 'NODE_EXTRA_CA_CERTS'])
    if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...dirs, NODE_ENV: 'production' };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface CodeServerOptions {
  entry: string;
  env: NodeJS.ProcessEnv;
  userDataDir: string;
  extensionsDir: string;
  configFile: string;
  logFile: string;
}

export function installExtension(o: CodeServerOptions, vsix: string): string {
  return run(
    process.execPath,
    [o.entry, '--user-data-dir', o.userDataDir, '--extensions-dir', o.extensionsDir, '--install-extension', vsix],
    { env: o.env, log: o.logFile },
  );
}

export class CodeServer {
  private exited = false;
  private readonly onExit = () => this.killGroup('SIGKILL');

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly port: number,
  ) {
    child.on('exit', () => (this.exited = true));
    // The server runs in its own session (setsid), so a Ctrl-C of the test run does not reach it:
    // stop its group when this process ends, whatever the way.
    process.once('exit', this.onExit);
  }

  /** Starts `code-server` on 127.0.0.1 (free port) in a new process group and waits for /healthz. */
  static async start(o: CodeServerOptions, workspace: string, timeoutMs = 90_000): Promise<CodeServer> {
    const port = await freePort();
    fs.writeFileSync(o.configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    const log = fs.openSync(o.logFile, 'a');
    const args = [
      o.entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      o.userDataDir,
      '--extensions-dir',
      o.extensionsDir,
      '--config',
      o.configFile,
      workspace,
    ];
    // detached: setsid, so the server, its extension hosts and the daemon share one process group.
    const child = spawn(process.execPath, args, { env: o.env, detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const server = new CodeServer(child, `http://127.0.0.1:${port}`, port);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (server.exited) throw new Error(`code-server exited while starting; see ${o.logFile}`);
      try {
        const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`code-server did not answer /healthz within ${timeoutMs / 1000}s; see ${o.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private groupAlive(): boolean {
    try {
      process.kill(-this.child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  private killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // already gone
    }
  }

  /** `kill -TERM -- -PGID`, then SIGKILL after a grace period; resolves when the group is gone. */
  async stop(graceMs = 5000): Promise<void> {
    process.removeListener('exit', this.onExit);
    if (!this.child.pid) return;
    this.killGroup('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (this.groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (this.groupAlive()) this.killGroup('SIGKILL');
    const hard = Date.now() + 5000;
    while (this.groupAlive() && Date.now() < hard) await new Promise((r) => setTimeout(r, 100));
  }
}
