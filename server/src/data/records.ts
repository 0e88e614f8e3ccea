// Record types for the four dataset kinds (spec §3) and the diagnostics that dataset checks
// produce. Field names follow TRL so that existing datasets load without conversion.
import { ChatMessage } from '../tokenizer/chatTemplate';

/** The dataset kinds `r1 validate --kind` accepts. */
export type DatasetKind = 'sft' | 'rl' | 'preference' | 'review';

/** All dataset kinds, in the order they are listed to users. */
export const DATASET_KINDS: readonly DatasetKind[] = ['sft', 'rl', 'preference', 'review'];

/** A prompt is plain text (one user turn) or a conversation. */
export type Prompt = string | ChatMessage[];

/** One SFT example; `line` is the 1-based line of the record in its file. */
export interface SftExample {
  prompt: Prompt;
  completion: string;
  line: number;
}

/** One RL / eval prompt with its reference answer. */
export interface RlExample {
  prompt: Prompt;
  /** Reference answer; '' only for `task: 'general'` (scored by the reward model instead). */
  answer: string;
  task: 'math' | 'code' | 'general';
  /** Test snippets for code tasks. */
  tests?: string[];
  /** Target language of the chain of thought, e.g. `en` or `zh`. */
  language?: string;
  line: number;
}

/** One preference pair for the reward model. */
export interface PreferenceExample {
  prompt: Prompt;
  chosen: string;
  rejected: string;
  line: number;
}

/** One record of a review file written by the rejection-sampling stage. */
export interface ReviewRecord {
  prompt: Prompt;
  completion: string;
  answer?: string;
  rewards: Record<string, number>;
  status: 'pending' | 'accepted' | 'rejected';
  /** Where the trace came from (stage, checkpoint, sample index...); kept as written. */
  source: Record<string, unknown>;
  line: number;
}

/**
 * One problem found in a data file. `line` and `col` are 1-based; `col` counts UTF-16 code
 * units, as editors and the Language Server Protocol do.
 */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
  /** The offending field, e.g. `completion` or `messages[2].role`, when there is one. */
  field?: string;
}

/** Formats a diagnostic the way compilers do: `file:line:col: error: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
}

// Enough lines to see the pattern of a broken file without flooding a terminal.
const MAX_MESSAGE_LINES = 20;

/**
 * Thrown by the loaders when a file cannot be used. `diagnostics` holds every error found (not
 * just the first), so a user can fix a file in one pass; the message lists them, capped.
 */
export class DataFileError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    const shown = diagnostics.slice(0, MAX_MESSAGE_LINES).map(formatDiagnostic);
    if (diagnostics.length > MAX_MESSAGE_LINES) shown.push(`... and ${diagnostics.length - MAX_MESSAGE_LINES} more`);
    super(shown.join('\n'));
    this.name = 'DataFileError';
    this.diagnostics = diagnostics;
  }
}
