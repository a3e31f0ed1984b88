/**
 * Data-plane lab: vmmi is the control plane of real VM moves over VXLAN.
 *
 *   user ── pe (FRR zebra+bgpd, br100+vxlan100, VTEP 10.99.0.1) ══ iBGP EVPN ══ vmmid (root ns)
 *                │ underlay bridge in `ul`, 10.99.0.0/24                 ▲ gRPC (loopback)
 *            h1 (VTEP .21) ─ h2 (VTEP .22)                              test = hypervisor agent
 *             └── vm (52:54:00:00:01:01, 10.1.1.10) moves between them
 *
 * h1 and h2 run no BGP speaker: their only state is br100 + vxlan100 with a
 * flood entry to the PE. The test is their agent: it moves the VM's veth and
 * calls AnnounceVm with the new VTEP, and vmmi's routes are what steer the
 * PE's kernel FDB (through FRR bgpd → zebra). A 10 ms ping from `user` to the
 * VM counts what each move loses. Runs as root; all namespaces are made and
 * removed here (`vmmi-dp-<pid>-*`), and all traffic stays inside them.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { type VmmiClient, connect, unaryCall } from '../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { WithdrawVmResponse__Output } from '../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import { type FrrHandle, frrConfig, skipOrFail, waitFor } from './harness/index.js';
import {
  NetnsLab,
  addAddress,
  addBridge,
  addVeth,
  addVxlan,
  fdbAppend,
  fdbDestinations,
  fdbShow,
  ip,
  linkUp,
  netnsUnavailable,
  nsExec,
  setMaster,
  spawnInNetns,
  startFrrInNetns,
  type NsProcess,
} from './harness/netns.js';
import { frrEstablished, frrEvpnRoutes, frrMacMobilitySeq, frrNextHop } from './support/peers.js';
import { type VmmidProcess, spawnVmmid } from './support/vmmi.js';

const ASN = 65000;
const VNI = 10100;
const PE_VTEP = '10.99.0.1';
const H_VTEP = { h1: '10.99.0.21', h2: '10.99.0.22' } as const;
type Hv = keyof typeof H_VTEP;
const VM_MAC = '52:54:00:00:01:01';
const VM_IP = '10.1.1.10';
const USER_IP = '10.1.1.100';
const ZERO_MAC = '00:00:00:00:00:00';
const MOVES = 50;
/** Root-namespace end of the vmmid ↔ PE veth: `vmdp<pid>`, so stale ones can be found by pid. */
const ROOT_LINK_SCHEME = 'vmdp';

/**
 * The vmmid ↔ PE /30, from the pid so that two runs (or a leftover of a
 * crashed one) never share vmmid's listen address: 10.98.X.Y/30 inside 10.98/16.
 */
function sessionSubnet(): { host: string; pe: string } {
  const block = process.pid % 16384;
  const base = `10.98.${block >> 6}.${(block & 63) << 2}`;
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
  return { host: `${a}.${b}.${c}.${d + 1}`, pe: `${a}.${b}.${c}.${d + 2}` };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

/** Received icmp_seq numbers of a running `ping`, as they arrive. */
class PingLog {
  readonly seqs = new Set<number>();
  max = 0;
  private partial = '';
  feed(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      const m = /^\d+ bytes from .*icmp_seq=(\d+)/.exec(l);
      if (m === null) continue;
      const s = Number(m[1]);
      this.seqs.add(s);
      if (s > this.max) this.max = s;
    }
  }
  /** Sequence numbers in (from, to] that got no reply. */
  missing(from: number, to: number): number[] {
    const out: number[] = [];
    for (let s = from + 1; s <= to; s++) if (!this.seqs.has(s)) out.push(s);
    return out;
  }
}

