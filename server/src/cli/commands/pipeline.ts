import * as path from 'node:path';
import { BackendName, initBackend } from '../../backend/backend';
import { loadPipelineConfig, PipelineConfig, StageId } from '../../config/pipelineConfig';
import { StageContext } from '../../stages/context';
import { configuredStages, parseStageList, runPipeline } from '../../stages/pipeline';
import { UserError } from '../../util/errors';
import { summaryTable, TerminalReporter } from '../reporter';

interface RunOptions {
  config: string;
  out: string;
  preset?: string;
  from?: string;
  backend?: BackendName;
  control?: 'sft';
}

async function prepare(opts: RunOptions): Promise<StageContext> {
  const config: PipelineConfig = loadPipelineConfig(opts.config, opts.preset);
  if (opts.backend) config.backend = opts.backend;
  const reporter = new TerminalReporter();
  const backend = await initBackend(config.backend, (m) => reporter.log(m));
  reporter.log(`backend: ${backend}; run folder: ${path.resolve(opts.out)}`);
  const controller = new AbortController();
  // First Ctrl-C checkpoints and stops cleanly; a second one exits at once.
  process.once('SIGINT', () => {
    reporter.log('stopping after this step (Ctrl-C again to abort without saving)');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return {
    config,
    runDir: path.resolve(opts.out),
    from: opts.from ? path.resolve(opts.from) : undefined,
    reporter,
    signal: controller.signal,
    control: opts.control,
  };
}

export async function pipelineCommand(opts: RunOptions & { stages?: string }): Promise<void> {
  const ctx = await prepare(opts);
  const stages: StageId[] = opts.stages ? parseStageList(opts.stages) : configuredStages(ctx);
  if (!stages.length) throw new UserError(`${opts.config}: no runnable stages configured`);
  const summaries = await runPipeline(ctx, stages);
  process.stdout.write(`\n${summaryTable(summaries)}\n`);
}

export async function runCommand(stage: string, opts: RunOptions & { resume?: boolean }): Promise<void> {
  const ctx = await prepare(opts);
  const summaries = await runPipeline(ctx, parseStageList(stage));
  process.stdout.write(`\n${summaryTable(summaries)}\n`);
}
