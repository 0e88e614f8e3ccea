// metrics.jsonl: one JSON object per logged step, each with `stage` and `step`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendFileNamed, writeFileAtomic } from './fsAtomic';

// Values are numbers or strings; per-expert MoE figures (`moe/load/layerN`) are number arrays.
export type MetricRecord = { stage: string; step: number } & Record<string, number | string | number[]>;

export class MetricsWriter {
  // After a resume: the kinds of line (their key sets) already logged at the checkpoint's step.
  private resumedAt?: { step: number; kinds: Set<string> };

  constructor(
    readonly file: string,
    private readonly listener?: (m: MetricRecord) => void,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  /** On resume, drop lines logged after the checkpoint so the file has no duplicate steps. */
  truncateAfter(step: number): void {
    truncateJsonlAfterStep(this.file, step);
    const kinds = readMetrics(this.file)
      .filter((m) => m.step === step)
      .map(kindOf);
    this.resumedAt = { step, kinds: new Set(kinds) };
  }

  write(m: MetricRecord): void {
    // A stage resumed from a finished checkpoint logs its final eval again (a crash came after
    // the checkpoint, before the summary): replace the line it logged the first time.
    const r = this.resumedAt;
    if (r && m.step === r.step && r.kinds.has(kindOf(m))) {
      const kept = readMetrics(this.file).filter((x) => !(x.step === m.step && kindOf(x) === kindOf(m)));
      writeFileAtomic(this.file, [...kept, m].map((x) => JSON.stringify(x) + '\n').join(''));
      r.kinds.delete(kindOf(m));
    } else {
      appendFileNamed(this.file, JSON.stringify(m) + '\n');
    }
    this.listener?.(m);
  }
}

/** Lines with the same stage and keys are the same kind of record (training step, eval...). */
function kindOf(m: MetricRecord): string {
  return `${m.stage}\0${Object.keys(m).sort().join(',')}`;
}

export function readMetrics(file: string): MetricRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricRecord);
}

/**
 * Keeps only the lines of a per-step JSONL log (metrics, groups) with `step <= step`, so a
 * resumed stage does not log the same steps twice. Drops a last line cut short by a crash.
 */
export function truncateJsonlAfterStep(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(file, kept.map((l) => l + '\n').join(''));
}
