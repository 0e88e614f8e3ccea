// Loaders for the training and eval stages: a dataset is used whole or not at all. Any error
// throws a DataFileError listing every error in the file; a bad record is never skipped, since
// silently training on part of a file is worse than stopping. Warnings do not stop loading.
// Files are read line by line (streamValidate.ts), so a large file is never held whole.
import { RecordOfKind } from './checkers';
import { DataFileError, DatasetKind, PreferenceExample, ReviewRecord, RlExample, SftExample } from './records';
import { parseFileRecords } from './streamValidate';

function load<K extends DatasetKind>(file: string, kind: K): RecordOfKind[K][] {
  const result = parseFileRecords(file, kind);
  if ('unreadable' in result) throw new DataFileError(result.unreadable);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new DataFileError(errors);
  return result.parsed;
}

/** Loads SFT examples (standard or conversational, TRL field names) from a UTF-8 JSONL file. */
export function loadSft(file: string): SftExample[] {
  return load(file, 'sft');
}

/** Loads RL / eval prompts with reference answers (GSM8K's question/"#### answer" form too). */
export function loadRl(file: string): RlExample[] {
  return load(file, 'rl');
}

/** Loads preference pairs for the reward model. */
export function loadPreference(file: string): PreferenceExample[] {
  return load(file, 'preference');
}

/** Loads a review file written by rejection sampling (all statuses; callers pick the accepted ones). */
export function loadReview(file: string): ReviewRecord[] {
  return load(file, 'review');
}
