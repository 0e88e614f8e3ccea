/**
 * Wall and CPU seconds a stage has spent, across resumes. CPU time (this process, all threads)
 * is what compute-matched comparisons use: wall time depends on whatever else the machine runs.
 */
export class StageClock {
  private wallStart = Date.now();
  private cpuStart = process.cpuUsage();

  constructor(
    private wallBefore = 0,
    private cpuBefore = 0,
  ) {}

  get wallSeconds(): number {
    return this.wallBefore + (Date.now() - this.wallStart) / 1000;
  }

  get cpuSeconds(): number {
    const d = process.cpuUsage(this.cpuStart);
    return this.cpuBefore + (d.user + d.system) / 1e6;
  }
}
