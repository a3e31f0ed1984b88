/**
 * The data-plane lab of interop/dataplane.test.ts: vmmi is the control plane of
 * real VM moves over VXLAN.
 *
 *   user ── pe (FRR zebra+bgpd, br100+vxlan100, VTEP 10.99.0.1) ══ iBGP EVPN ══ vmmid (root ns)
 *                │ underlay bridge in `ul`, 10.99.0.0/24                 ▲ gRPC (loopback)
 *            h1 (VTEP .21) ─ h2 (VTEP .22)                              test = hypervisor agent
 *             └── vm (52:54:00:00:01:01, 10.1.1.10) moves between them
 *
 * h1 and h2 run no BGP speaker: their only state is br100 + vxlan100 with a
 * flood entry to the PE. The test is their agent: it moves the VM's veth and
 * calls vmmi's API with the new VTEP, and vmmi's routes are what steer the
 * PE's kernel FDB (through FRR bgpd → zebra). A 10 ms ping from `user` to the
 * VM counts what each step loses. Runs as root; all namespaces are made and
 * removed here (`vmmi-dp-<pid>-*`), and all traffic stays inside them. Each
 * test builds its own lab (about 1.5 s) and tears it down in t.after.
 */
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { type VmmiClient, connect, unaryCall } from '../../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { ListVmsResponse__Output } from '../../gen/proto/vmmi/v1/ListVmsResponse.js';
import type { MobilityEvent__Output } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { Vm__Output } from '../../gen/proto/vmmi/v1/Vm.js';
import { type FrrHandle, frrConfig, skipOrFail, waitFor } from '../harness/index.js';
import {
  NetnsLab,
  type NsProcess,
  addAddress,
  addBridge,
  addVeth,
  addVxlan,
  fdbAppend,
  fdbShow,
  ip,
  linkUp,
  netnsUnavailable,
  nsExec,
  setMaster,
  spawnInNetns,
  startFrrInNetns,
} from '../harness/netns.js';
import { type FrrEvpnRoute, frrEstablished, frrEvpnRoutes, isRecord } from './peers.js';
import { type VmmidProcess, spawnVmmid } from './vmmi.js';

export const ASN = 65000;
export const VNI = 10100;
export const NETWORK = 'blue';
export const PE_VTEP = '10.99.0.1';
export const H_VTEP = { h1: '10.99.0.21', h2: '10.99.0.22' } as const;
export type Hv = keyof typeof H_VTEP;
export const VM_ID = 'vm-1';
export const VM_MAC = '52:54:00:00:01:01';
export const VM_IP = '10.1.1.10';
export const USER_IP = '10.1.1.100';
export const ZERO_MAC = '00:00:00:00:00:00';
/** Root-namespace end of the vmmid ↔ PE veth: `vmdp<pid>`, so stale ones can be found by pid. */
const ROOT_LINK_SCHEME = 'vmdp';

/**
 * The vmmid ↔ PE /30, from the pid so that two runs (or a leftover of a
 * crashed one) never share vmmid's listen address: 10.98.X.Y/30 inside 10.98/16.
 * The tests of one run build their labs one after the other and share it.
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
export class PingLog {
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

/** The VM's MAC and the flood list in the PE's VXLAN FDB. */
export interface PeFdb {
  /** VTEPs the PE tunnels the VM's MAC to. */
  readonly vm: string[];
  /** Head-end replication list (all-zero MAC), from type-3 routes. */
  readonly flood: string[];
  /** Every VXLAN entry of the VM's MAC was installed by zebra (from BGP). */
  readonly externLearn: boolean;
}

export interface PingSummary {
  readonly transmitted: number;
  readonly received: number;
  /** ping's own time / (transmitted - 1): ~16 ms at `-i 0.01` on a busy machine. */
  readonly intervalMs: number;
}

/** The events of one WatchMobility stream, as they arrive. */
export interface EventLog {
  readonly events: MobilityEvent__Output[];
  /** Waits for an event of this kind after the first `from` events; returns it. */
  next(kind: string, from?: number, timeoutMs?: number): Promise<MobilityEvent__Output>;
}

