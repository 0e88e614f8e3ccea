// Timing helpers shared by the throughput benches. Each figure comes with CPU time as well as
// wall time: on a shared 2-core machine the wall clock includes time other processes ran, the
// process's CPU time mostly does not, so ratios of CPU-based figures are steadier.

export interface Timings {
  /** Wall milliseconds of each timed call. */
  wallMs: number[];
  /** Process CPU milliseconds (user + system, all threads) of each timed call. */
  cpuMs: number[];
}

/**
 * Calls `fn` `warmup` times untimed, then times it up to `count` times, stopping early once
 * `maxSeconds` have passed (but never before 3 timed calls).
 */
export async function timeCalls(
  fn: () => unknown,
  opts: { warmup: number; count: number; maxSeconds: number },
): Promise<Timings> {
  for (let i = 0; i < opts.warmup; i++) await fn();
  const out: Timings = { wallMs: [], cpuMs: [] };
  const start = performance.now();
  while (
    out.wallMs.length < opts.count &&
    (out.wallMs.length < 3 || performance.now() - start < opts.maxSeconds * 1000)
  ) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    out.wallMs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    out.cpuMs.push((c.user + c.system) / 1000);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Rounds to `digits` decimals (JSON output stays readable). */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024);
}

/** Left-aligned first column, right-aligned others. */
export function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]) => r.map((cell, c) => (c ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}
