// A small TextMate tokenizer for tests: begin/end, match, captures, contentName, includes and
// injection grammars (with `L:` priority and `-exclusion` selectors), over one line at a time
// with the rule stack carried across lines. It follows vscode-textmate's rule: at each
// position the earliest match wins; on a tie an `L:` injection beats the rule, and a rule's end
// beats its own patterns. vscode-textmate itself ships with VS Code, not in node_modules here;
// the grammars only use regex syntax that JavaScript and Oniguruma read the same way.

export interface Rule {
  include?: string;
  match?: string;
  begin?: string;
  end?: string;
  name?: string;
  contentName?: string;
  captures?: Record<string, { name: string }>;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
  patterns?: Rule[];
}

export interface Grammar {
  scopeName: string;
  injectionSelector?: string;
  patterns: Rule[];
  repository?: Record<string, Rule>;
}

interface Frame {
  rule: Rule;
  grammar: Grammar;
  scopes: string[];
  /** Scopes inside the region (with contentName). */
  contentScopes: string[];
  end?: RegExp;
}

interface Candidate {
  rule: Rule;
  grammar: Grammar;
  re: RegExp;
  kind: 'match' | 'begin' | 'end';
  priority: number;
}

const split = (name?: string) => (name ? name.split(' ') : []);

function resolve(rules: Rule[], grammar: Grammar, host: Grammar): { rule: Rule; grammar: Grammar }[] {
  const out: { rule: Rule; grammar: Grammar }[] = [];
  for (const r of rules) {
    if (r.include) {
      if (r.include.startsWith('#')) {
        const target = grammar.repository?.[r.include.slice(1)];
        if (!target) throw new Error(`missing repository rule ${r.include}`);
        out.push(...resolve([target], grammar, host));
      } else if (r.include === '$self' || r.include === '$base') {
        out.push(...resolve(host.patterns, host, host));
      } else throw new Error(`unsupported include ${r.include}`);
    } else if (!r.match && !r.begin && r.patterns) {
      out.push(...resolve(r.patterns, grammar, host));
    } else out.push({ rule: r, grammar });
  }
  return out;
}

/** `scope` matches selector part `sel` when equal or a dot-prefix of it. */
const scopeMatches = (scope: string, sel: string) => scope === sel || scope.startsWith(sel + '.');

/** Supports `L:`/`R:` prefixes, one positive scope path and `-exclusion`s (enough for our selectors). */
export function selectorMatches(selector: string, scopes: string[]): { matches: boolean; priority: number } {
  let s = selector.trim();
  let priority = 0;
  if (/^[LR]:/.test(s)) {
    priority = s[0] === 'L' ? -1 : 1;
    s = s.slice(2);
  }
  const parts = s.split(/\s+/);
  const positive = parts.filter((p) => !p.startsWith('-'));
  const negative = parts.filter((p) => p.startsWith('-')).map((p) => p.slice(1));
  // Positive parts are a descendant path: each must match a scope after the previous one.
  let i = 0;
  for (const p of positive) {
    while (i < scopes.length && !scopeMatches(scopes[i], p)) i++;
    if (i === scopes.length) return { matches: false, priority };
    i++;
  }
  const excluded = negative.some((n) => scopes.some((sc) => scopeMatches(sc, n)));
  return { matches: !excluded, priority };
}

function regex(source: string): RegExp {
  return new RegExp(source, 'gd'); // `d`: capture indices
}

export class Tokenizer {
  private stack: Frame[];

  constructor(
    private readonly grammar: Grammar,
    private readonly injections: Grammar[] = [],
  ) {
    this.stack = [
      {
        rule: { patterns: grammar.patterns },
        grammar,
        scopes: [grammar.scopeName],
        contentScopes: [grammar.scopeName],
      },
    ];
  }

  /** Scopes of each character of the line. */
  tokenizeLine(line: string): string[][] {
    const out: string[][] = Array.from({ length: line.length }, () => []);
    const paint = (from: number, to: number, scopes: string[]) => {
      for (let i = from; i < to; i++) out[i] = [...scopes];
    };
    const paintCaptures = (m: RegExpExecArray, scopes: string[], caps?: Record<string, { name: string }>) => {
      if (!caps) return;
      const indices = (m as RegExpExecArray & { indices: [number, number][] }).indices;
      for (const [k, v] of Object.entries(caps)) {
        const range = indices[Number(k)];
        if (range) for (let i = range[0]; i < range[1]; i++) out[i] = [...out[i], ...split(v.name)];
      }
    };
    let pos = 0;
    let guard = 0;
    while (pos <= line.length && guard++ < 10_000) {
      const top = this.stack[this.stack.length - 1];
      const candidates: Candidate[] = [];
      if (top.end) candidates.push({ rule: top.rule, grammar: top.grammar, re: top.end, kind: 'end', priority: 0 });
      for (const { rule, grammar } of resolve(top.rule.patterns ?? [], top.grammar, this.grammar)) {
        candidates.push({
          rule,
          grammar,
          re: regex(rule.match ?? rule.begin!),
          kind: rule.match ? 'match' : 'begin',
          priority: 1,
        });
      }
      for (const inj of this.injections) {
        const sel = selectorMatches(inj.injectionSelector!, top.contentScopes);
        if (!sel.matches) continue;
        for (const { rule, grammar } of resolve(inj.patterns, inj, inj)) {
          candidates.push({
            rule,
            grammar,
            re: regex(rule.match ?? rule.begin!),
            kind: rule.match ? 'match' : 'begin',
            priority: sel.priority < 0 ? -1 : 2,
          });
        }
      }
      let best: { c: Candidate; m: RegExpExecArray } | undefined;
      for (const c of candidates) {
        c.re.lastIndex = pos;
        const m = c.re.exec(line);
        if (!m) continue;
        if (!best || m.index < best.m.index || (m.index === best.m.index && c.priority < best.c.priority))
          best = { c, m };
      }
      if (!best) {
        paint(pos, line.length, top.contentScopes);
        break;
      }
      const { c, m } = best;
      const start = m.index;
      const stop = start + m[0].length;
      paint(pos, start, top.contentScopes);
      if (c.kind === 'end') {
        paint(start, stop, top.scopes);
        paintCaptures(m, top.scopes, c.rule.endCaptures ?? c.rule.captures);
        this.stack.pop();
      } else if (c.kind === 'match') {
        const scopes = [...top.contentScopes, ...split(c.rule.name)];
        paint(start, stop, scopes);
        paintCaptures(m, scopes, c.rule.captures);
      } else {
        const scopes = [...top.contentScopes, ...split(c.rule.name)];
        paint(start, stop, scopes);
        paintCaptures(m, scopes, c.rule.beginCaptures ?? c.rule.captures);
        this.stack.push({
          rule: c.rule,
          grammar: c.grammar,
          scopes,
          contentScopes: [...scopes, ...split(c.rule.contentName)],
          end: regex(c.rule.end!),
        });
      }
      if (stop === pos && c.kind !== 'end')
        pos++; // no progress: step over a character
      else pos = stop;
    }
    return out;
  }
}
