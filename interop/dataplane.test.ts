/**
 * Data-plane lab (issue 5, "Must show"): vmmi is the control plane of real VM
 * moves over VXLAN. The topology is in support/dataplane-lab.ts:
 *
 *   user ── pe (FRR zebra+bgpd, br100+vxlan100, VTEP 10.99.0.1) ══ iBGP EVPN ══ vmmid (root ns)
 *                │ underlay bridge in `ul`, 10.99.0.0/24                 ▲ gRPC (loopback)
 *            h1 (VTEP .21) ─ h2 (VTEP .22)                              test = hypervisor agent
 *             └── vm (52:54:00:00:01:01, 10.1.1.10) moves between them
 *
 * Each test builds its own lab (about 1.5 s): 51 moves back and forth; a
 * migration committed and then aborted; the VM re-learned by the FRR PE
 * itself; a duplicate-detection storm, frozen and then cleared. A 10 ms ping
 * from `user` to the VM counts what each step loses; the VM never announces
 * itself (no gratuitous ARP) unless a step says so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { isServiceError, unaryCall } from '../src/api/client.js';
import type { AbortMigrationResponse__Output } from '../gen/proto/vmmi/v1/AbortMigrationResponse.js';
import type { ClearDuplicateResponse__Output } from '../gen/proto/vmmi/v1/ClearDuplicateResponse.js';
import type { CommitMigrationResponse__Output } from '../gen/proto/vmmi/v1/CommitMigrationResponse.js';
import type { PrepareMigrationResponse__Output } from '../gen/proto/vmmi/v1/PrepareMigrationResponse.js';
import type { WithdrawVmResponse__Output } from '../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import { run, waitFor } from './harness/index.js';
import { fdbDestinations, fdbShow } from './harness/netns.js';
import {
  type DataplaneLab,
  H_VTEP,
  type Hv,
  NETWORK,
  PE_VTEP,
  USER_IP,
  VM_MAC,
  VNI,
  startDataplaneLab,
} from './support/dataplane-lab.js';
import { type FrrEvpnRoute, frrMacMobilitySeq, frrNextHop } from './support/peers.js';

const MOVES = 50;
/**
 * Pings (at `ping -i 0.01`, ~16 ms apart in practice) one move may lose.
 * The agent announces at switch-over, while the VM switches ports (its port
 * towards the new hypervisor up, then the old one down: ~4-6 ms, the VM is
 * never without a link). The PE's FDB then points at the new VTEP ~17-21 ms
 * after the switch-over starts (median; API call ~5-8 ms, vmmi's UPDATE, FRR
 * bgpd → zebra → kernel FDB): the echo requests sent to the old VTEP
 * meanwhile are what a move loses, measured 0-1 per move, median 0 or 1
 * (the issue's target: at most 1). The maximum leaves room for a loaded
 * machine; a control plane that stops following fails the FDB waits instead.
 */
const MAX_LOST_PER_MOVE = 4;
const MAX_MEDIAN_LOST = 1;
/** Duplicate detection out of reach for tests that move the VM often (51 moves within seconds are a duplicate MAC by RFC 7432 §15.1's defaults). */
const NO_DUPLICATES = '{ max-moves: 1000, window: 1 }';

const rdOf = (vtep: string): string => `${vtep}:${VNI}`;
const grpcCode = (e: unknown): number | undefined => (isServiceError(e) ? e.code : undefined);

/** Every route is from `vtep` (RD VTEP:VNI, next hop) with MAC Mobility `seq`; both the MAC and the MAC+IP route. */
function assertRoutesAt(routes: FrrEvpnRoute[], vtep: string, seq: number, what: string): void {
  assert.deepEqual(routes.map((r) => r.rd), [rdOf(vtep), rdOf(vtep)], `${what}: FRR has the VM's MAC and MAC+IP routes at ${vtep} only`);
  for (const r of routes) {
    assert.equal(frrNextHop(r.paths[0]!), vtep, `${what}: next hop`);
    assert.equal(frrMacMobilitySeq(r.paths[0]!), seq, `${what}: MAC Mobility sequence number`);
  }
}

