// metrics.jsonl: one JSON object per logged step, each with `stage` and `step`.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type MetricRecord = { stage: string; step: number } & Record<string, number | string>;

export class MetricsWriter {
  constructor(
    readonly file: string,
    private readonly listener?: (m: MetricRecord) => void,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  /** On resume, drop lines logged after the checkpoint so the file has no duplicate steps. */
  truncateAfter(step: number): void {
    if (!fs.existsSync(this.file)) return;
    const kept = fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          return (JSON.parse(line) as MetricRecord).step <= step;
        } catch {
          return false; // a line cut short by a crash
        }
      });
    fs.writeFileSync(this.file, kept.map((l) => l + '\n').join(''));
  }

  write(m: MetricRecord): void {
    fs.appendFileSync(this.file, JSON.stringify(m) + '\n');
    this.listener?.(m);
  }
}

export function readMetrics(file: string): MetricRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricRecord);
}