export interface DataplaneLab {
  readonly ns: { readonly ul: string; readonly pe: string; readonly user: string; readonly h1: string; readonly h2: string; readonly vm: string };
  readonly frr: FrrHandle;
  readonly api: VmmiClient;
  readonly vmmid: VmmidProcess;
  /** Every event since setup (the watch starts before the first AnnounceVm). */
  readonly watch: EventLog;
  /** Where the VM's port is now. */
  readonly portAt: () => Hv | 'pe';
  /** Moves the VM's port (its veth's far end, `vm1`) to a hypervisor's or the PE's br100; resolves with how long it took. */
  movePort(to: Hv | 'pe'): Promise<number>;
  /** AnnounceVm as the hypervisors' agent (unplanned). */
  announce(vtep: string): Promise<AnnounceVmResponse__Output>;
  listVms(): Promise<Vm__Output[]>;
  peFdb(): Promise<PeFdb>;
  /** Until the PE tunnels the VM's MAC to `vtep` only (installed by zebra) and floods to `vtep` only. */
  waitPeAt(vtep: string, what: string): Promise<PeFdb>;
  /** FRR's EVPN routes (all RDs) for the VM's MAC. */
  vmRoutes(): Promise<FrrEvpnRoute[]>;
  /** zebra's entry for the VM's MAC (`show evpn mac vni 10100 mac M json`), or undefined. */
  zebraMac(): Promise<Record<string, unknown> | undefined>;
  /** Starts `ping -i 0.01` from the user to the VM (one per lab; stopped by stopPing or at cleanup). */
  startPing(): PingLog;
  stopPing(): Promise<PingSummary>;
  /**
   * Runs `step`, which returns once the control plane is where it should be,
   * then waits for 10 further replies (100 ms of traffic): the replies
   * missing since just before the step are what it cost.
   */
  lossOf(log: PingLog, what: string, step: () => Promise<void>): Promise<number>;
}

export interface LabOptions {
  /** `networks[].duplicate-detection` of the VM's network, as a YAML flow map. */
  readonly duplicateDetection: string;
}

/**
 * Builds the lab, or returns undefined after skipping the test (or failing it
 * under CI=true) when this machine cannot run it. Everything is removed in
 * t.after, step by step, even when the test fails.
 */
