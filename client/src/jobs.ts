// Follows a daemon job in a cancellable notification: progress from `r1/jobEvent`, cancel ->
// `r1/cancel`, and a status poll as a fallback for a daemon that sends no events.
import * as vscode from 'vscode';
import type { JobEvent, JobRef } from '../../server/src/protocol/messages';
import { Commands } from './commandIds';
import { Ctx, messageOf } from './ctx';
import * as ext from './lspExt';

const POLL_MS = 3000;

type Outcome = { kind: 'finished' | 'failed' | 'cancelled' | 'lost'; message?: string };

export function trackJob(ctx: Ctx, ref: JobRef, title: string, stageCount: number): Thenable<void> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `R1: ${title}`, cancellable: true },
    async (progress, token) => {
      if (ref.position > 0) progress.report({ message: `queued (${ref.position} ahead)` });
      const outcome = await new Promise<Outcome>((resolve) => {
        const disposables: vscode.Disposable[] = [];
        let done = false;
        let reported = 0; // percent shown so far
        let stageIndex = -1;
        let lastStage: string | undefined;
        const finish = (o: Outcome) => {
          if (done) return;
          done = true;
          clearInterval(timer);
          for (const d of disposables) d.dispose();
          resolve(o);
        };
        const onEvent = (e: JobEvent) => {
          if (e.jobId !== ref.jobId) return;
          if (e.stage && e.stage !== lastStage) {
            lastStage = e.stage;
            stageIndex++;
          }
          switch (e.kind) {
            case 'started':
            case 'progress': {
              const counts = e.step !== undefined ? ` ${e.step}${e.total ? `/${e.total}` : ''}` : '';
              const within = e.total && e.step !== undefined ? Math.min(1, e.step / e.total) : 0;
              const pct = (100 * (Math.max(0, stageIndex) + within)) / Math.max(1, stageCount);
              progress.report({
                message: `${e.stage ?? ''}${counts}${e.message ? ` — ${e.message}` : ''}`,
                increment: pct > reported ? pct - reported : undefined,
              });
              reported = Math.max(reported, pct);
              break;
            }
            case 'stageDone':
              progress.report({ message: `${e.stage ?? 'stage'} done` });
              break;
            case 'finished':
            case 'failed':
            case 'cancelled':
              finish({ kind: e.kind, message: e.message });
              break;
          }
        };
        disposables.push(
          ctx.onJobEvent(onEvent),
          ctx.onDidChangeState((s) => {
            if (s !== 'running') finish({ kind: 'lost', message: ctx.lastError ?? 'the daemon stopped' });
          }),
          token.onCancellationRequested(() => {
            progress.report({ message: 'cancelling…' });
            ctx.request(ext.cancel, { jobId: ref.jobId }).then(
              () => finish({ kind: 'cancelled' }),
              (err) => {
                void vscode.window.showErrorMessage(`R1: could not cancel ${title}: ${messageOf(err)}`);
                finish({ kind: 'lost', message: messageOf(err) });
              },
            );
          }),
        );
        // Fallback: a job that is neither running nor queued any more has ended.
        const timer = setInterval(() => {
          void ctx.refreshStatus().then((s) => {
            if (!s) return;
            const alive = s.job?.jobId === ref.jobId || s.queue.some((j) => j.jobId === ref.jobId);
            if (!alive) finish({ kind: 'finished' });
            else if (s.job?.jobId === ref.jobId && !lastStage) {
              onEvent({ jobId: ref.jobId, kind: 'progress', stage: s.job.stage, step: s.job.step, total: s.job.total });
            }
          });
        }, POLL_MS);
      });
      void reportOutcome(title, outcome);
    },
  );
}

async function reportOutcome(title: string, o: Outcome): Promise<void> {
  if (o.kind === 'finished') {
    const pick = await vscode.window.showInformationMessage(`R1: ${title} finished.`, 'Show Dashboard');
    if (pick) void vscode.commands.executeCommand(Commands.showDashboard);
  } else if (o.kind === 'cancelled') {
    void vscode.window.showInformationMessage(`R1: ${title} cancelled; running it again resumes it.`);
  } else {
    const pick = await vscode.window.showErrorMessage(
      `R1: ${title} ${o.kind === 'failed' ? 'failed' : 'stopped'}${o.message ? `: ${o.message}` : '.'}`,
      'Show Logs',
    );
    if (pick) void vscode.commands.executeCommand(Commands.showLogs);
  }
}
