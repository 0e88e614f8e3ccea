// The pipeline config (`r1.config.json`): which backend and model, and each stage's settings.
// Paths inside it are relative to the config file. `presets` are named overrides (e.g. `tiny`
// for tests) merged over the rest by `--preset NAME`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendName, BACKEND_NAMES } from '../backend/backend';
import { ModelConfig, MOE_DEFAULTS, PRESETS } from '../model/config';
import { UserError } from '../util/errors';
import { fieldOf, SchemaProblem, schemaProblems } from './schemaCheck';

export const STAGE_IDS = [
  'pretrain',
  'cold-start',
  'reasoning-rl',
  'rejection-sampling',
  'sft',
  'reward-model',
  'rl-all',
] as const;
export type StageId = (typeof STAGE_IDS)[number];

/** Settings shared by the next-token stages (pretrain, cold-start, sft). */
export interface LmStageConfig {
  /** Training data: a corpus (.txt / .jsonl with "text") for pretrain, SFT JSONL otherwise. */
  data: string;
  /** pretrain only: a held-out corpus file for `eval/loss`. */
  heldOut?: string;
  /** Optimizer steps. */
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup steps before cosine decay. */
  warmupSteps: number;
  /** Final learning rate as a fraction of the peak. */
  minLrRatio: number;
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  maxGradNorm: number;
  /** Steps between metric lines. */
  logEvery: number;
  /** Steps between evaluations (0 = only at the end). */
  evalEvery: number;
  /** Steps between checkpoints; a crash loses at most this much work. */
  checkpointEvery: number;
}

export interface EvalConfig {
  /** Held-out RL-format prompts with answers. */
  data: string;
  /** Evaluate on the first N records during training (the CLI's `r1 eval` uses all). */
  limit: number;
  maxNewTokens: number;
  batchSize: number;
}

export interface PipelineConfig {
  backend: BackendName;
  /** A preset name or a full architecture. */
  model: string | Omit<ModelConfig, 'vocabSize'>;
  seed: number;
  eval: EvalConfig;
  /** Settings per stage id; a stage absent here is skipped by `r1 pipeline`. */
  stages: Partial<Record<StageId, Record<string, unknown>>>;
  presets?: Record<string, DeepPartial<PipelineConfig>>;
  /** Absolute folder of the config file; data paths resolve against it. */
  baseDir: string;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export const LM_STAGE_DEFAULTS: Omit<LmStageConfig, 'data'> = {
  steps: 1000,
  batchSize: 16,
  lr: 1e-3,
  warmupSteps: 50,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  logEvery: 10,
  evalEvery: 0,
  checkpointEvery: 200,
};

export class ConfigError extends UserError {
  override name = 'ConfigError';

  constructor(
    message: string,
    /** JSON pointer of the offending value in the config file (e.g. `/stages/pretrain/steps`), when known. */
    readonly pointer?: string,
  ) {
    super(message);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function deepMerge<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const value = Object.hasOwn(out, k) ? deepMerge(out[k], v) : v;
    // defineProperty: a "__proto__" key from JSON stays a plain key instead of swapping the prototype.
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out as T;
}

/** Reads and checks the config; `preset` merges `presets[preset]` over it. */
export function loadPipelineConfig(file: string, preset?: string): PipelineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(raw)) throw new ConfigError(`${file}: the config must be a JSON object`);
  checkSchema(raw, file);
  let merged = raw as unknown as PipelineConfig;
  if (preset) {
    // hasOwn: `--preset constructor` must not find Object's members.
    const over = merged.presets && Object.hasOwn(merged.presets, preset) ? merged.presets[preset] : undefined;
    if (!isObject(over)) {
      const known = Object.keys(merged.presets ?? {});
      throw new ConfigError(`${file}: field "presets": no preset "${preset}" (have: ${known.join(', ') || 'none'})`);
    }
    merged = deepMerge(merged, over);
    checkSchema(merged, file, ` (with preset "${preset}")`);
  }
  const config: PipelineConfig = {
    ...merged,
    backend: merged.backend ?? 'auto',
    seed: merged.seed ?? 1,
    baseDir: path.dirname(path.resolve(file)),
  };
  checkConfig(config, file);
  return config;
}

// Messages for the first few problems: enough to fix a file in one go without flooding a terminal.
const MAX_PROBLEMS = 3;

/** Throws a ConfigError naming the JSON path of each problem the config schema finds. */
function checkSchema(config: unknown, file: string, context = ''): void {
  // The architecture is checked by the code that knows every preset and option (the schema may
  // lag behind a new one, such as the MoE presets); everything else by the schema.
  const problems = [...modelProblems(config), ...schemaProblems(config).filter((p) => !MODEL_POINTER.test(p.pointer))];
  if (problems.length === 0) return;
  const lines = problems.slice(0, MAX_PROBLEMS).map((p) => {
    const where = p.pointer === '' ? 'the config' : `field "${p.field}" (${p.pointer})`;
    return `${file}${context}: ${where} ${p.message}`;
  });
  if (problems.length > MAX_PROBLEMS) lines.push(`... and ${problems.length - MAX_PROBLEMS} more`);
  throw new ConfigError(lines.join('\n'), problems[0].pointer);
}

