#!/usr/bin/env node
// Runs the compiled tests with Node's test runner: unit tests in parallel,
// then interop tests one file at a time (they start real FRR/GoBGP daemons).
// Usage: node scripts/run-tests.mjs [dir ...]   (default: dist/test dist/interop)
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.js') ? [p] : [];
  });
}

const dirs = process.argv.slice(2);
const groups = dirs.length > 0
  ? [{ files: dirs.flatMap(testFiles), concurrency: 2 }]
  : [
      { files: testFiles('dist/test'), concurrency: 2 },
      { files: testFiles('dist/interop'), concurrency: 1 },
    ];

const files = groups.flatMap((g) => g.files);
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
// One runner invocation so the closing summary counts every test.
const concurrency = groups.every((g) => g.concurrency > 1 || g.files.length === 0) ? 2 : 1;
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
