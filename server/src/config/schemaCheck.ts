// Checks a pipeline config against the JSON schema the editor uses (schemas/r1.config.schema.json),
// so the CLI, the daemon and VS Code agree on what is valid, and a bad config is refused before
// any stage starts, with the JSON path of the problem (e.g. `/stages/pretrain/steps`).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../../schemas/r1.config.schema.json';

/** One problem: where it is (JSON pointer and dotted field) and what is wrong. */
export interface SchemaProblem {
  /** JSON pointer into the config, e.g. `/stages/pretrain/steps`; '' for the whole config. */
  pointer: string;
  /** The same place as users write a field, e.g. `stages.pretrain.steps`. */
  field: string;
  message: string;
}

let validator: ValidateFunction | undefined;

// Compiled on first use: the daemon's language features never need it.
function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
  return validator(value) ? [] : (validator.errors ?? []);
}

/** The schema's problems with `config`, most specific first; empty when it is valid. */
export function schemaProblems(config: unknown): SchemaProblem[] {
  const problems = [...nonFinite(config, ''), ...validate(config).flatMap(describe)];
  // One line per place: the branches of an anyOf (e.g. a preset name or an architecture) become
  // "must be one of ... or must be object". Deepest first: a parent's complaint is usually a
  // consequence of its child's.
  const byPointer = new Map<string, SchemaProblem>();
  for (const p of problems) {
    const prev = byPointer.get(p.pointer);
    if (!prev) byPointer.set(p.pointer, p);
    else if (!prev.message.split(' or ').includes(p.message)) prev.message += ` or ${p.message}`;
  }
  return [...byPointer.values()].sort((a, b) => depth(b.pointer) - depth(a.pointer));
}

function describe(e: ErrorObject): SchemaProblem[] {
  if (e.keyword === 'anyOf' || e.keyword === 'allOf' || e.keyword === 'oneOf' || e.keyword === 'if') return [];
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const pointer = `${e.instancePath}/${escape(String(params.additionalProperty))}`;
    return [problem(pointer, 'unknown field (not in the config schema; check the spelling)')];
  }
  if (e.keyword === 'required') {
    const pointer = `${e.instancePath}/${escape(String(params.missingProperty))}`;
    return [problem(pointer, 'is required')];
  }
  if (e.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    return [problem(e.instancePath, `must be one of ${allowed}`)];
  }
  return [problem(e.instancePath, e.message ?? 'is invalid')];
}

// JSON has no Infinity, but `1e999` parses to it, and the schema's `number` accepts it.
function nonFinite(value: unknown, pointer: string): SchemaProblem[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [problem(pointer, 'must be a finite number')];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => nonFinite(v, `${pointer}/${escape(k)}`));
}

function problem(pointer: string, message: string): SchemaProblem {
  return { pointer, field: fieldOf(pointer), message };
}

/** `/stages/pretrain/steps` -> `stages.pretrain.steps`; array indices as `[i]`. */
export function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length;
}
