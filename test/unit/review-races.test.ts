// Review actions under concurrent change (client/src/review/reviewPlan.ts, the pure planning
// behind Accept / Reject and the record editor). An action captures its record when it starts;
// before it is applied, the review file may change: records added above it (another tool, a
// paste), lines moved, a line reformatted, another action's status edit, a completion rewritten
// by the user, a record deleted. Random interleavings check that no record is ever lost or
// duplicated, that an action edits its own record or refuses (and refuses only when that record
// itself changed or went), and that curated.jsonl holds each accepted pair exactly once.
// The daemon's edits come from the real server/src/lsp/review.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  arrayLines,
  InlineEdit,
  locateRecord,
  pairOf,
  planCurated,
  planStatus,
  RecordRef,
  SerialQueue,
} from '../../client/src/review/reviewPlan';
import { reviewEdits } from '../../server/src/lsp/review';

type Status = 'pending' | 'accepted' | 'rejected';
type Rec = {
  prompt: string;
  completion: string;
  rewards: Record<string, number>;
  status: Status;
  source: { id: number };
};

const record = (id: number, status: Status = 'pending'): Rec => ({
  prompt: `What is ${id} + 1?`,
  completion: `<think>${id} + 1</think><answer>${id + 1}</answer>`,
  rewards: { accuracy: 1 },
  status,
  source: { id },
});
const line = (r: Rec) => JSON.stringify(r);
const idOf = (text: string): number | undefined => {
  try {
    return (JSON.parse(text) as Rec).source.id;
  } catch {
    return undefined;
  }
};

/** The daemon's answer for a status change of `text` (one line), as edits within that line. */
function daemonInline(text: string, action: 'accept' | 'reject'): InlineEdit[] {
  const doc = TextDocument.create('file:///r/review.jsonl', 'jsonl', 1, text);
  return reviewEdits(doc, { uri: doc.uri, line: 0, action }).edits.map((e) => ({
    start: e.range.start.character,
    end: e.range.end.character,
    newText: e.newText,
  }));
}

/** Applies a curated plan to curated.jsonl's lines (undefined: no file), as the editor would. */
function applyCurated(curated: string[] | undefined, plan: ReturnType<typeof planCurated>): string[] | undefined {
  switch (plan.kind) {
    case 'none':
      return curated;
    case 'create':
      assert.equal(curated, undefined, 'create only when there is no file');
      return plan.text.split('\n');
    case 'insert': {
      const out = [...curated!];
      const text = out[plan.line].slice(0, plan.character) + plan.text + out[plan.line].slice(plan.character);
      out.splice(plan.line, 1, ...text.split('\n'));
      return out;
    }
    case 'delete': {
      const out = [...curated!];
      out.splice(plan.line, 1);
      return out;
    }
  }
}

const counts = { runs: 0, steps: 0, applied: 0, moved: 0, refused: 0, curatedAdds: 0, curatedRemoves: 0 };
after(() =>
  console.log(
    `review races: ${counts.runs} interleavings, ${counts.steps} steps, ${counts.applied} actions applied (${counts.moved} to a record that had moved), ${counts.refused} refused, curated.jsonl +${counts.curatedAdds} −${counts.curatedRemoves}`,
  ),
);

type Op =
  | { kind: 'start'; action: 'accept' | 'reject'; pick: number }
  | { kind: 'apply'; pick: number }
  | { kind: 'insertRecord'; at: number }
  | { kind: 'insertBlank'; at: number }
  | { kind: 'move'; from: number; to: number }
  | { kind: 'reformat'; pick: number }
  | { kind: 'setStatus'; pick: number; status: Status }
  | { kind: 'editCompletion'; pick: number }
  | { kind: 'deleteRecord'; pick: number };

const nat = fc.nat({ max: 1000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      action: fc.constantFrom('accept' as const, 'reject' as const),
      pick: nat,
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('apply' as const), pick: nat }) },
  fc.record({ kind: fc.constant('insertRecord' as const), at: nat }),
  fc.record({ kind: fc.constant('insertBlank' as const), at: nat }),
  fc.record({ kind: fc.constant('move' as const), from: nat, to: nat }),
  fc.record({ kind: fc.constant('reformat' as const), pick: nat }),
  fc.record({
    kind: fc.constant('setStatus' as const),
    pick: nat,
    status: fc.constantFrom<Status>('pending', 'accepted', 'rejected'),
  }),
  fc.record({ kind: fc.constant('editCompletion' as const), pick: nat }),
  fc.record({ kind: fc.constant('deleteRecord' as const), pick: nat }),
);

