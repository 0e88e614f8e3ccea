// Command ids, declared once; package.json's `contributes.commands` lists the same ids. The
// ones the daemon's code lenses invoke come from the shared protocol module.
import { LensCommands } from '../../server/src/protocol/messages';

export const Commands = {
  ...LensCommands,
  runStage: 'r1.runStage',
  runPipeline: 'r1.runPipeline',
  stop: 'r1.stop',
  showDashboard: 'r1.showDashboard',
  showRewards: 'r1.showRewards',
  reviewTraces: 'r1.reviewTraces',
  editTrace: 'r1.editTrace',
  tryModel: 'r1.tryModel',
  newDataset: 'r1.newDataset',
  openRun: 'r1.openRun',
  restartDaemon: 'r1.restartDaemon',
  showLogs: 'r1.showLogs',
  copySamples: 'r1.copySamples',
  filterTraces: 'r1.filterTraces',
  refreshTraces: 'r1.refreshTraces',
  revealTrace: 'r1.revealTrace',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];
