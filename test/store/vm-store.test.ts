import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Log, LogFields } from '../../src/core/log.js';
import { JOURNAL_FILE, MemoryVmStore, type VmRecord, type VmStore, openJournalStore } from '../../src/store/vm-store.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vmmi-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function vm(i: number, over: Partial<VmRecord> = {}): VmRecord {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return {
    vmId: `vm-${i}`,
    network: i % 2 === 0 ? 'blue' : 'red',
    mac: `52:54:00:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`,
    ips: [`10.0.${(i >> 8) & 255}.${i & 255}`, '2001:db8::1'],
    vtep: '192.0.2.1',
    seq: i,
    agent: 'hv-1',
    since: 1_700_000_000_000 + i,
    ...over,
  };
}

/** A Log that keeps its warnings. */
function recordingLog(): Log & { warnings: { msg: string; fields: LogFields | undefined }[] } {
  const warnings: { msg: string; fields: LogFields | undefined }[] = [];
  const log = {
    warnings,
    error: () => {},
    warn: (msg: string, fields?: LogFields) => void warnings.push({ msg, fields }),
    info: () => {},
    debug: () => {},
    child: () => log,
  };
  return log;
}

const journal = (dir: string): string => join(dir, JOURNAL_FILE);
const lineCount = async (dir: string): Promise<number> => (await readFile(journal(dir), 'utf8')).split('\n').length - 1;

test('put/remove/load round trip across a reopen, in last-written order', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(join(dir, 'nested', 'store'));
  assert.deepEqual(await s.load(), []);
  await s.put(vm(1));
  await s.put(vm(2));
  await s.put(vm(3));
  await s.put(vm(1, { seq: 7, vtep: '192.0.2.9' })); // last write wins, and moves to the end
  await s.remove('blue', vm(2).mac);
  await s.remove('blue', '52:54:00:ff:ff:ff'); // absent: harmless
  await s.close();

  const again = await openJournalStore(join(dir, 'nested', 'store'));
  assert.deepEqual(await again.load(), [vm(3), vm(1, { seq: 7, vtep: '192.0.2.9' })]);
  await again.close();
});

test('the key is (network, mac): the same MAC in two networks is two records', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await s.put(vm(1, { network: 'blue' }));
  await s.put(vm(1, { network: 'red' }));
  await s.remove('blue', vm(1).mac);
  await s.close();
  const again = await openJournalStore(dir);
  assert.deepEqual(await again.load(), [vm(1, { network: 'red' })]);
  await again.close();
});

test('records are checked before they are written', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await assert.rejects(s.put(vm(1, { mac: '52:54:00:AA:BB:01' })), /mac must be lower-case colon form/);
  await assert.rejects(s.put(vm(1, { seq: 2 ** 32 })), /seq must be an integer/);
  await assert.rejects(s.put(vm(1, { ips: ['10.0.0.300'] })), /ips must be/);
  await assert.rejects(s.remove('', vm(1).mac), /network must be a non-empty string/);
  // Extra properties (e.g. a caller's wider object) are not stored.
  const wider = { ...vm(1), extra: 'x' };
  await s.put(wider);
  await s.close();
  assert.equal(await lineCount(dir), 1);
  const again = await openJournalStore(dir);
  assert.deepEqual(await again.load(), [vm(1)]);
  await again.close();
});

test('group commit: 64 calls in one tick cost one write and one fdatasync', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await Promise.all(Array.from({ length: 64 }, (_, i) => s.put(vm(i))));
  assert.deepEqual({ ...s.stats(), compactions: 0 }, { ops: 64, writes: 1, syncs: 1, lines: 64, live: 64, compactions: 0 });
  await s.close();
});

test('group commit: calls made while a sync is in flight share the next one', async (t) => {
  const dir = await tempDir(t);
  let release: () => void = () => {};
  let held = 0;
  const gate = new Promise<void>((r) => (release = r));
  const s = await openJournalStore(dir, undefined, {
    beforeSync: () => (held++ === 0 ? gate : Promise.resolve()),
  });
  const first = s.put(vm(0));
  while (s.stats().writes === 0) await new Promise((r) => setImmediate(r));
  // The first batch is written and waiting on its sync; these must all wait for the next one.
  const rest = Array.from({ length: 63 }, (_, i) => s.put(vm(i + 1)));
  let firstDone = false;
  void first.then(() => (firstDone = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(firstDone, false, 'put resolved before its fdatasync');
  release();
  await Promise.all([first, ...rest]);
  const st = s.stats();
  assert.equal(st.ops, 64);
  assert.equal(st.writes, 2);
  assert.equal(st.syncs, 2);
  await s.close();
});

test('a torn last line (no newline) is ignored, truncated away and reported', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await s.put(vm(1));
  await s.put(vm(2));
  await s.close();
  const good = await readFile(journal(dir));
  await writeFile(journal(dir), Buffer.concat([good, Buffer.from('{"op":"put","vmId":"vm-3","netw')]));

  const log = recordingLog();
  const again = await openJournalStore(dir, log);
  assert.deepEqual(await again.load(), [vm(1), vm(2)]);
  assert.deepEqual(await readFile(journal(dir)), good);
  assert.equal(log.warnings.length, 1);
  assert.match(log.warnings[0]!.msg, /torn last line/);
  assert.equal(log.warnings[0]!.fields?.['line'], 3);
  // Appends after the truncation land on a clean line boundary.
  await again.put(vm(3));
  await again.close();
  const third = await openJournalStore(dir);
  assert.deepEqual(await third.load(), [vm(1), vm(2), vm(3)]);
  await third.close();
});

test('a last line that is not JSON is a torn write too', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await s.put(vm(1));
  await s.close();
  const good = await readFile(journal(dir));
  await writeFile(journal(dir), Buffer.concat([good, Buffer.from('{"op":"put","vm\n\0\0\0')]));
  const log = recordingLog();
  const again = await openJournalStore(dir, log);
  assert.deepEqual(await again.load(), [vm(1)]);
  assert.deepEqual(await readFile(journal(dir)), good);
  assert.equal(log.warnings.length, 1);
  await again.close();
});