interface Pending {
  action: 'accept' | 'reject';
  ref: RecordRef;
  id: number;
  inline: InlineEdit[];
  /** The record's identity changed (completion rewritten, or deleted) since the action started. */
  identityChanged: boolean;
}

/** Runs one interleaving against a model of what must hold, checking after every step. */
function runInterleaving(initial: number, ops: Op[]): void {
  counts.runs++;
  const review = [...Array.from({ length: initial }, (_, i) => line(record(i))), ''];
  let curated: string[] | undefined;
  let nextId = initial;
  const live = new Map<number, Status>(Array.from({ length: initial }, (_, i) => [i, 'pending'] as const));
  const curatedPairs = new Set<string>(); // pairs that must be in curated.jsonl
  const pending: Pending[] = [];
  const recordLines = () => review.flatMap((t, i) => (idOf(t) !== undefined ? [i] : []));
  const pickLine = (n: number) => {
    const lines = recordLines();
    return lines.length ? lines[n % lines.length] : undefined;
  };
  const pairKey = (r: Rec) => JSON.stringify(pairOf(r));

  for (const op of ops) {
    counts.steps++;
    switch (op.kind) {
      case 'start': {
        const at = pickLine(op.pick);
        if (at === undefined) break;
        const text = review[at];
        pending.push({
          action: op.action,
          ref: { line: at, text },
          id: idOf(text)!,
          inline: daemonInline(text, op.action),
          identityChanged: false,
        });
        break;
      }
      case 'apply': {
        if (!pending.length) break;
        const [p] = pending.splice(op.pick % pending.length, 1);
        const status = p.action === 'accept' ? 'accepted' : 'rejected';
        const plan = planStatus(arrayLines(review), p.ref, status, p.inline);
        if ('error' in plan) {
          assert.ok(p.identityChanged, `refused although record ${p.id} is unchanged: ${plan.error}`);
          counts.refused++;
          break;
        }
        assert.ok(!p.identityChanged || live.has(p.id), 'applied to a record that is gone');
        assert.equal(idOf(review[plan.line]), p.id, `the ${p.action} of record ${p.id} landed on another record`);
        assert.ok(!p.identityChanged, `record ${p.id} changed, yet the stale action was applied`);
        counts.applied++;
        if (plan.line !== p.ref.line) counts.moved++;
        if (plan.newText !== undefined) review[plan.line] = plan.newText;
        live.set(p.id, status);
        const op2 = p.action === 'accept' ? 'add' : plan.previous === 'accepted' ? 'remove' : undefined;
        if (op2) {
          const change = planCurated(curated && arrayLines(curated), pairOf(plan.record), op2);
          curated = applyCurated(curated, change);
          if (change.kind !== 'none') counts[op2 === 'add' ? 'curatedAdds' : 'curatedRemoves']++;
          if (op2 === 'add') curatedPairs.add(pairKey(plan.record as Rec));
          else curatedPairs.delete(pairKey(plan.record as Rec));
        }
        break;
      }
      case 'insertRecord': {
        const id = nextId++;
        review.splice(op.at % review.length, 0, line(record(id)));
        live.set(id, 'pending');
        break;
      }
      case 'insertBlank':
        review.splice(op.at % review.length, 0, '');
        break;
      case 'move': {
        const from = pickLine(op.from);
        if (from === undefined) break;
        const [moved] = review.splice(from, 1);
        review.splice(op.to % (review.length + 1), 0, moved);
        break;
      }
      case 'reformat': {
        const at = pickLine(op.pick);
        if (at === undefined) break;
        // Same record, other spacing (a formatter, or a hand edit).
        review[at] = JSON.stringify(JSON.parse(review[at]), null, 1).replace(/\n\s*/g, ' ');
        break;
      }
      case 'setStatus': {
        const at = pickLine(op.pick);
        if (at === undefined) break;
        const r = JSON.parse(review[at]) as Rec;
        review[at] = line({ ...r, status: op.status });
        live.set(r.source.id, op.status);
        break;
      }
      case 'editCompletion': {
        const at = pickLine(op.pick);
        if (at === undefined) break;
        const r = JSON.parse(review[at]) as Rec;
        review[at] = line({ ...r, completion: `${r.completion} (edited at step ${counts.steps})` });
        for (const p of pending) if (p.id === r.source.id) p.identityChanged = true;
        break;
      }
      case 'deleteRecord': {
        const at = pickLine(op.pick);
        if (at === undefined) break;
        const id = idOf(review[at])!;
        review.splice(at, 1);
        live.delete(id);
        for (const p of pending) if (p.id === id) p.identityChanged = true;
        break;
      }
    }
    // No record lost or duplicated; each has the status the model says.
    const ids = review.map(idOf).filter((id): id is number => id !== undefined);
    assert.equal(new Set(ids).size, ids.length, `a record is duplicated: ${ids.join(',')}`);
    assert.deepEqual(
      [...ids].sort((a, b) => a - b),
      [...live.keys()].sort((a, b) => a - b),
      'records lost or added',
    );
    for (const t of review) {
      const id = idOf(t);
      if (id !== undefined) assert.equal((JSON.parse(t) as Rec).status, live.get(id), `status of record ${id}`);
    }
    // curated.jsonl: exactly the accepted pairs, each once.
    const held = (curated ?? []).filter((t) => t.length > 0).map((t) => JSON.stringify(pairOf(JSON.parse(t))));
    assert.equal(new Set(held).size, held.length, `a pair is in curated.jsonl twice`);
    assert.deepEqual(new Set(held), curatedPairs);
  }
}

