// Review actions on a review-file record, as text edits for the client to apply through the
// editor (undoable, and safe with unsaved changes): the daemon never writes the file itself.
// Edits replace only the `status` (and `completion`) values, so the rest of the line, its key
// order and formatting stay as they were.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { pathKey, scanJson } from '../data/jsonScan';
import type { ReviewParams, ReviewResult } from '../protocol/messages';
import { UserError } from '../util/errors';
import { recordAt } from './documents';

type Edit = ReviewResult['edits'][number];

/** The status each action sets; an edited trace is one a person wrote, so it counts as accepted. */
export const REVIEW_STATUS: Record<ReviewParams['action'], 'accepted' | 'rejected' | 'pending'> = {
  accept: 'accepted',
  reject: 'rejected',
  pending: 'pending',
  edit: 'accepted',
};

/** The edits that apply `params.action` to the record on `params.line` of `doc`. */
export function reviewEdits(doc: TextDocument, params: ReviewParams): ReviewResult {
  if (!(params.action in REVIEW_STATUS))
    throw new UserError(`review: unknown action ${JSON.stringify(params.action)} (accept, reject, edit, pending)`);
  if (params.action === 'edit' && typeof params.completion !== 'string')
    throw new UserError('review: "edit" needs the new completion text');
  const rec = recordAt(doc, params.line);
  if (typeof rec.value.status !== 'string')
    throw new UserError(`${doc.uri}:${params.line + 1}: not a review record (it has no "status")`);

  const { spans } = scanJson(rec.text);
  const edits: Edit[] = [];
  const replace = (key: string, value: string) => {
    const span = spans.get(pathKey([key]));
    if (span) {
      edits.push(edit(doc.uri, params.line, span.start, span.end, JSON.stringify(value)));
      return;
    }
    // Absent field: add it just before the record's closing brace.
    const close = rec.text.lastIndexOf('}');
    const sep = Object.keys(rec.value).length ? ', ' : '';
    edits.push(edit(doc.uri, params.line, close, close, `${sep}${JSON.stringify(key)}: ${JSON.stringify(value)}`));
  };
  const status = REVIEW_STATUS[params.action];
  if (rec.value.status !== status) replace('status', status);
  if (params.action === 'edit' && params.completion !== rec.value.completion) replace('completion', params.completion!);
  return { edits };
}

function edit(uri: string, line: number, start: number, end: number, newText: string): Edit {
  return { uri, range: { start: { line, character: start }, end: { line, character: end } }, newText };
}