test('a bad line before the end is an error naming file and line, and the file is left alone', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await s.put(vm(1));
  await s.put(vm(2));
  await s.put(vm(3));
  await s.close();
  const lines = (await readFile(journal(dir), 'utf8')).split('\n');
  lines[1] = lines[1]!.slice(0, 20);
  const damaged = lines.join('\n');
  await writeFile(journal(dir), damaged);
  await assert.rejects(openJournalStore(dir), (e: Error) => {
    assert.ok(e.message.startsWith(`${journal(dir)}:2: not JSON`), e.message);
    return true;
  });
  assert.equal(await readFile(journal(dir), 'utf8'), damaged);
});

test('a well-formed line with a bad field is an error, even at the end', async (t) => {
  const dir = await tempDir(t);
  const bad = JSON.stringify({ op: 'put', ...vm(2), seq: -1 });
  await writeFile(journal(dir), `${JSON.stringify({ op: 'put', ...vm(1) })}\n${bad}\n`);
  await assert.rejects(openJournalStore(dir), new RegExp(`${JOURNAL_FILE}:2: seq must be an integer`));
  await writeFile(journal(dir), `${JSON.stringify({ op: 'move', ...vm(1) })}\n`);
  await assert.rejects(openJournalStore(dir), new RegExp(`${JOURNAL_FILE}:1: op is "move"`));
  await writeFile(journal(dir), `${JSON.stringify({ op: 'del', network: 'blue' })}\n`);
  await assert.rejects(openJournalStore(dir), new RegExp(`${JOURNAL_FILE}:1: mac must be`));
});

test('compaction at open shrinks the file and keeps the live set in order', async (t) => {
  const dir = await tempDir(t);
  // Written with compaction off, as a run that never hit the threshold could leave it.
  const s = await openJournalStore(dir, undefined, { compactSlack: Infinity });
  for (let round = 0; round < 120; round++) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.put(vm(i, { seq: round }))));
  }
  await s.remove('blue', vm(4).mac);
  await s.put(vm(0, { seq: 999 }));
  await s.close();
  const expected = [1, 2, 3, 5, 6, 7, 8, 9].map((i) => vm(i, { seq: 119 })).concat(vm(0, { seq: 999 }));
  assert.equal(await lineCount(dir), 1202);
  const before = (await stat(journal(dir))).size;

  const again = await openJournalStore(dir);
  assert.equal(again.stats().compactions, 1);
  assert.equal(await lineCount(dir), 9);
  assert.ok((await stat(journal(dir))).size < before / 100);
  assert.deepEqual(await again.load(), expected);
  await again.put(vm(4));
  await again.close();

  const third = await openJournalStore(dir);
  assert.equal(third.stats().compactions, 0);
  assert.deepEqual(await third.load(), [...expected, vm(4)]);
  await third.close();
});

test('a small journal is not compacted', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  for (let i = 0; i < 50; i++) await s.put(vm(1, { seq: i }));
  await s.close();
  const again = await openJournalStore(dir);
  assert.equal(again.stats().compactions, 0);
  assert.equal(again.stats().lines, 50);
  await again.close();
});

test('a running store compacts once dead lines pile up, and keeps taking writes', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir, undefined, { compactSlack: 20 });
  for (let i = 0; i < 200; i++) await s.put(vm(i % 3, { seq: i }));
  assert.ok(s.stats().compactions >= 5, JSON.stringify(s.stats()));
  assert.ok((await lineCount(dir)) <= 2 * 3 + 20 + 1);
  await s.close();
  const again = await openJournalStore(dir);
  assert.deepEqual(await again.load(), [vm(0, { seq: 198 }), vm(1, { seq: 199 }), vm(2, { seq: 197 })].sort((a, b) => a.seq - b.seq));
  await again.close();
});

test('a compaction cut short before its rename leaves a temp file that is discarded', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  await s.put(vm(1));
  await s.close();
  await writeFile(`${journal(dir)}.tmp`, '{"op":"put","half');
  const again = await openJournalStore(dir);
  assert.deepEqual(await again.load(), [vm(1)]);
  await assert.rejects(stat(`${journal(dir)}.tmp`), { code: 'ENOENT' });
  await again.close();
});

