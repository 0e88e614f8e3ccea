// The end-of-pipeline summary table: the figures of the recipe's later stages read as phrases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summaryTable } from '../../server/src/cli/reporter';

test('the summary table shows the acceptance rate and the reward model pair accuracy', () => {
  const table = summaryTable([
    {
      stage: 'rejection-sampling',
      wall_seconds: 3,
      steps: 2,
      figures: { acceptance_rate: 0.1875, kept: 12, sampled: 64 },
    },
    {
      stage: 'reward-model',
      wall_seconds: 9,
      steps: 10,
      figures: { pair_accuracy: 0.75, start_pair_accuracy: 0.5, held_out_pairs: 44 },
    },
  ]);
  assert.match(table, /rejection-sampling .* accepted 18\.8% \(12\/64\)/);
  assert.match(table, /reward-model .* pair accuracy 0\.750 \(start 0\.500\) held_out_pairs=44/);
});
