import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { loadPipelineConfig } from '../../server/src/config/pipelineConfig';

const ROOT = path.join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const schema = require('../../schemas/r1.config.schema.json');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const samples = require('../../samples/r1.config.json');

test('the shipped config validates against the editor schema, and the schema catches a typo', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  assert.ok(validate(samples), JSON.stringify(validate.errors));
  const typo = structuredClone(samples) as { stages: Record<string, Record<string, unknown>> };
  typo.stages['reasoning-rl'].tempreature = 0.7;
  assert.equal(validate(typo), false);
});

test('every preset of the shipped config loads', () => {
  for (const preset of [undefined, ...Object.keys(samples.presets)]) {
    const c = loadPipelineConfig(path.join(ROOT, 'samples', 'r1.config.json'), preset);
    assert.ok(c.stages.pretrain && c.stages['reasoning-rl']);
  }
});