export async function startDataplaneLab(t: TestContext, o: LabOptions): Promise<DataplaneLab | undefined> {
  const why = await netnsUnavailable();
  if (why !== undefined) {
    skipOrFail(t, why);
    return undefined;
  }
  const t0 = Date.now();
  const lab = new NetnsLab('vmmi-dp');
  const stale = await lab.cleanStale(ROOT_LINK_SCHEME);
  if (stale.length > 0) t.diagnostic(`removed leftovers of crashed runs: ${stale.join(', ')}`);

  let frr: FrrHandle | undefined;
  let vmmid: VmmidProcess | undefined;
  let client: VmmiClient | undefined;
  let ping: NsProcess | undefined;
  let watchCall: grpc.ClientReadableStream<MobilityEvent__Output> | undefined;
  t.after(async () => {
    // Each step on its own: a failure in one must not leave the namespaces behind.
    const steps: [string, () => Promise<unknown>][] = [
      ['ping', async () => ping?.stop('SIGINT')],
      ['watch', async () => watchCall?.cancel()],
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
  const [ul, pe, user, h1, h2, vm] = (await Promise.all(['ul', 'pe', 'user', 'h1', 'h2', 'vm'].map((n) => lab.add(n)))) as [
    string, string, string, string, string, string,
  ];
  const nsOf: Record<Hv | 'pe', string> = { h1, h2, pe };

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
  let portAt: Hv | 'pe' = 'h1';

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
  const daemon = await spawnVmmid('dp-vmmid', {
    address: sess.host,
    asn: ASN,
    neighbors: [{ address: sess.pe, remoteAs: ASN, families: ['l2vpn-evpn'], rrClient: true }],
    extraYaml: [
      'networks:',
      `  - { name: ${NETWORK}, vni: ${VNI}, duplicate-detection: ${o.duplicateDetection} }`,
      'api:',
      `  listen: { address: 127.0.0.1, port: ${apiPort} }`,
      '  agents:',
      `    - { name: hv, vteps: [${H_VTEP.h1}, ${H_VTEP.h2}], networks: [${NETWORK}] }`,
      '',
    ].join('\n'),
  });
  vmmid = daemon;
  if (daemon.child.pid !== undefined) lab.ownProcess(daemon.child.pid);
  // No credentials: plain text on loopback, where anonymous callers are every agent and operator.
  client = connect({ api: `127.0.0.1:${apiPort}` });
  const api = client;
  // Watch from the start (the session takes ~1 s more, so the stream is open before the first call).
  const events: MobilityEvent__Output[] = [];
  watchCall = api.mobility.watchMobility({});
  watchCall.on('data', (e: MobilityEvent__Output) => events.push(e));
  watchCall.on('error', () => undefined);
  await frrEstablished(peFrr, sess.host);
  t.diagnostic(`setup: namespaces, links, FRR, vmmid and an Established session in ${Date.now() - t0} ms`);

  const peFdb = async (): Promise<PeFdb> => {
    const entries = await fdbShow(pe, 'vxlan100');
    const vmEntries = entries.filter((e) => e.mac === VM_MAC && e.dst !== undefined);
    return {
      vm: vmEntries.map((e) => e.dst!).sort(),
      flood: entries.filter((e) => e.mac === ZERO_MAC && e.dst !== undefined).map((e) => e.dst!).sort(),
      externLearn: vmEntries.length > 0 && vmEntries.every((e) => e.flags.includes('extern_learn')),
    };
  };
  const startPing = (): PingLog => {
    if (ping !== undefined) throw new Error('one ping per lab');
    const log = new PingLog();
    ping = spawnInNetns(user, 'ping', ['-n', '-i', '0.01', '-W', '1', VM_IP], (d) => log.feed(d));
    return log;
  };
  return {
    ns: { ul, pe, user, h1, h2, vm },
    frr: peFrr,
    api,
    vmmid: daemon,
    watch: {
      events,
      next: (kind, from = 0, timeoutMs = 5_000) =>
        waitFor(() => events.slice(from).find((e) => e.kind === kind), { what: `a ${kind} event on WatchMobility`, timeoutMs, intervalMs: 10 }),
    },
    portAt: () => portAt,
    async movePort(to) {
      const t1 = Date.now();
      await ip(['-n', nsOf[portAt], 'link', 'set', 'vm1', 'netns', nsOf[to]]);
      await setMaster(nsOf[to], 'vm1', 'br100');
      portAt = to;
      return Date.now() - t1;
    },
    announce: (vtep) =>
      unaryCall<AnnounceVmResponse__Output>((cb) => api.mobility.announceVm({ vmId: VM_ID, network: { name: NETWORK }, mac: VM_MAC, ips: [VM_IP], vtep }, cb)),
    listVms: async () => (await unaryCall<ListVmsResponse__Output>((cb) => api.mobility.listVms({}, cb))).vms,
    peFdb,
    waitPeAt: (vtep, what) =>
      waitFor(peFdb, {
        what,
        until: (f) => f.vm.length === 1 && f.vm[0] === vtep && f.externLearn && f.flood.length === 1 && f.flood[0] === vtep,
        intervalMs: 5,
        timeoutMs: 10_000,
      }),
    vmRoutes: async () => (await frrEvpnRoutes(peFrr)).filter((r) => r.fields.mac === VM_MAC),
    async zebraMac() {
      const j = await peFrr.json(`show evpn mac vni ${VNI} mac ${VM_MAC} json`);
      // FRR 8.4 answers the entry itself ({ type, intf | remoteVtep, localSequence, remoteSequence, ... }).
      if (!isRecord(j)) return undefined;
      const e = j[VM_MAC];
      return typeof j.type === 'string' ? j : isRecord(e) ? e : undefined;
    },
    startPing,
    async stopPing() {
      const p = ping;
      if (p === undefined) throw new Error('no ping running');
      p.child.kill('SIGINT');
      await waitFor(() => /(\d+) packets transmitted, (\d+) received/.test(p.output()), { what: 'ping summary', timeoutMs: 5_000 });
      await p.stop('SIGINT');
      ping = undefined;
      const s = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(p.output())!;
      const transmitted = Number(s[1]);
      return { transmitted, received: Number(s[2]), intervalMs: Number(s[3]) / Math.max(1, transmitted - 1) };
    },
    async lossOf(log, what, step) {
      const before = log.max;
      await step();
      const resumed = log.max;
      await waitFor(() => log.max >= resumed + 10, { what: `${what}: ping replies`, timeoutMs: 5_000, intervalMs: 10 });
      return log.missing(before, log.max).length;
    },
  };
}
