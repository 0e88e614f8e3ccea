// Terminal output for stages: one progress bar per stage on stderr, log lines above it.
import { SingleBar, Presets } from 'cli-progress';
import { StageReporter, StageSummary } from '../stages/context';

export class TerminalReporter implements StageReporter {
  private bar?: SingleBar;

  log(message: string): void {
    if (this.bar) process.stderr.write('\n');
    process.stderr.write(`${message}\n`);
  }

  progressStart(stage: string, total: number, start: number): void {
    this.bar = new SingleBar(
      {
        // A stage bounded by time rather than steps (the SFT control) has no total to show.
        format: Number.isSafeInteger(total + 1)
          ? `${stage.padEnd(18)} [{bar}] {value}/{total} | loss {loss} | {tokps} tok/s | eta {eta_formatted}`
          : `${stage.padEnd(18)} step {value} | loss {loss} | {tokps} tok/s`,
        stream: process.stderr,
        hideCursor: false,
        etaBuffer: 50,
        noTTYOutput: !process.stderr.isTTY,
        notTTYSchedule: 10000,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, start, { loss: '-', tokps: '-' });
  }

  progress(step: number, info: Record<string, number>): void {
    this.bar?.update(step, { loss: info.loss?.toFixed(4) ?? '-', tokps: info.tokps ? Math.round(info.tokps) : '-' });
  }

  progressStop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

const fmt = (x: number | undefined, digits = 3) =>
  x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(digits);
/** A stage figure: counts (integers) without decimals. */
const fig = (x: number | undefined, digits = 3) => (Number.isInteger(x) ? String(x) : fmt(x, digits));

/**
 * Figures that read better as one phrase, first in the extra column: rejection sampling's
 * acceptance rate and the reward model's held-out pair accuracy. Each names the figures it uses.
 */
const HEADLINES: { uses: string[]; text: (f: Record<string, number>) => string }[] = [
  {
    uses: ['acceptance_rate', 'kept', 'sampled'],
    text: (f) => `accepted ${fmt(100 * f.acceptance_rate, 1)}% (${fig(f.kept)}/${fig(f.sampled)})`,
  },
  {
    uses: ['pair_accuracy', 'start_pair_accuracy'],
    text: (f) => `pair accuracy ${fmt(f.pair_accuracy)} (start ${fmt(f.start_pair_accuracy)})`,
  },
];

/** The extra column: headline phrases, then every other figure as name=value. */
export function extraColumn(figures: Record<string, number> = {}): string {
  const used = new Set<string>();
  const parts: string[] = [];
  for (const h of HEADLINES) {
    if (!(h.uses[0] in figures)) continue;
    parts.push(h.text(figures));
    h.uses.forEach((k) => used.add(k));
  }
  for (const [k, v] of Object.entries(figures)) if (!used.has(k)) parts.push(`${k}=${fig(v)}`);
  return parts.join(' ');
}

/** The end-of-pipeline table: wall time, eval figures and each stage's own figures per stage. */
export function summaryTable(summaries: StageSummary[]): string {
  const header = ['stage', 'wall', 'steps', 'pass@1', '+', '-', '*', 'format', 'lang', 'extra'];
  const rows = summaries
    .flatMap((s) => (s.control ? [s, s.control] : [s]))
    .map((s) => {
      const g = s.eval?.by_group ?? {};
      const extra = extraColumn(s.figures);
      return [
        s.stage + (s.cancelled ? ' (cancelled)' : ''),
        `${Math.round(s.wall_seconds)}s`,
        String(s.steps),
        fmt(s.eval?.['pass@1']),
        fmt(g['+']?.['pass@1'], 2),
        fmt(g['-']?.['pass@1'], 2),
        fmt(g['*']?.['pass@1'], 2),
        fmt(s.eval?.format),
        fmt(s.eval?.language_consistency),
        extra,
      ];
    });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
