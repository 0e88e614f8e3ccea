// `r1`: the command-line face of the core (spec §2). Exit codes: 0 ok, 1 bad input or usage
// (message only, naming file/line/field), 2 internal error.
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES } from '../backend/backend';
import { fileSystemProblem, isUserError } from '../util/errors';
import { daemonCommand } from './commands/daemon';
import { evalCommand } from './commands/eval';
import { generateCommand } from './commands/generate';
import { pipelineCommand, runCommand } from './commands/pipeline';
import { presetsCommand } from './commands/presets';
import { validateCommand } from './commands/validate';

const program = new Command('r1')
  .description('R1 Workbench: DeepSeek-R1-style reasoning training on a small local model')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

const backendOption = () => new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES as string[]);

program
  .command('pipeline')
  .description('run the stages in order, each from the previous checkpoint')
  .option('--config <file>', 'pipeline config', 'samples/r1.config.json')
  .option('--stages <list>', 'comma-separated stage ids (default: every configured stage)')
  .option('--out <dir>', 'run folder', 'runs/default')
  .option('--preset <name>', 'named override from the config\'s "presets"')
  .option('--from <dir>', 'checkpoint the first stage starts from')
  .addOption(backendOption())
  .addOption(
    new Option('--control <kind>', 'after reasoning-rl, spend the same time on SFT from the same start').choices([
      'sft',
    ]),
  )
  .action(pipelineCommand);

program
  .command('run')
  .description('run one stage')
  .argument('<stage>', 'stage id')
  .option('--config <file>', 'pipeline config', 'samples/r1.config.json')
  .option('--from <dir>', 'checkpoint to start from (default: the previous stage in --out)')
  .option('--out <dir>', 'run folder', 'runs/default')
  .option('--preset <name>', 'named override from the config\'s "presets"')
  .option('--resume', "continue from the stage's last checkpoint (the default when one exists)")
  .addOption(backendOption())
  .addOption(
    new Option('--control <kind>', 'after reasoning-rl, spend the same time on SFT from the same start').choices([
      'sft',
    ]),
  )
  .action(runCommand);

program
  .command('eval')
  .description('evaluate a checkpoint on prompts with answers')
  .requiredOption('--checkpoint <dir>', 'checkpoint folder')
  .requiredOption('--data <file>', 'RL/eval JSONL (prompt + answer, or GSM8K style)')
  .option('--samples <k>', 'completions per prompt (k > 1 samples at --temperature)', '1')
  .option('--temperature <t>', 'sampling temperature when --samples > 1', '0.7')
  .option('--max-tokens <n>', 'longest completion', '80')
  .option('--batch-size <n>', 'prompts per batch', '100')
  .option('--json', 'print one JSON object as the last line')
  .addOption(backendOption())
  .action(evalCommand);

program
  .command('generate')
  .description('stream a completion from a checkpoint')
  .requiredOption('--checkpoint <dir>', 'checkpoint folder')
  .requiredOption('--prompt <text>', 'prompt text')
  .option('--max-tokens <n>', 'longest completion', '80')
  .option('--temperature <t>', '0 = greedy', '0')
  .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', '0')
  .option('--top-p <p>', 'nucleus sampling threshold', '1')
  .option('--seed <n>', 'sampling seed', '0')
  .addOption(backendOption())
  .action(generateCommand);

program
  .command('validate')
  .description('check a dataset; prints file:line:col: error|warning: message')
  .argument('<file>', 'JSONL dataset')
  .addOption(
    new Option('--kind <kind>', 'dataset kind (inferred when omitted)').choices(['sft', 'rl', 'preference', 'review']),
  )
  .option('--json', 'print the diagnostics as one JSON object')
  .action(validateCommand);

program
  .command('presets')
  .description('list the model presets with total and per-token active parameters')
  .option('--json', 'print them as one JSON array')
  .action(presetsCommand);

program
  .command('daemon')
  .description('run the daemon: LSP (--stdio), WebSocket stream and OpenAI-compatible API on 127.0.0.1')
  .option('--checkpoint <dir>', 'checkpoint served by the HTTP API and used by generate')
  .option('--workspace <dir>', 'workspace folder (runs/, .r1/daemon.json token file, .r1/daemon.log)')
  .option('--stdio', 'speak LSP on stdin/stdout (how the VS Code extension starts it)')
  .addOption(backendOption())
  // vscode-languageclient appends this to the server's arguments; vscode-languageserver reads it.
  .addOption(new Option('--clientProcessId <pid>', 'editor process id').hideHelp())
  .action(daemonCommand);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 1;
      return;
    }
    if (isUserError(err)) {
      process.stderr.write(`r1: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    const fsProblem = fileSystemProblem(err);
    if (fsProblem) {
      process.stderr.write(`r1: ${fsProblem}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`r1: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  }
}

void main();
