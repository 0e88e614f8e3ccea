// The `<think>`/`<answer>` injection grammar as this VS Code loads it: the contribution in the
// extension's manifest, the grammar file in the extension folder, the JSON grammars of the
// built-in `vscode.json` extension it injects into, and tokenization with VS Code's own TextMate
// engine (vscode-textmate + vscode-oniguruma from `vscode.env.appRoot`). The extension API has no
// way to read an editor's tokens, so the engine is driven directly, the way the workbench does
// it: injections come from the manifests' `injectTo`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Grammar as TestGrammar, Tokenizer } from '../../../test/textmate';
import { extension, manifest, ManifestGrammar } from './util';

const INJECTION = 'text.r1.think.injection';

interface RawGrammar {
  scopeName: string;
  injectionSelector?: string;
  patterns: unknown[];
  repository?: Record<string, { name?: string }>;
}

interface Token {
  text: string;
  scopes: string[];
}

/** The subset of vscode-textmate's API used here. */
interface TextMate {
  INITIAL: unknown;
  Registry: new (options: {
    onigLib: Promise<unknown>;
    loadGrammar: (scopeName: string) => Promise<unknown>;
    getInjections: (scopeName: string) => string[] | undefined;
  }) => { loadGrammar(scopeName: string): Promise<TmGrammar | null> };
  parseRawGrammar(content: string, filePath: string): unknown;
}
interface TmGrammar {
  tokenizeLine(
    line: string,
    stack: unknown,
  ): { tokens: { startIndex: number; endIndex: number; scopes: string[] }[]; ruleStack: unknown };
}
interface Oniguruma {
  loadWASM(data: ArrayBuffer): Promise<void>;
  OnigScanner: new (patterns: string[]) => unknown;
  OnigString: new (s: string) => unknown;
}

/** Grammar contributions of an extension, with absolute paths. */
function grammarsOf(ext: vscode.Extension<unknown>): (ManifestGrammar & { file: string })[] {
  const grammars = (ext.packageJSON as { contributes?: { grammars?: ManifestGrammar[] } }).contributes?.grammars ?? [];
  return grammars.map((g) => ({ ...g, file: path.join(ext.extensionPath, g.path) }));
}

function jsonExtension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension('vscode.json');
  assert.ok(ext, 'the built-in vscode.json extension (JSON / JSON Lines grammars) is present');
  return ext;
}

const readGrammar = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as RawGrammar;