test('vmmi steers a real VXLAN data plane through VM moves: FRR PE FDB follows each AnnounceVm, ping loss per move is bounded', async (t) => {
  const why = await netnsUnavailable();
  if (why !== undefined) {
    skipOrFail(t, why);
    return;
  }
  const t0 = Date.now();
  const lab = new NetnsLab('vmmi-dp');
  const stale = await lab.cleanStale(ROOT_LINK_SCHEME);
  if (stale.length > 0) t.diagnostic(`removed leftovers of crashed runs: ${stale.join(', ')}`);

  let frr: FrrHandle | undefined;
  let vmmid: VmmidProcess | undefined;
  let client: VmmiClient | undefined;
  let ping: NsProcess | undefined;
  t.after(async () => {
    // Each step on its own: a failure in one must not leave the namespaces behind.
    const steps: [string, () => Promise<unknown>][] = [
      ['ping', async () => ping?.stop('SIGINT')],
      ['client', async () => client?.close()],
      ['vmmid', async () => vmmid?.stop()],
      ['frr', async () => frr?.stop()],
      ['namespaces', () => lab.close()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        t.diagnostic(`cleanup of ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });

  // Topology -------------------------------------------------------------------------
  const [ul, pe, user, h1, h2, vm] = await Promise.all(['ul', 'pe', 'user', 'h1', 'h2', 'vm'].map((n) => lab.add(n))) as [
    string, string, string, string, string, string,
  ];
  const hv: Record<Hv, string> = { h1, h2 };

  // Underlay: one bridge in `ul`, a veth to each VTEP.
  await addBridge(ul, 'ul0');
  for (const [ns, vtep, port] of [[pe, PE_VTEP, 'to-pe'], [h1, H_VTEP.h1, 'to-h1'], [h2, H_VTEP.h2, 'to-h2']] as const) {
    await addVeth({ name: port, ns: ul }, { name: 'eth-ul', ns });
    await setMaster(ul, port, 'ul0');
    await addAddress(ns, 'eth-ul', `${vtep}/24`);
    await linkUp(ns, 'eth-ul');
  }

  // vmmid (root namespace) ↔ PE.
  const sess = sessionSubnet();
  const rootLink = `${ROOT_LINK_SCHEME}${process.pid}`;
  await addVeth({ name: rootLink }, { name: 'eth-vmmi', ns: pe });
  lab.ownRootLink(rootLink);
  await addAddress(undefined, rootLink, `${sess.host}/30`);
  await linkUp(undefined, rootLink);
  await addAddress(pe, 'eth-vmmi', `${sess.pe}/30`);
  await linkUp(pe, 'eth-vmmi');

  // Every VTEP: br100 + vxlan100.
  for (const [ns, vtep] of [[pe, PE_VTEP], [h1, H_VTEP.h1], [h2, H_VTEP.h2]] as const) {
    await addBridge(ns, 'br100');
    await addVxlan(ns, { name: 'vxlan100', vni: VNI, local: vtep, bridge: 'br100' });
  }
  // The hypervisors have no control plane of their own: unknown and broadcast traffic goes to the PE, nothing else.
  for (const ns of [h1, h2]) await fdbAppend(ns, 'vxlan100', ZERO_MAC, PE_VTEP);

  // The user behind the PE, the VM behind h1. The VM never announces itself (arp_notify off, no IPv6).
  await addVeth({ name: 'user', ns: pe }, { name: 'eth0', ns: user });
  await setMaster(pe, 'user', 'br100');
  await addAddress(user, 'eth0', `${USER_IP}/24`);
  await linkUp(user, 'eth0');
  await addVeth({ name: 'eth0', ns: vm }, { name: 'vm1', ns: h1 }, { mac: VM_MAC });
  await nsExec(vm, 'sysctl', ['-qw', 'net.ipv4.conf.all.arp_notify=0', 'net.ipv4.conf.eth0.arp_notify=0']);
  await addAddress(vm, 'eth0', `${VM_IP}/24`);
  await linkUp(vm, 'eth0');
  await setMaster(h1, 'vm1', 'br100');

  // FRR on the PE, vmmid as its route reflector.
  const peFrr = await startFrrInNetns({
    name: 'dp-pe',
    ns: pe,
    address: sess.pe,
    config: frrConfig({
      hostname: 'pe',
      routerId: PE_VTEP,
      asn: ASN,
      neighbors: [{ address: sess.host, remoteAs: ASN, updateSource: sess.pe, families: ['l2vpn-evpn'] }],
      familyExtra: { 'l2vpn-evpn': ['advertise-all-vni'] },
    }),
  });
  frr = peFrr;
  const apiPort = await freePort();
  vmmid = await spawnVmmid('dp-vmmid', {
    address: sess.host,
    asn: ASN,
    neighbors: [{ address: sess.pe, remoteAs: ASN, families: ['l2vpn-evpn'], rrClient: true }],
    extraYaml: [
      'networks:',
      // 51 moves within seconds are what RFC 7432 §15.1 calls a duplicate MAC (default 5 in 180 s,
      // then vmmi withdraws it); this lab measures the data plane, so the threshold is out of reach.
      `  - { name: blue, vni: ${VNI}, duplicate-detection: { max-moves: 1000, window: 1 } }`,
      'api:',
      `  listen: { address: 127.0.0.1, port: ${apiPort} }`,
      '  agents:',
      `    - { name: hv, vteps: [${H_VTEP.h1}, ${H_VTEP.h2}], networks: [blue] }`,
      '',
    ].join('\n'),
  });
  if (vmmid.child.pid !== undefined) lab.ownProcess(vmmid.child.pid);
  await frrEstablished(peFrr, sess.host);
  t.diagnostic(`setup: namespaces, links, FRR, vmmid and an Established session in ${Date.now() - t0} ms`);

  // Where the PE's kernel sends the VM's MAC, and its flood list (HER, from type-3 routes).
  const peFdb = async (): Promise<{ vm: string[]; flood: string[]; externLearn: boolean }> => {
    const entries = await fdbShow(pe, 'vxlan100');
    const vmEntries = entries.filter((e) => e.mac === VM_MAC && e.dst !== undefined);
    return {
      vm: vmEntries.map((e) => e.dst!).sort(),
      flood: entries.filter((e) => e.mac === ZERO_MAC && e.dst !== undefined).map((e) => e.dst!).sort(),
      externLearn: vmEntries.length > 0 && vmEntries.every((e) => e.flags.includes('extern_learn')),
    };
  };
  const waitPeAt = (vtep: string, what: string) =>
    waitFor(peFdb, {
      what,
      until: (f) => f.vm.length === 1 && f.vm[0] === vtep && f.externLearn && f.flood.length === 1 && f.flood[0] === vtep,
      intervalMs: 5,
      timeoutMs: 10_000,
    });

  assert.deepEqual(await peFdb(), { vm: [], flood: [], externLearn: false }, 'nothing is known before the agent speaks');

  // 2. The agent announces the VM at h1 ---------------------------------------------------
  client = connect({ api: `127.0.0.1:${apiPort}` });
  const api = client;
  const announce = (vtep: string) =>
    unaryCall<AnnounceVmResponse__Output>((cb) => api.mobility.announceVm({ vmId: 'vm-1', network: { name: 'blue' }, mac: VM_MAC, ips: [VM_IP], vtep }, cb));
  const first = await announce(H_VTEP.h1);
  assert.equal(first.sequence, 0);
  await waitPeAt(H_VTEP.h1, 'PE FDB: VM MAC → 10.99.0.21 (extern_learn) and flood list [10.99.0.21]');

  // 3. Traffic: a 10 ms ping from the user to the VM ----------------------------------------
  const log = new PingLog();
  ping = spawnInNetns(user, 'ping', ['-n', '-i', '0.01', '-W', '1', VM_IP], (d) => log.feed(d));
  await waitFor(() => log.seqs.size >= 20, { what: 'ping replies from the VM at h1', timeoutMs: 10_000, intervalMs: 20 });

  let at: Hv = 'h1';
  /**
   * One move, as a hypervisor does it: the VM's port leaves h1 and appears in
   * h2 first (live migration: the VM runs at the new place), then the agent
   * calls AnnounceVm. Loss comes from that order and cannot be zero: from the
   * moment the port leaves the old bridge until the PE's FDB points at the
   * new VTEP, the PE still tunnels to the old hypervisor, which drops the
   * frames (its flood entry goes to the PE only, never to another hypervisor).
   * That window is the two `ip` commands of the move, the AnnounceVm call,
   * vmmi's UPDATE, FRR bgpd → zebra → kernel FDB. Replies need nothing: the
   * new hypervisor floods them to the PE, which knows the user's MAC.
   */
  const move = async (n: number): Promise<{ lost: number; portMs: number; apiMs: number; fdbMs: number; seq: number }> => {
    const from = at;
    const to: Hv = from === 'h1' ? 'h2' : 'h1';
    const before = log.max;
    const tMove = Date.now();
    await ip(['-n', hv[from], 'link', 'set', 'vm1', 'netns', hv[to]]);
    await setMaster(hv[to], 'vm1', 'br100');
    const portMs = Date.now() - tMove;
    const res = await announce(H_VTEP[to]);
    const apiMs = Date.now() - tMove;
    assert.equal(res.sequence, n, `move ${n}: sequence number`);
    assert.equal(res.previousVtep, H_VTEP[from], `move ${n}: previous VTEP`);
    assert.equal(res.changed, true);
    await waitPeAt(H_VTEP[to], `move ${n}: PE FDB: VM MAC and flood list → ${H_VTEP[to]}`);
    const fdbMs = Date.now() - tMove;
    at = to;
    // Traffic is back once 10 further replies came (100 ms at 10 ms); gaps before them are the move's loss.
    const resumed = log.max;
    await waitFor(() => log.max >= resumed + 10, { what: `move ${n}: ping replies from the VM at ${to}`, timeoutMs: 5_000, intervalMs: 10 });
    return { lost: log.missing(before, log.max).length, portMs, apiMs, fdbMs, seq: res.sequence };
  };

  // 4. The first move, with FRR's EVPN table checked in full ------------------------------------
  const m1 = await move(1);
  const routes = await waitFor(async () => (await frrEvpnRoutes(peFrr)).filter((r) => r.fields.mac === VM_MAC), {
    what: 'FRR has only the new location',
    until: (rs) => rs.length === 2 && rs.every((r) => r.rd === `${H_VTEP.h2}:${VNI}`),
  });
  for (const r of routes) {
    const p = r.paths[0]!;
    assert.equal(frrNextHop(p), H_VTEP.h2);
    assert.equal(frrMacMobilitySeq(p), 1, 'MAC Mobility sequence number 1 after the first move');
  }
  t.diagnostic(`move 1: ${m1.lost} ping(s) lost (ping -i 0.01), PE FDB at the new VTEP ${m1.fdbMs} ms after the port moved`);

  // 5. 50 moves back and forth --------------------------------------------------------------
  const results = [m1];
  for (let i = 2; i <= MOVES + 1; i++) results.push(await move(i));

  ping.child.kill('SIGINT');
  await waitFor(() => /(\d+) packets transmitted, (\d+) received/.test(ping?.output() ?? ''), { what: 'ping summary', timeoutMs: 5_000 });
  await ping.stop('SIGINT');
  const summary = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(ping.output())!;
  const transmitted = Number(summary[1]);
  const received = Number(summary[2]);
  const intervalMs = Number(summary[3]) / Math.max(1, transmitted - 1);
  ping = undefined;

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
    `after the port starts moving: port up in the new bridge ${median('portMs')} ms, AnnounceVm answered ${median('apiMs')} ms, ` +
      `PE FDB at the new VTEP ${fdb[fdb.length >> 1]} ms (medians; FDB max ${fdb[fdb.length - 1]} ms)`,
  );
  t.diagnostic(`ping: ${transmitted} transmitted, ${received} received, ${transmitted - received} lost in all; effective interval ${intervalMs.toFixed(1)} ms`);

  // ≤ 1 lost per move is not reachable with this order of events (see move()). Measured
  // here: 1-4 lost per move at ping's effective ~16 ms interval, median 2: the veth's
  // netns change alone takes ~20 ms in the kernel (the VM has no carrier meanwhile),
  // AnnounceVm answers ~3 ms later, and vmmi → FRR bgpd → zebra → kernel FDB adds
  // ~15 ms. The bound allows 100 ms of outage per move for a loaded machine; a
  // control plane that stops following (routes or FDB stuck after N moves) fails
  // waitPeAt instead.
  const MAX_LOST_PER_MOVE = 10;
  const MAX_MEDIAN_LOST = 5;
  assert.ok(sorted[sorted.length >> 1]! <= MAX_MEDIAN_LOST, `median loss per move at most ${MAX_MEDIAN_LOST}, got ${lost.join(' ')}`);
  assert.ok(sorted[sorted.length - 1]! <= MAX_LOST_PER_MOVE, `at most ${MAX_LOST_PER_MOVE} pings lost per move, got ${lost.join(' ')}`);
  // Everything not lost to a move arrived (a few in flight when ping stopped are allowed).
  assert.ok(transmitted - received <= lost.reduce((a, b) => a + b, 0) + 2, `ping lost ${transmitted - received} in all, moves account for ${lost.reduce((a, b) => a + b, 0)}`);
  assert.equal(results[results.length - 1]!.seq, MOVES + 1);
  const final = (await frrEvpnRoutes(peFrr)).filter((r) => r.fields.mac === VM_MAC);
  assert.deepEqual(final.map((r) => r.rd), [`${H_VTEP[at]}:${VNI}`, `${H_VTEP[at]}:${VNI}`], 'FRR has the VM only at its last VTEP');
  for (const r of final) assert.equal(frrMacMobilitySeq(r.paths[0]!), MOVES + 1, `MM:${MOVES + 1} after ${MOVES + 1} moves`);

  // 6. Withdraw: the PE forgets the VM ---------------------------------------------------------
  const gone = await unaryCall<WithdrawVmResponse__Output>((cb) => api.mobility.withdrawVm({ network: { name: 'blue' }, mac: VM_MAC, vmId: 'vm-1' }, cb));
  assert.ok(gone.routes.length >= 2);
  await waitFor(peFdb, { what: 'PE FDB without the VM and its VTEP', until: (f) => f.vm.length === 0 && f.flood.length === 0, intervalMs: 10 });
  assert.deepEqual(await fdbDestinations(pe, 'vxlan100', VM_MAC), []);
  t.diagnostic(`total ${Date.now() - t0} ms`);
});