/** Until FRR has the VM's routes at `vtep` only, with `seq`. */
function waitRoutesAt(lab: DataplaneLab, vtep: string, seq: number, what: string): Promise<FrrEvpnRoute[]> {
  return waitFor(() => lab.vmRoutes(), {
    what: `${what}: FRR has the VM at ${vtep} only, MM:${seq}`,
    until: (rs) => rs.length === 2 && rs.every((r) => r.rd === rdOf(vtep) && frrMacMobilitySeq(r.paths[0]!) === seq),
  });
}

test('vmmi steers a real VXLAN data plane through VM moves: FRR PE FDB follows each AnnounceVm, ping loss per move is bounded', async (t) => {
  const lab = await startDataplaneLab(t, { duplicateDetection: NO_DUPLICATES });
  if (lab === undefined) return;
  const t0 = Date.now();
  assert.deepEqual(await lab.peFdb(), { vm: [], flood: [], externLearn: false }, 'nothing is known before the agent speaks');

  // The agent announces the VM at h1.
  const first = await lab.announce(H_VTEP.h1);
  assert.equal(first.sequence, 0);
  await lab.waitPeAt(H_VTEP.h1, 'PE FDB: VM MAC → 10.99.0.21 (extern_learn) and flood list [10.99.0.21]');

  // Traffic: a 10 ms ping from the user to the VM.
  const log = lab.startPing();
  await waitFor(() => log.seqs.size >= 20, { what: 'ping replies from the VM at h1', timeoutMs: 10_000, intervalMs: 20 });

  /**
   * One move, as a hypervisor does it at switch-over: the VM's port towards
   * the other bridge comes up and the old one goes down while the agent calls AnnounceVm (a live
   * migration's agent knows the moment the VM resumes at the new place).
   * Replies need nothing: the new hypervisor floods them to the PE, which
   * knows the user's MAC.
   */
  const move = async (n: number): Promise<{ lost: number; portMs: number; apiMs: number; fdbMs: number; seq: number }> => {
    const from = lab.portAt() as Hv;
    const to: Hv = from === 'h1' ? 'h2' : 'h1';
    let portMs = 0;
    let apiMs = 0;
    let fdbMs = 0;
    let seq = -1;
    const lost = await lab.lossOf(log, `move ${n}`, async () => {
      const tMove = Date.now();
      const [port, res] = await Promise.all([lab.movePort(to), lab.announce(H_VTEP[to]).finally(() => (apiMs = Date.now() - tMove))]);
      portMs = port;
      assert.equal(res.sequence, n, `move ${n}: sequence number`);
      assert.equal(res.previousVtep, H_VTEP[from], `move ${n}: previous VTEP`);
      assert.equal(res.changed, true);
      await lab.waitPeAt(H_VTEP[to], `move ${n}: PE FDB: VM MAC and flood list → ${H_VTEP[to]}`);
      fdbMs = Date.now() - tMove;
      seq = res.sequence;
    });
    return { lost, portMs, apiMs, fdbMs, seq };
  };

  // The first move, with FRR's EVPN table checked in full.
  const m1 = await move(1);
  assertRoutesAt(await waitRoutesAt(lab, H_VTEP.h2, 1, 'move 1'), H_VTEP.h2, 1, 'move 1');
  t.diagnostic(`move 1: ${m1.lost} ping(s) lost (ping -i 0.01), PE FDB at the new VTEP ${m1.fdbMs} ms after the port moved`);

  // 50 moves back and forth.
  const results = [m1];
  for (let i = 2; i <= MOVES + 1; i++) results.push(await move(i));
  const { transmitted, received, intervalMs } = await lab.stopPing();

  const lost = results.map((r) => r.lost);
  const hist = new Map<number, number>();
  for (const l of lost) hist.set(l, (hist.get(l) ?? 0) + 1);
  const sorted = [...lost].sort((a, b) => a - b);
  const median = (k: 'portMs' | 'apiMs' | 'fdbMs'): number => results.map((r) => r[k]).sort((a, b) => a - b)[results.length >> 1]!;
  const fdb = results.map((r) => r.fdbMs).sort((a, b) => a - b);
  t.diagnostic(`${results.length} moves, pings lost per move: ${lost.join(' ')}`);
  t.diagnostic(
    `loss distribution: ${[...hist.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k} lost × ${v}`).join(', ')}; ` +
      `median ${sorted[sorted.length >> 1]}, max ${sorted[sorted.length - 1]}`,
  );
  t.diagnostic(
    `after the switch-over starts: port up in the new bridge ${median('portMs')} ms, AnnounceVm answered ${median('apiMs')} ms, ` +
      `PE FDB at the new VTEP ${fdb[fdb.length >> 1]} ms (medians; FDB max ${fdb[fdb.length - 1]} ms)`,
  );
  t.diagnostic(`ping: ${transmitted} transmitted, ${received} received, ${transmitted - received} lost in all; effective interval ${intervalMs.toFixed(1)} ms`);

  assert.ok(sorted[sorted.length >> 1]! <= MAX_MEDIAN_LOST, `median loss per move at most ${MAX_MEDIAN_LOST}, got ${lost.join(' ')}`);
  assert.ok(sorted[sorted.length - 1]! <= MAX_LOST_PER_MOVE, `at most ${MAX_LOST_PER_MOVE} pings lost per move, got ${lost.join(' ')}`);
  // Everything not lost to a move arrived (a few in flight when ping stopped are allowed).
  assert.ok(transmitted - received <= lost.reduce((a, b) => a + b, 0) + 2, `ping lost ${transmitted - received} in all, moves account for ${lost.reduce((a, b) => a + b, 0)}`);
  assert.equal(results[results.length - 1]!.seq, MOVES + 1);
  assertRoutesAt(await lab.vmRoutes(), H_VTEP[lab.portAt() as Hv], MOVES + 1, `after ${MOVES + 1} moves`);

  // Withdraw: the PE forgets the VM.
  const gone = await unaryCall<WithdrawVmResponse__Output>((cb) => lab.api.mobility.withdrawVm({ network: { name: NETWORK }, mac: VM_MAC, vmId: 'vm-1' }, cb));
  assert.ok(gone.routes.length >= 2);
  await waitFor(() => lab.peFdb(), { what: 'PE FDB without the VM and its VTEP', until: (f) => f.vm.length === 0 && f.flood.length === 0, intervalMs: 10 });
  assert.deepEqual(await fdbDestinations(lab.ns.pe, 'vxlan100', VM_MAC), []);
  t.diagnostic(`total ${Date.now() - t0} ms after setup`);
});

test('aborted migration: Prepare → port to h2 → Commit (seq 1, PE FDB → h2) → port back → Abort: PE FDB back at h1 with seq 2, pings flow again', async (t) => {
  // The strictest detection there is: two unplanned moves would freeze the MAC, the commit and the abort (planned) must not.
  const lab = await startDataplaneLab(t, { duplicateDetection: '{ max-moves: 2, window: 60 }' });
  if (lab === undefined) return;
  const mob = lab.api.mobility;
  assert.equal((await lab.announce(H_VTEP.h1)).sequence, 0);
  await lab.waitPeAt(H_VTEP.h1, 'PE FDB → h1');
  const log = lab.startPing();
  await waitFor(() => log.seqs.size >= 20, { what: 'ping replies from the VM at h1', timeoutMs: 10_000, intervalMs: 20 });
  const fromEvent = lab.watch.events.length;

  // Prepare: the consultation checks pass, nothing moves yet.
  const prep = await unaryCall<PrepareMigrationResponse__Output>((cb) => mob.prepareMigration({ network: { name: NETWORK }, mac: VM_MAC, targetVtep: H_VTEP.h2 }, cb));
  assert.deepEqual(prep.reasons, []);
  const id = prep.migration!.id;
  assert.deepEqual([prep.migration!.state, prep.migration!.sourceVtep, prep.migration!.targetVtep], ['prepared', H_VTEP.h1, H_VTEP.h2]);
  assert.deepEqual(await lab.peFdb(), { vm: [H_VTEP.h1], flood: [H_VTEP.h1], externLearn: true }, 'prepare changes nothing on the wire');

  // The VM runs at h2 now; the agent commits.
  let commitSeq = -1;
  const commitLost = await lab.lossOf(log, 'commit', async () => {
    await lab.movePort('h2');
    const c = await unaryCall<CommitMigrationResponse__Output>((cb) => mob.commitMigration({ id }, cb));
    commitSeq = c.sequence;
    assert.equal(c.migration!.state, 'committed');
    await lab.waitPeAt(H_VTEP.h2, 'commit: PE FDB → h2');
  });
  assert.equal(commitSeq, 1, 'the commit carries the next sequence number');
  assertRoutesAt(await waitRoutesAt(lab, H_VTEP.h2, 1, 'commit'), H_VTEP.h2, 1, 'commit');

  // The move fails: the VM runs at h1 again, and the agent aborts the committed migration.
  let abortSeq = -1;
  let abortFdbMs = 0;
  const abortLost = await lab.lossOf(log, 'abort', async () => {
    const t1 = Date.now();
    await lab.movePort('h1');
    const a = await unaryCall<AbortMigrationResponse__Output>((cb) => mob.abortMigration({ id, reason: 'the VM did not start at h2' }, cb));
    abortSeq = a.sequence;
    assert.deepEqual([a.migration!.state, a.migration!.reason], ['aborted', 'the VM did not start at h2']);
    await lab.waitPeAt(H_VTEP.h1, 'abort: PE FDB back → h1 (10.99.0.21)');
    abortFdbMs = Date.now() - t1;
  });
  assert.equal(abortSeq, commitSeq + 1, 'back at the source one number above the commit');
  assertRoutesAt(await waitRoutesAt(lab, H_VTEP.h1, commitSeq + 1, 'abort'), H_VTEP.h1, commitSeq + 1, 'abort');
  const vms = await lab.listVms();
  assert.deepEqual(vms.map((v) => [v.vmId, v.vtep, v.sequence]), [['vm-1', H_VTEP.h1, 2]]);
  await lab.watch.next('MIGRATION_ABORTED', fromEvent);
  assert.deepEqual(
    lab.watch.events.slice(fromEvent).map((e) => [e.kind, e.fromVtep, e.toVtep, e.sequence, e.migrationId]),
    [
      ['MIGRATION_PREPARED', H_VTEP.h1, H_VTEP.h2, 0, id],
      ['MOVE', H_VTEP.h1, H_VTEP.h2, 1, ''],
      ['MIGRATION_COMMITTED', H_VTEP.h1, H_VTEP.h2, 1, id],
      ['MOVE', H_VTEP.h2, H_VTEP.h1, 2, ''],
      ['MIGRATION_ABORTED', H_VTEP.h2, H_VTEP.h1, 2, id],
    ],
  );
  const { transmitted, received } = await lab.stopPing();
  t.diagnostic(`commit: ${commitLost} ping(s) lost; abort: ${abortLost} lost, PE FDB back at h1 ${abortFdbMs} ms after the port started moving back`);
  t.diagnostic(`ping: ${transmitted} transmitted, ${received} received`);
  for (const [what, lost] of [['commit', commitLost], ['abort', abortLost]] as const) {
    assert.ok(lost <= MAX_LOST_PER_MOVE, `${what}: at most ${MAX_LOST_PER_MOVE} pings lost, got ${lost}`);
  }
  assert.ok(transmitted - received <= commitLost + abortLost + 2, `ping lost ${transmitted - received} in all, the two moves account for ${commitLost + abortLost}`);
});

test('the VM re-learned by the FRR PE itself: zebra advertises it above vmmi\'s sequence number and vmmi yields (RFC 7432 §15): routes withdrawn, MOVED_AWAY, pings local', async (t) => {
  const lab = await startDataplaneLab(t, { duplicateDetection: NO_DUPLICATES });
  if (lab === undefined) return;
  await lab.announce(H_VTEP.h1);
  // One move first, so that vmmi's number (1) is not the initial one.
  await lab.movePort('h2');
  assert.equal((await lab.announce(H_VTEP.h2)).sequence, 1);
  await lab.waitPeAt(H_VTEP.h2, 'PE FDB → h2');
  await waitRoutesAt(lab, H_VTEP.h2, 1, 'at h2');
  const log = lab.startPing();
  await waitFor(() => log.seqs.size >= 20, { what: 'ping replies from the VM at h2', timeoutMs: 10_000, intervalMs: 20 });
  const fromEvent = lab.watch.events.length;
  const before = await lab.zebraMac();
  assert.deepEqual([before?.type, before?.remoteVtep, before?.remoteSequence], ['remote', H_VTEP.h2, 1], 'zebra has the VM as remote at h2, MM:1');

  // The VM switches to its port in the PE's own bridge: no agent speaks, the PE finds the VM itself.
  let t1 = 0;
  let zebraMs = 0;
  const lost = await lab.lossOf(log, 'PE learns the VM', async () => {
    t1 = Date.now();
    await lab.movePort('pe');
    // The user's echo requests still go to h2 (the PE's FDB says so) and the VM sends nothing unasked
    // (no gratuitous ARP): it speaks once, one echo request to the user, and the PE's bridge learns it on vm1.
    // Its exit status does not matter (the learning is checked next).
    await run('ip', ['netns', 'exec', lab.ns.vm, 'ping', '-n', '-c', '1', '-W', '1', USER_IP]);
    await waitFor(() => lab.zebraMac(), { what: 'zebra: the VM is local on vm1', until: (m) => m?.type === 'local' && m.intf === 'vm1', intervalMs: 10 });
    zebraMs = Date.now() - t1;
  });
  // zebra takes over with one above the remote number and FRR advertises its own type-2 with it.
  const local = (await lab.zebraMac())!;
  assert.deepEqual([local.type, local.intf, local.localSequence, local.remoteSequence], ['local', 'vm1', 2, 1], 'zebra: local, MM = vmmi\'s + 1');
  await waitFor(() => lab.vmRoutes(), {
    what: 'FRR\'s own route for the VM',
    until: (rs) => rs.some((r) => r.rd.startsWith(`${PE_VTEP}:`)),
    intervalMs: 10,
  });
  const originatedMs = Date.now() - t1;
  // vmmi yields: its MAC and MAC+IP routes (and h2's type-3 route) are withdrawn; FRR has only its own route.
  const own = await waitFor(() => lab.vmRoutes(), {
    what: 'FRR has only the PE\'s own route for the VM (vmmi withdrew its routes)',
    until: (rs) => rs.length === 1 && rs[0]!.rd.startsWith(`${PE_VTEP}:`),
  });
  const ownMs = Date.now() - t1;
  assert.equal(frrNextHop(own[0]!.paths[0]!), PE_VTEP);
  assert.equal(frrMacMobilitySeq(own[0]!.paths[0]!), 2, 'FRR advertises the VM with MM:2');
  const away = await lab.watch.next('MOVED_AWAY', fromEvent);
  assert.deepEqual(
    [away.vmId, away.mac, away.fromVtep, away.toVtep, away.sequence, away.agent],
    ['vm-1', VM_MAC, H_VTEP.h2, PE_VTEP, 2, 'bgp'],
    'MOVED_AWAY to the PE\'s VTEP with its sequence number',
  );
  assert.deepEqual(lab.watch.events.slice(fromEvent).map((e) => e.kind), ['MOVED_AWAY'], 'vmmi yields without a conflict');
  assert.deepEqual(await lab.listVms(), [], 'vmmi no longer holds the VM');
  await waitFor(() => lab.peFdb(), { what: 'PE flood list empty (vmmi withdrew h2\'s type-3 route)', until: (f) => f.flood.length === 0, intervalMs: 10 });
  // The PE's bridge forwards to the VM on vm1 (learned, not from BGP), and traffic flows locally.
  const onPort = (await fdbShow(lab.ns.pe, 'vm1')).filter((e) => e.mac === VM_MAC);
  assert.deepEqual(onPort.map((e) => [e.master, e.flags.includes('extern_learn')]), [['br100', false]], 'PE bridge: the VM\'s MAC on vm1');
  const resumed = log.max;
  await waitFor(() => log.max >= resumed + 20, { what: 'ping replies from the VM at the PE', timeoutMs: 5_000, intervalMs: 10 });
  assert.deepEqual(log.missing(resumed, log.max), [], 'no loss once the VM is local');
  // zebra leaves the VXLAN device's own entry of the remote MAC behind (dst h2, extern_learn); the bridge no longer uses it.
  const stale = await fdbDestinations(lab.ns.pe, 'vxlan100', VM_MAC);
  const awayMs = Number(away.time!.seconds) * 1000 + Math.round(away.time!.nanos / 1e6) - t1;
  t.diagnostic(
    `PE learned the VM: ${lost} ping(s) lost; zebra local ${zebraMs} ms, FRR's own route in its table ${originatedMs} ms, ` +
      `vmmi's MOVED_AWAY ${awayMs} ms, FRR with only its own route ` +
      `${ownMs} ms after the port started moving; vxlan100 entry left by zebra: ${stale.length === 0 ? 'none' : stale.join(', ')}`,
  );
  assert.ok(lost <= MAX_LOST_PER_MOVE, `at most ${MAX_LOST_PER_MOVE} pings lost, got ${lost}`);
});

