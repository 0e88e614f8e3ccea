// What a review file holds (spec §3): records with a `status`, read from the editor's text.
import * as vscode from 'vscode';
import { parseRecord } from './recordText';

export const REVIEW_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export interface Trace {
  line: number;
  status: ReviewStatus;
  prompt: string;
  completion: string;
  rewards?: Record<string, number>;
}

function isStatus(x: unknown): x is ReviewStatus {
  return typeof x === 'string' && (REVIEW_STATUSES as readonly string[]).includes(x);
}

/** A JSONL document whose name ends in `.review.jsonl` or whose first records carry a `status`. */
export function isReviewDocument(doc: vscode.TextDocument): boolean {
  if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled') return false;
  const name = doc.uri.path.toLowerCase();
  if (name.endsWith('.review.jsonl')) return true;
  if (doc.languageId !== 'jsonl' && !name.endsWith('.jsonl')) return false;
  for (let i = 0, seen = 0; i < doc.lineCount && seen < 20; i++) {
    const rec = parseRecord(doc.lineAt(i).text);
    if (!rec) continue;
    seen++;
    if (isStatus(rec.status)) return true;
  }
  return false;
}

/** Text of a prompt that may be a string or a conversation. */
export function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) {
    return prompt
      .map((m) => (m && typeof m === 'object' ? String((m as { content?: unknown }).content ?? '') : ''))
      .join(' / ');
  }
  return '';
}

export function traceAt(doc: vscode.TextDocument, line: number): Trace | undefined {
  const rec = parseRecord(doc.lineAt(line).text);
  if (!rec || !isStatus(rec.status)) return undefined;
  const rewards = rec.rewards && typeof rec.rewards === 'object' ? (rec.rewards as Record<string, number>) : undefined;
  return {
    line,
    status: rec.status,
    prompt: promptText(rec.prompt),
    completion: typeof rec.completion === 'string' ? rec.completion : promptText(rec.completion),
    rewards,
  };
}

export function readTraces(doc: vscode.TextDocument): Trace[] {
  const out: Trace[] = [];
  for (let i = 0; i < doc.lineCount; i++) {
    const t = traceAt(doc, i);
    if (t) out.push(t);
  }
  return out;
}
