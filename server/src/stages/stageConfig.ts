// Reading the settings of the stages added by the full recipe (rejection-sampling, sft,
// reward-model, rl-all) the way the other stages read theirs: defaults filled in, each value
// checked against its default's type, and a message naming the field when one is wrong.
import { ConfigError, PipelineConfig, StageId } from '../config/pipelineConfig';

type Value = number | boolean | string | undefined;

/** Checks beyond the type: fields in [0, 1], numbers that may be negative, fields with a fixed set of values. */
export interface FieldRules {
  fractions?: readonly string[];
  signed?: readonly string[];
  enums?: Record<string, readonly string[]>;
}

/**
 * `stages.<stage>` merged over `defaults`. Numbers must be finite and >= 0 (unless `signed`), booleans booleans,
 * strings non-empty strings; a default of `undefined` marks an optional string. Keys that are not
 * in `defaults` pass through untouched (the GRPO settings of rl-all, for instance).
 */
export function readStageConfig<T extends { [K in keyof T]: Value }>(
  c: PipelineConfig,
  stage: StageId,
  defaults: T,
  rules: FieldRules = {},
): T {
  const merged = { ...defaults, ...(c.stages[stage] ?? {}) } as Record<string, unknown>;
  for (const [k, def] of Object.entries(defaults)) {
    const v = merged[k];
    const field = `stages.${stage}.${k}`;
    const signed = rules.signed?.includes(k) ?? false;
    if (typeof def === 'number' && (typeof v !== 'number' || !Number.isFinite(v) || (v < 0 && !signed)))
      throw new ConfigError(`config: field "${field}" must be a ${signed ? 'finite' : 'non-negative'} number`);
    if (typeof def === 'boolean' && typeof v !== 'boolean')
      throw new ConfigError(`config: field "${field}" must be true or false`);
    if ((typeof def === 'string' || def === undefined) && v !== undefined && (typeof v !== 'string' || v === ''))
      throw new ConfigError(`config: field "${field}" must be a non-empty string`);
    if (rules.fractions?.includes(k) && (v as number) > 1)
      throw new ConfigError(`config: field "${field}" must be between 0 and 1`);
    const allowed = rules.enums?.[k];
    if (allowed && !allowed.includes(v as string))
      throw new ConfigError(`config: field "${field}" must be one of ${allowed.join(', ')}`);
  }
  return merged as T;
}
