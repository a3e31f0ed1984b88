/**
 * Replays every scenario file in test/vm/scenarios/ (issue #5: replayable
 * scenario files, events in, expected RIB and UPDATEs out). The files are
 * read from the source tree, so the compiled test under dist/ finds them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { type Scenario, ScenarioError, runScenario } from './scenario-runner.js';

/** dist/test/vm/ → test/vm/scenarios/ (and, when run with a TS loader, test/vm/ → test/vm/scenarios/). */
function scenarioDir(): URL {
  const fromDist = new URL('../../../test/vm/scenarios/', import.meta.url);
  return fileURLToPath(import.meta.url).includes('/dist/') ? fromDist : new URL('./scenarios/', import.meta.url);
}

const dir = scenarioDir();
const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();

function load(name: string): Scenario {
  const text = readFileSync(new URL(name, dir), 'utf8');
  return (name.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Scenario;
}

test('the scenario folder is not empty', () => {
  assert.ok(files.length > 0, `no scenario files in ${fileURLToPath(dir)}`);
});

for (const name of files) {
  const sc = load(name);
  test(`${name}: ${sc.description}`, sc.todo !== undefined ? { todo: sc.todo } : {}, async () => {
    await runScenario(name, sc);
  });
}

test('a wrong expectation fails, naming the file and the step and showing expected vs actual', async () => {
  const sc = load('move-and-back.json');
  const i = sc.steps.findIndex((s) => Array.isArray(s.rib));
  assert.ok(i >= 0);
  const broken: Scenario = { ...sc, steps: sc.steps.map((s, j) => (j === i ? { ...s, rib: ['2 10.9.9.9:10100 52:54:00:aa:bb:01 nh=10.9.9.9 mm=9'] } : s)) };
  await assert.rejects(runScenario('move-and-back.json', broken), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.match(e.message, new RegExp(`^move-and-back\\.json: step ${i}: rib differs`));
    assert.match(e.message, /expected: \[\n {4}2 10\.9\.9\.9:10100/);
    assert.match(e.message, /actual: {3}\[/);
    return true;
  });
  const typo: Scenario = { ...sc, steps: [{ do: 'announce', vm: 'vm-1', mac: '52:54:00:aa:bb:01', vtep: '10.0.0.21', expext: {} }] };
  await assert.rejects(runScenario('typo.json', typo), /typo\.json: step 0 \(announce\): unknown key "expext"/);
});