/** VS Code's TextMate engine, from the host's own node_modules; undefined where the layout differs. */
function loadEngine(): { tm: TextMate; onig: Oniguruma; wasm: string } | undefined {
  for (const dir of [vscode.env.appRoot, path.join(vscode.env.appRoot, 'app')]) {
    try {
      const req = createRequire(path.join(dir, 'package.json'));
      const main = req.resolve('vscode-oniguruma');
      const wasm = path.join(path.dirname(main), 'onig.wasm');
      if (!fs.existsSync(wasm)) continue;
      return { tm: req('vscode-textmate') as TextMate, onig: req('vscode-oniguruma') as Oniguruma, wasm };
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

describe('R1 Workbench extension: think/answer grammar', () => {
  const ours = () => grammarsOf(extension()).find((g) => g.scopeName === INJECTION);

  it('contributes the injection grammar into source.json.lines and source.json', () => {
    const g = manifest().contributes.grammars.find((x) => x.scopeName === INJECTION);
    assert.ok(g, `a grammar with scopeName ${INJECTION}`);
    assert.deepEqual([...(g.injectTo ?? [])].sort(), ['source.json', 'source.json.lines']);
    assert.equal(g.language, undefined, 'an injection grammar belongs to no language');
  });

  it('ships a grammar file in the extension folder that parses and names the same scope', () => {
    const g = ours();
    assert.ok(g);
    assert.ok(fs.existsSync(g.file), `${g.path} exists in ${extension().extensionPath}`);
    const raw = readGrammar(g.file);
    assert.equal(raw.scopeName, INJECTION);
    assert.match(raw.injectionSelector ?? '', /^L:string\.quoted\.double\.json\b/);
    assert.ok(raw.repository?.think && raw.repository.answer, 'think and answer rules');
  });

  it('injects into grammars this VS Code has, whose strings its selector matches', () => {
    const hosts = grammarsOf(jsonExtension());
    for (const scope of ours()!.injectTo!) {
      const host = hosts.find((h) => h.scopeName === scope);
      assert.ok(host, `vscode.json contributes ${scope}`);
      const stringScope = readGrammar(host.file).repository?.string?.name;
      assert.ok(stringScope?.startsWith('string.quoted.double.json'), `${scope} strings: ${stringScope}`);
    }
  });

  describe('tokenized by VS Code’s TextMate engine', () => {
    let tokenize: (scope: string, lines: string[]) => Promise<Token[][]>;

    before(async function () {
      const engine = loadEngine();
      if (!engine) {
        // Desktop builds may pack node_modules differently; the JS check below still runs.
        this.skip();
        return;
      }
      const { tm, onig, wasm } = engine;
      const bytes = fs.readFileSync(wasm);
      await onig.loadWASM(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      // Every grammar of the JSON extension and ours; injections as the workbench derives them.
      const all = [...grammarsOf(jsonExtension()), ...grammarsOf(extension())];
      const registry = new tm.Registry({
        onigLib: Promise.resolve({
          createOnigScanner: (patterns: string[]) => new onig.OnigScanner(patterns),
          createOnigString: (s: string) => new onig.OnigString(s),
        }),
        loadGrammar: async (scope) => {
          const g = all.find((x) => x.scopeName === scope);
          return g ? tm.parseRawGrammar(fs.readFileSync(g.file, 'utf8'), g.file) : null;
        },
        getInjections: (scope) => {
          const inj = all.filter((g) => g.injectTo?.includes(scope)).map((g) => g.scopeName);
          return inj.length ? inj : undefined;
        },
      });
      tokenize = async (scope, lines) => {
        const grammar = await registry.loadGrammar(scope);
        assert.ok(grammar, `grammar ${scope}`);
        let stack = tm.INITIAL;
        return lines.map((line) => {
          const r = grammar.tokenizeLine(line, stack);
          stack = r.ruleStack;
          return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
        });
      };
    });

    /** Scopes of the first token with exactly `text` after `from` tokens with it. */
    const scopesOf = (tokens: Token[], text: string, occurrence = 0) => {
      const hits = tokens.filter((t) => t.text === text);
      assert.ok(hits[occurrence], `a token ${JSON.stringify(text)} (#${occurrence}) in ${JSON.stringify(tokens)}`);
      return hits[occurrence].scopes;
    };

    it('scopes <think> and its reasoning inside a JSON Lines string, not the prompt', async () => {
      const record = {
        prompt: 'What is 2 + 2?',
        completion: '<think>\n2+2=4\n</think>\n<answer>4</answer>',
      };
      const [line] = await tokenize('source.json.lines', [JSON.stringify(record)]);
      const tag = scopesOf(line, 'think', 0);
      assert.ok(tag.includes('entity.name.tag.think.r1'), tag.join(' '));
      assert.ok(tag.includes('meta.think.r1'));
      assert.ok(
        tag.some((s) => s.startsWith('string.quoted.double.json')),
        'inside the string',
      );
      const reasoning = scopesOf(line, '2+2=4');
      assert.ok(reasoning.includes('comment.block.think.r1'), reasoning.join(' '));
      const answer = scopesOf(line, '4', 0);
      assert.ok(answer.includes('markup.bold.answer.r1'), answer.join(' '));
      const prompt = scopesOf(line, 'What is 2 + 2?');
      assert.ok(!prompt.some((s) => s.endsWith('.r1')), `the prompt is plain string text: ${prompt.join(' ')}`);
      const key = scopesOf(line, 'completion');
      assert.ok(!key.some((s) => s.endsWith('.r1')), 'a property name is not scoped');
      // The closing tag ends the region: the escape after it is JSON's again.
      const after = line[line.findIndex((t) => t.text === '</') + 3];
      assert.ok(after.scopes.includes('constant.character.escape.json.lines'), JSON.stringify(after));
    });

    it('ends an unclosed <think> at its string’s closing quote (the next record is untouched)', async () => {
      const lines = await tokenize('source.json.lines', [
        JSON.stringify({ completion: '<think>never closed' }),
        JSON.stringify({ prompt: 'next' }),
      ]);
      const unclosed = scopesOf(lines[0], 'never closed');
      assert.ok(unclosed.includes('comment.block.think.r1'));
      const next = scopesOf(lines[1], 'next');
      assert.ok(!next.some((s) => s.endsWith('.r1')), next.join(' '));
    });

    it('scopes <think> in a multi-line JSON document too', async () => {
      const lines = await tokenize('source.json', ['{', '  "completion": "<think>reason</think>done"', '}']);
      assert.ok(scopesOf(lines[1], 'reason').includes('comment.block.think.r1'));
      assert.ok(!scopesOf(lines[1], 'done').some((s) => s.endsWith('.r1')));
    });
  });

  it('matches sample text with JavaScript regexes too (client/test/textmate.ts)', () => {
    const injection = readGrammar(ours()!.file) as unknown as TestGrammar;
    // A cut-down JSON Lines host whose string scope is the one VS Code's grammar uses.
    const jsonl = grammarsOf(jsonExtension()).find((g) => g.scopeName === 'source.json.lines')!;
    const stringScope = readGrammar(jsonl.file).repository!.string!.name!;
    const host: TestGrammar = {
      scopeName: 'source.json.lines',
      patterns: [{ begin: '"', end: '"', name: stringScope, patterns: [{ match: '\\\\.', name: 'escape' }] }],
    };
    const line = '"<think>why</think> so"';
    const scopes = new Tokenizer(host, [injection]).tokenizeLine(line);
    const at = (s: string) => scopes[line.indexOf(s)];
    assert.ok(at('think').includes('entity.name.tag.think.r1'), at('think').join(' '));
    assert.ok(at('why').includes('comment.block.think.r1'));
    assert.ok(!at('so').includes('comment.block.think.r1'));
  });
});
