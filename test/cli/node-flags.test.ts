import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../interop/harness/tools.js';
import { VMMID_NODE_FLAGS } from '../../src/cli/node-flags.js';

test('npm start and the vmmid bin run node with the flags the benches measure', () => {
  const root = repoRoot();
  const pkg: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.ok(typeof pkg === 'object' && pkg !== null && 'scripts' in pkg && 'bin' in pkg);
  const scripts = pkg.scripts as Record<string, string>;
  const bin = pkg.bin as Record<string, string>;
  assert.equal(scripts.start, ['node', ...VMMID_NODE_FLAGS, bin.vmmid].join(' '));
  const firstLine = readFileSync(join(root, bin.vmmid!), 'utf8').split('\n', 1)[0];
  assert.equal(firstLine, ['#!/usr/bin/env -S node', ...VMMID_NODE_FLAGS].join(' '));
});

test('under those flags V8 keeps the young generation at 2 x 4 MiB however much is allocated', () => {
  const churn = `
    const v8 = require('node:v8');
    let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 2e5) keep = []; }
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    process.stdout.write(String(s.space_size));`;
  const run = (flags: readonly string[]): number => {
    const r = spawnSync(process.execPath, [...flags, '-e', churn], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  const mib = 1024 * 1024;
  assert.ok(run(VMMID_NODE_FLAGS) <= 8 * mib, 'new space within two 4 MiB semi-spaces');
  // Without them the same churn grows it past that, which is what the flag is for.
  assert.ok(run([]) > 8 * mib, 'new space grows past 8 MiB by default');
});