test('close waits for queued writes; writes after close reject', async (t) => {
  const dir = await tempDir(t);
  const s = await openJournalStore(dir);
  const pending = s.put(vm(1));
  await s.close();
  await pending;
  await s.close(); // twice is fine
  await assert.rejects(s.put(vm(2)), /vm store .*vms\.journal is closed; the write was not made/);
  await assert.rejects(s.remove('blue', vm(1).mac), /is closed/);
  const again = await openJournalStore(dir);
  assert.deepEqual(await again.load(), [vm(1)]);
  await again.close();
});

test('a failed sync fails the batch and every write after it, with a message saying to restart', async (t) => {
  const dir = await tempDir(t);
  let fail = false;
  const s = await openJournalStore(dir, undefined, {
    beforeSync: async () => {
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    },
  });
  await s.put(vm(1));
  fail = true;
  await assert.rejects(s.put(vm(2)), /vms\.journal: write failed \(EIO: i\/o error, fdatasync\).*restart vmmid/);
  fail = false;
  // The disk may or may not hold the failed batch; this process cannot know, so it takes nothing more.
  await assert.rejects(s.remove('blue', vm(1).mac), /write failed/);
  assert.equal(s.stats().ops, 1);
  await s.close();
});

test('MemoryVmStore: same contract, nothing on disk', async () => {
  const s: VmStore = new MemoryVmStore();
  await s.put(vm(1));
  await s.put(vm(2));
  await s.put(vm(1, { seq: 5 }));
  await s.remove('blue', vm(2).mac);
  await s.put(vm(3));
  assert.deepEqual(await s.load(), [vm(1, { seq: 5 }), vm(3)]);
  await assert.rejects(s.put(vm(1, { mac: 'nope' })), /mac must be/);
  await s.close();
  await assert.rejects(s.put(vm(4)), /closed/);
});

// The child puts (and now and then removes) VMs one after another and prints
// each acknowledged operation; the parent SIGKILLs it mid-stream.
const CHILD = `
const { openJournalStore } = await import(process.argv[1]);
const dir = process.argv[2];
const s = await openJournalStore(dir);
const hex = (n) => n.toString(16).padStart(2, '0');
const vm = (i) => ({ vmId: 'vm-' + i, network: i % 2 === 0 ? 'blue' : 'red',
  mac: '52:54:00:' + hex((i >> 16) & 255) + ':' + hex((i >> 8) & 255) + ':' + hex(i & 255),
  ips: ['10.0.' + ((i >> 8) & 255) + '.' + (i & 255), '2001:db8::1'], vtep: '192.0.2.1', seq: i, agent: 'hv-1', since: 1700000000000 + i });
for (let i = 0; ; i++) {
  await s.put(vm(i));
  process.stdout.write('put ' + i + '\\n');
  if (i % 10 === 9) {
    await s.remove(vm(i - 5).network, vm(i - 5).mac);
    process.stdout.write('del ' + (i - 5) + '\\n');
  }
}
`;

test('kill -9 loses no acknowledged write', async (t) => {
  const dir = await tempDir(t);
  const module = fileURLToPath(new URL('../../src/store/vm-store.js', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, module, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGKILL')); // harmless once it has exited
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.split('\n').filter((l) => l.startsWith('put ')).length >= 200) child.kill('SIGKILL');
  });
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `child ended without being killed: ${err}`);

  // The child's operations are deterministic: those it acknowledged are a prefix of this list.
  const acked = out.split('\n').filter((l) => /^(put|del) \d+$/.test(l));
  const ops: string[] = [];
  for (let i = 0; ops.length <= acked.length; i++) {
    ops.push(`put ${i}`);
    if (i % 10 === 9) ops.push(`del ${i - 5}`);
  }
  assert.deepEqual(acked, ops.slice(0, acked.length));
  assert.ok(acked.filter((l) => l.startsWith('put')).length >= 200);
  const stateAfter = (n: number): VmRecord[] => {
    const live = new Map<number, VmRecord>();
    for (const l of ops.slice(0, n)) {
      const [op, i] = l.split(' ');
      if (op === 'put') live.set(Number(i), vm(Number(i)));
      else live.delete(Number(i));
    }
    return [...live.values()];
  };

  const s = await openJournalStore(dir);
  const stored = await s.load();
  await s.close();
  // Every acknowledged operation is there; the one in flight at the kill may or may not be.
  const sorted = (rs: VmRecord[]): VmRecord[] => [...rs].sort((a, b) => a.seq - b.seq);
  const candidates = [stateAfter(acked.length), stateAfter(acked.length + 1)].map(sorted);
  const [acknowledged, withNext] = candidates;
  if (JSON.stringify(sorted(stored)) !== JSON.stringify(withNext)) {
    assert.deepEqual(sorted(stored), acknowledged, `not the state after op ${acked.length} (${acked.at(-1)}), nor the one after it`);
  }
});
