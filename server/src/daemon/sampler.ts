// Generation off the request loop: one long-lived worker thread keeps the served model loaded
// and answers sampling requests in order, streaming text pieces back as they are decoded.
import type { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors';
import { isWorkerOutOfMemory, outOfMemoryMessage, spawnDaemonWorker } from './workerHost';
import type { FromWorker, SampleOutcome, SampleSpec } from './workerProtocol';

interface Pending {
  resolve: (outcome: SampleOutcome) => void;
  reject: (err: Error) => void;
  onChunk?: (text: string) => void;
}

/** Client side of the sampling worker; restarts it on the next request after a crash. */
export class Sampler {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Backend the worker reported. */
  backend?: string;

  /**
   * @param heapMb the worker's JS heap limit in MB; past it the worker stops, pending requests fail
   *   with a message naming the limit, and the next request starts a fresh worker
   */
  constructor(
    private readonly log: (message: string) => void,
    private readonly heapMb?: number,
    private readonly spawn: () => Worker = () => spawnDaemonWorker({ maxOldGenerationSizeMb: heapMb }),
  ) {}

  /** Generates one completion; `onChunk` gets each decoded piece as it is produced. */
  sample(spec: SampleSpec, onChunk?: (text: string) => void): Promise<SampleOutcome> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<SampleOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onChunk });
      worker.postMessage({ type: 'sample', id, spec });
    });
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.spawn();
    const forward = (chunk: Buffer) => this.log(`[sampler] ${String(chunk).trimEnd()}`);
    worker.stdout?.on('data', forward);
    worker.stderr?.on('data', forward);
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.log(`sampling worker stopped: ${why}`);
      for (const p of this.pending.values()) p.reject(new Error(`sampling worker stopped: ${why}`));
      this.pending.clear();
    };
    worker.on('error', (err) =>
      fail(isWorkerOutOfMemory(err) ? outOfMemoryMessage('sampling worker', this.heapMb, err.message) : err.message),
    );
    worker.on('exit', (code) => fail(`exit code ${code}`));
    // An idle sampler must not keep a standalone daemon alive after its server closed.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'backend') {
      this.backend = msg.name;
      return;
    }
    if (msg.type !== 'chunk' && msg.type !== 'sampled' && msg.type !== 'sampleError') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'chunk') {
      p.onChunk?.(msg.text);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'sampled') p.resolve(msg.outcome);
    else p.reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
  }
}
