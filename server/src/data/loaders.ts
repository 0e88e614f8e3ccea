// Loaders for the training and eval stages: a dataset is used whole or not at all. Any error
// throws a DataFileError listing every error in the file; a bad record is never skipped, since
// silently training on part of a file is worse than stopping. Warnings do not stop loading.
import { RecordOfKind } from './checkers';
import { readDataFile } from './jsonl';
import { DataFileError, DatasetKind, PreferenceExample, ReviewRecord, RlExample, SftExample } from './records';
import { parseRecords } from './validate';

function load<K extends DatasetKind>(file: string, kind: K): RecordOfKind[K][] {
  const read = readDataFile(file);
  if (read.text === undefined) throw new DataFileError(read.diagnostics);
  const result = parseRecords(read.text, file, kind);
  const errors = [...read.diagnostics, ...result.diagnostics].filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new DataFileError(errors.sort((a, b) => a.line - b.line || a.col - b.col));
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
