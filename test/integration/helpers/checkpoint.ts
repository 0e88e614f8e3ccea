// A tiny trained checkpoint for the tests that serve one (`r1 daemon --checkpoint`). Kept apart
// from daemon.ts so the LSP-only tests do not load TensorFlow.js just to import their helpers.
import * as path from 'node:path';
import { loadPipelineConfig } from '../../../server/src/config/pipelineConfig';
import { silentReporter } from '../../../server/src/stages/context';
import { runPipeline } from '../../../server/src/stages/pipeline';
import { testBackend } from '../../helpers/backend';
import { writeTinyConfig } from './daemon';

/**
 * Trains the tiny model for a few pretrain steps (a second or two on wasm) into
 * `<workspace>/runs/tiny` and returns its checkpoint folder, which the daemon names `tiny/pretrain`.
 */
export async function trainTinyCheckpoint(workspace: string, steps = 10): Promise<string> {
  await testBackend();
  const config = loadPipelineConfig(writeTinyConfig(workspace, { pretrain: { steps } }));
  const runDir = path.join(workspace, 'runs', 'tiny');
  await runPipeline({ config, runDir, reporter: silentReporter }, ['pretrain']);
  return path.join(runDir, 'pretrain', 'checkpoint');
}

/** The model id the daemon's API gives the checkpoint `trainTinyCheckpoint` writes. */
export const TINY_MODEL_ID = 'tiny/pretrain';

/**
 * Runs `pretrain` of `configFile` into `runDir` and stops it (as a cancel would) after `stopAt`
 * steps, leaving an unfinished checkpoint at that step that a later run resumes from.
 */
export async function trainPartialCheckpoint(configFile: string, runDir: string, stopAt: number): Promise<string> {
  await testBackend();
  const config = loadPipelineConfig(configFile);
  const stop = new AbortController();
  const reporter = {
    ...silentReporter,
    progress: (step: number) => {
      if (step >= stopAt) stop.abort();
    },
  };
  await runPipeline({ config, runDir, reporter, signal: stop.signal }, ['pretrain']);
  return path.join(runDir, 'pretrain', 'checkpoint');
}