describe('review actions under concurrent change', () => {
  it('never lose or duplicate a record, edit only their own record, keep curated.jsonl exact (random interleavings)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb, { minLength: 10, maxLength: 60 }), (n, ops) =>
        runInterleaving(n, ops),
      ),
      { numRuns: 1000, seed: 909 },
    );
    assert.ok(counts.moved > 50 && counts.refused > 10, `the races happened: ${JSON.stringify(counts)}`);
  });

  it('an accept whose record moved down (a record added above) edits that record, not the line it was on', () => {
    const a = line(record(1));
    const b = line(record(2));
    const ref = { line: 0, text: a };
    const plan = planStatus(arrayLines([b, a, '']), ref, 'accepted', daemonInline(a, 'accept'));
    assert.ok(!('error' in plan));
    assert.equal(plan.line, 1);
    assert.deepEqual(JSON.parse(plan.newText!), { ...record(1), status: 'accepted' });
  });

  it('two accepts planned before either is applied add the pair to curated.jsonl once', () => {
    const r = record(1, 'accepted');
    let curated: string[] | undefined;
    for (let i = 0; i < 2; i++)
      curated = applyCurated(curated, planCurated(curated && arrayLines(curated), pairOf(r), 'add'));
    assert.deepEqual(curated, [JSON.stringify(pairOf(r)), '']);
  });

  it('a pair already in curated.jsonl with other formatting is not added again', () => {
    const r = record(3);
    const reformatted = JSON.stringify(pairOf(r), null, 1).replace(/\n\s*/g, ' ');
    assert.deepEqual(planCurated(arrayLines([reformatted, '']), pairOf(r), 'add'), { kind: 'none' });
  });

  it('a status changed meanwhile is kept track of: the stale daemon edit is not used', () => {
    // Reject planned on a pending record; an accept lands first; the reject then removes the curated pair.
    const a = line(record(1));
    const inline = daemonInline(a, 'reject');
    const now = line(record(1, 'accepted'));
    const plan = planStatus(arrayLines([now]), { line: 0, text: a }, 'rejected', inline);
    assert.ok(!('error' in plan));
    assert.equal(plan.previous, 'accepted');
    assert.equal(JSON.parse(plan.newText!).status, 'rejected');
  });

  it('refuses a record whose completion changed, naming the line', () => {
    const a = line(record(1));
    const changed = line({ ...record(1), completion: 'other' });
    const found = locateRecord(arrayLines([changed]), { line: 4, text: a });
    assert.deepEqual(found, {
      error: 'the record on line 5 was changed or removed since the action started; nothing was changed',
    });
  });

  it('SerialQueue runs tasks one at a time in call order, a failing task not stopping the next', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([q.run(task('a', 20, true)), q.run(task('b', 1)), q.run(task('c', 5))]);
    assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
  });
});