const MODEL_POINTER = /^(?:\/presets\/[^/]+)?\/model(?:\/|$)/;
const ARCH_FIELDS = ['dModel', 'nLayers', 'nHeads', 'dFF', 'contextLength'];

/** Problems of `model` (and of each preset's): a preset name, or an architecture of positive integers. */
function modelProblems(config: unknown): SchemaProblem[] {
  if (!isObject(config)) return [];
  const places: [string, unknown][] = [];
  if (Object.hasOwn(config, 'model')) places.push(['/model', config.model]);
  if (isObject(config.presets)) {
    for (const [name, p] of Object.entries(config.presets)) {
      if (isObject(p) && Object.hasOwn(p, 'model'))
        places.push([`/presets/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/model`, p.model]);
    }
  }
  const problems: SchemaProblem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, field: fieldOf(pointer), message });
  for (const [pointer, m] of places) {
    if (typeof m === 'string') {
      if (!Object.hasOwn(PRESETS, m)) add(pointer, `names no preset "${m}" (have: ${Object.keys(PRESETS).join(', ')})`);
    } else if (!isObject(m)) {
      add(pointer, 'must be a preset name or an architecture object');
    } else {
      for (const k of ARCH_FIELDS) {
        const v = m[k];
        // Whole architectures in presets too (as the editor's schema says): deepMerge replaces a
        // preset name with the object, so a partial one would not be completed.
        if (v === undefined) add(`${pointer}/${k}`, 'is required');
        else if (!(Number.isInteger(v) && (v as number) >= 1)) add(`${pointer}/${k}`, 'must be an integer >= 1');
      }
      if (m.moe !== undefined) moeProblems(`${pointer}/moe`, m.moe).forEach(([p, msg]) => add(p, msg));
    }
  }
  return problems;
}

/** An architecture's `moe` object: counts are integers, topK at most routedExperts, rates >= 0. */
/** The MoE counts a config must give, with their minimums; the rates have MOE_DEFAULTS. */
const MOE_COUNTS: Record<string, number> = { routedExperts: 1, sharedExperts: 0, topK: 1, expertHidden: 1 };

function moeProblems(pointer: string, moe: unknown): [string, string][] {
  if (!isObject(moe)) return [[pointer, 'must be an object (routedExperts, sharedExperts, topK, expertHidden, ...)']];
  const out: [string, string][] = [];
  for (const [k, min] of Object.entries(MOE_COUNTS)) {
    const v = moe[k];
    if (v === undefined) out.push([`${pointer}/${k}`, 'is required']);
    else if (!(Number.isInteger(v) && (v as number) >= min))
      out.push([`${pointer}/${k}`, `must be an integer >= ${min}`]);
  }
  for (const k of Object.keys(MOE_DEFAULTS)) {
    const v = moe[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      out.push([`${pointer}/${k}`, 'must be a number >= 0']);
  }
  if (moe.capacityFactor === 0) out.push([`${pointer}/capacityFactor`, 'must be > 0']);
  if (typeof moe.topK === 'number' && typeof moe.routedExperts === 'number' && moe.topK > moe.routedExperts)
    out.push([`${pointer}/topK`, `must be at most routedExperts (${moe.routedExperts})`]);
  const known = new Set([...Object.keys(MOE_COUNTS), ...Object.keys(MOE_DEFAULTS)]);
  for (const k of Object.keys(moe)) if (!known.has(k)) out.push([`${pointer}/${k}`, 'is not a MoE setting']);
  return out;
}

function checkConfig(c: PipelineConfig, file: string): void {
  if (!BACKEND_NAMES.includes(c.backend))
    throw new ConfigError(`${file}: field "backend" must be one of ${BACKEND_NAMES.join(', ')}`);
  if (typeof c.model === 'string' && !(c.model in PRESETS)) {
    throw new ConfigError(
      `${file}: field "model" names no preset "${c.model}" (have: ${Object.keys(PRESETS).join(', ')})`,
    );
  }
  if (!isObject(c.stages)) throw new ConfigError(`${file}: field "stages" must be an object`);
  for (const id of Object.keys(c.stages)) {
    if (!(STAGE_IDS as readonly string[]).includes(id))
      throw new ConfigError(`${file}: field "stages.${id}": unknown stage (stages: ${STAGE_IDS.join(', ')})`);
  }
  if (!isObject(c.eval) || typeof c.eval.data !== 'string')
    throw new ConfigError(`${file}: field "eval.data" must name the held-out eval file`);
}

/** A stage's settings with defaults filled in and its data path resolved. */
export function lmStageConfig(c: PipelineConfig, stage: 'pretrain' | 'cold-start' | 'sft'): LmStageConfig {
  const s = c.stages[stage];
  if (!s || typeof s.data !== 'string') throw new ConfigError(`config: field "stages.${stage}.data" is required`);
  const merged = { ...LM_STAGE_DEFAULTS, ...s } as LmStageConfig;
  for (const [k, v] of Object.entries(merged)) {
    if (k !== 'data' && k in LM_STAGE_DEFAULTS && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new ConfigError(`config: field "stages.${stage}.${k}" must be a non-negative number`);
    }
  }
  return {
    ...merged,
    data: resolveData(c, merged.data),
    heldOut: merged.heldOut ? resolveData(c, merged.heldOut) : undefined,
  };
}

export function resolveData(c: PipelineConfig, p: string): string {
  return path.resolve(c.baseDir, p);
}
