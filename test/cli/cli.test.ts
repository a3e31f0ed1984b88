import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../src/cli/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vmmi-cli-'));
const good = join(dir, 'good.yaml');
const bad = join(dir, 'bad.yaml');
writeFileSync(good, 'router-id: 192.0.2.1\nasn: 65000\nneighbors:\n  - { address: 192.0.2.2, remote-as: 65001 }\n');
writeFileSync(bad, 'router-id: 192.0.2.1\nasn: 65000\nneighbors:\n  - { address: 192.0.2.2, remote-as: 65001, hold-time: 2 }\n');

function run(bin: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(dist, bin), ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('vmmictl config check summarises a good file', () => {
  const r = run('vmmictl.js', ['config', 'check', good]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `${good}: OK: AS 65000, router-id 192.0.2.1, 1 neighbor(s), 0 originated route(s)\n`);
});

test('vmmictl config check and vmmid reject a bad file with file:line:col, field and what was expected', () => {
  const want = `${bad}:4:56: neighbors[0].hold-time: expected a hold time of 0 or 3..65535 seconds, got 2`;
  const c = run('vmmictl.js', ['config', 'check', bad]);
  assert.equal(c.code, 2);
  assert.ok(c.err.startsWith(want), c.err);
  const d = run('vmmid.js', ['--config', bad]);
  assert.equal(d.code, 2);
  assert.match(d.err, /^vmmid: invalid configuration\n/);
  assert.ok(d.err.includes(want), d.err);
});

test('vmmid rejects an unknown log level', () => {
  const r = run('vmmid.js', ['--config', good, '--log-level', 'loud']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--log-level must be error, warn, info or debug, got "loud"/);
});