test('duplicate-detection storm: 3 unplanned moves within 60 s freeze the MAC (withdrawn, DUPLICATE), ClearDuplicate advertises it again above every number', async (t) => {
  const MAX_MOVES = 3;
  const lab = await startDataplaneLab(t, { duplicateDetection: `{ max-moves: ${MAX_MOVES}, window: 60 }` });
  if (lab === undefined) return;
  const mob = lab.api.mobility;
  assert.equal((await lab.announce(H_VTEP.h1)).sequence, 0);
  await lab.waitPeAt(H_VTEP.h1, 'PE FDB → h1');
  const log = lab.startPing();
  await waitFor(() => log.seqs.size >= 20, { what: 'ping replies from the VM at h1', timeoutMs: 10_000, intervalMs: 20 });
  const fromEvent = lab.watch.events.length;

  // The VM flaps between h1 and h2, each move announced unplanned, until vmmi calls it a duplicate.
  const seqs: number[] = [0];
  let frozenAt = 0;
  for (let n = 1; n <= 2 * MAX_MOVES && frozenAt === 0; n++) {
    const to: Hv = lab.portAt() === 'h1' ? 'h2' : 'h1';
    await lab.movePort(to);
    const r = await lab.announce(H_VTEP[to]);
    assert.equal(r.sequence, n, `move ${n}: sequence number`);
    seqs.push(r.sequence);
    if (r.duplicate) {
      frozenAt = n;
      assert.deepEqual(r.routes, [], 'a duplicate MAC is stored, not advertised');
    } else {
      await lab.waitPeAt(H_VTEP[to], `move ${n}: PE FDB → ${to}`);
    }
  }
  assert.equal(frozenAt, MAX_MOVES, `the ${MAX_MOVES}th move within the window makes the MAC duplicate`);
  const at = lab.portAt() as Hv;
  const tFrozen = Date.now();

  // vmmi withdrew the MAC: FRR has no route for it, the PE neither tunnels it nor floods to its VTEP.
  await waitFor(() => lab.vmRoutes(), { what: 'FRR without any route for the duplicate MAC', until: (rs) => rs.length === 0, intervalMs: 10 });
  await waitFor(() => lab.peFdb(), {
    what: 'PE FDB without the duplicate MAC and without the flood entry',
    until: (f) => f.vm.length === 0 && f.flood.length === 0,
    intervalMs: 10,
  });
  const withdrawnMs = Date.now() - tFrozen;
  const dup = await lab.watch.next('DUPLICATE', fromEvent);
  assert.deepEqual([dup.vmId, dup.mac, dup.fromVtep, dup.toVtep, dup.sequence], ['vm-1', VM_MAC, H_VTEP[at], '', MAX_MOVES]);
  assert.match(dup.detail, new RegExp(`^${MAX_MOVES} moves within 60 s: not advertised until cleared`));
  assert.deepEqual(
    (await lab.listVms()).map((v) => [v.vtep, v.sequence]),
    [[H_VTEP[at], MAX_MOVES]],
    'the VM is still held (its place and number), only not advertised',
  );
  // While frozen, the user's pings reach nobody, and a planned migration is refused too.
  const frozenMax = log.max;
  await new Promise((r) => setTimeout(r, 300));
  const whileFrozen = [...log.seqs].filter((s) => s > frozenMax + 2).length;
  assert.equal(whileFrozen, 0, 'no replies while the MAC is frozen');
  const prep = await unaryCall<PrepareMigrationResponse__Output>((cb) =>
    mob.prepareMigration({ network: { name: NETWORK }, mac: VM_MAC, targetVtep: H_VTEP[at === 'h1' ? 'h2' : 'h1'] }, cb),
  );
  assert.equal(prep.migration, null);
  assert.ok(prep.reasons.some((r) => /duplicate/.test(r)), `PrepareMigration refused: ${prep.reasons.join('; ')}`);

  // The operator clears it: advertised again at the VM's current VTEP, above every number used before.
  const before = log.max;
  const tClear = Date.now();
  await unaryCall<ClearDuplicateResponse__Output>((cb) => mob.clearDuplicate({ network: { name: NETWORK }, mac: VM_MAC }, cb));
  const cleared = await lab.watch.next('DUPLICATE_CLEARED', fromEvent);
  const again = cleared.sequence;
  assert.ok(seqs.every((s) => again > s), `sequence after ClearDuplicate (${again}) above every earlier one (${seqs.join(' ')})`);
  assert.equal(again, MAX_MOVES + 1);
  assert.deepEqual([cleared.toVtep, cleared.agent], [H_VTEP[at], 'api']);
  await lab.waitPeAt(H_VTEP[at], `cleared: PE FDB → ${at}`);
  const fdbMs = Date.now() - tClear;
  assertRoutesAt(await waitRoutesAt(lab, H_VTEP[at], again, 'cleared'), H_VTEP[at], again, 'cleared');
  const repliesSince = (): number => [...log.seqs].filter((s) => s > before).length;
  await waitFor(() => repliesSince() >= 10, { what: '10 ping replies after ClearDuplicate', timeoutMs: 5_000, intervalMs: 10 });
  const pingMs = Date.now() - tClear;
  assert.deepEqual((await lab.listVms()).map((v) => [v.vtep, v.sequence]), [[H_VTEP[at], again]]);
  // Not duplicate any more: a second clear has nothing to do.
  const second = await unaryCall<ClearDuplicateResponse__Output>((cb) => mob.clearDuplicate({ network: { name: NETWORK }, mac: VM_MAC }, cb)).catch((e: unknown) => e);
  assert.equal(grpcCode(second), status.NOT_FOUND, 'ClearDuplicate of a MAC not marked duplicate: NOT_FOUND');
  assert.deepEqual(
    lab.watch.events.slice(fromEvent).map((e) => [e.kind, e.sequence]),
    [...Array.from({ length: MAX_MOVES }, (_, i) => ['MOVE', i + 1]), ['DUPLICATE', MAX_MOVES], ['DUPLICATE_CLEARED', again]],
  );
  t.diagnostic(
    `duplicate at move ${frozenAt} (sequence numbers ${seqs.join(' ')}); FRR and the PE FDB without it ${withdrawnMs} ms after the reply; ` +
      `after ClearDuplicate: MM:${again}, PE FDB at ${at} ${fdbMs} ms, 10 ping replies ${pingMs} ms`,
  );
});
