/**
 * What the EVPN data-plane labs (support/dataplane-lab.ts, one data center;
 * support/dci-lab.ts, two) have in common: the namespaces of a PE, a user,
 * two hypervisors and a VM on a VXLAN underlay, the PE's FDB as the tests
 * read it, the VM's port moves, the user's ping, the WatchMobility logs and
 * the step-by-step cleanup. The labs differ in their control plane.
 *
 *   user ── pe (br+vxlan, VTEP 10.99.0.1) ── underlay bridge in `ul`, 10.99.0.0/24
 *                                   h1 (VTEP .21) ─ h2 (VTEP .22)
 *                                    └── vm moves between them
 *
 * The VM is a bridge `vmbr` in its namespace (its MAC and IP on the bridge)
 * with a veth port to each place it can run (`to-h1`, `to-h2`, `to-pe`);
 * the far ends (`vm1`) sit in those places' bridges, up from the start. Only
 * the port towards where the VM runs is up, so a move is a live migration's
 * switch-over: one port up, then the other down (two `ip` commands, a few
 * ms), with no netns change.
 */
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { type VmmiClient, unaryCall } from '../../src/api/client.js';
import type { ListVmsResponse__Output } from '../../gen/proto/vmmi/v1/ListVmsResponse.js';
import type { MobilityEvent__Output } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { Vm__Output } from '../../gen/proto/vmmi/v1/Vm.js';
import { skipOrFail, waitFor } from '../harness/index.js';
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
} from '../harness/netns.js';

export const PE_VTEP = '10.99.0.1';
export const H_VTEP = { h1: '10.99.0.21', h2: '10.99.0.22' } as const;
export type Hv = keyof typeof H_VTEP;
export const ZERO_MAC = '00:00:00:00:00:00';

export function freePort(): Promise<number> {
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

/** The namespaces of a lab. */
export interface LabNamespaces {
  readonly ul: string;
  readonly pe: string;
  readonly user: string;
  readonly h1: string;
  readonly h2: string;
  readonly vm: string;
}

/**
 * A fresh NetnsLab (after removing leftovers of crashed runs), or undefined
 * after skipping the test (failing it under CI=true) when this machine cannot
 * run it: no namespaces, or `unavailable()` names what else is missing.
 */
export async function openLab(t: TestContext, prefix: string, rootLinkScheme: string, unavailable?: () => string | undefined): Promise<NetnsLab | undefined> {
  const why = (await netnsUnavailable()) ?? unavailable?.();
  if (why !== undefined) {
    skipOrFail(t, why);
    return undefined;
  }
  const lab = new NetnsLab(prefix);
  const stale = await lab.cleanStale(rootLinkScheme);
  if (stale.length > 0) t.diagnostic(`removed leftovers of crashed runs: ${stale.join(', ')}`);
  return lab;
}

/** Registers cleanup in t.after: each step on its own, so that a failure in one does not leave the namespaces behind. */
export function cleanupInOrder(t: TestContext, steps: [string, () => Promise<unknown>][]): void {
  t.after(async () => {
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        t.diagnostic(`cleanup of ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
}

export interface TopologyOptions {
  readonly bridge: string;
  readonly vxlan: string;
  readonly vni: number;
  readonly vmMac: string;
  readonly vmIp: string;
  readonly userIp: string;
  /** Places the VM can run, each given a port of the VM's bridge; the first is where it starts. Default h1, h2. */
  readonly vmPlaces?: readonly string[];
}

/** Namespace of each place the VM can run (`h1`, `h2`, `pe`). */
function placeNs(ns: Omit<LabNamespaces, 'ul' | 'user' | 'vm'>, place: string): string {
  if (place === 'h1' || place === 'h2' || place === 'pe') return ns[place];
  throw new Error(`no place ${place} for the VM`);
}

/**
 * The namespaces and the data plane: the underlay (one bridge in `ul`, a veth
 * to each VTEP), the bridge + VXLAN of every VTEP, the hypervisors' flood entry
 * to the PE, the user behind the PE and the VM behind h1.
 */
export async function buildTopology(lab: NetnsLab, o: TopologyOptions): Promise<LabNamespaces> {
  const [ul, pe, user, h1, h2, vm] = (await Promise.all(['ul', 'pe', 'user', 'h1', 'h2', 'vm'].map((n) => lab.add(n)))) as [
    string, string, string, string, string, string,
  ];

  // Underlay: one bridge in `ul`, a veth to each VTEP.
  await addBridge(ul, 'ul0');
  for (const [ns, vtep, port] of [[pe, PE_VTEP, 'to-pe'], [h1, H_VTEP.h1, 'to-h1'], [h2, H_VTEP.h2, 'to-h2']] as const) {
    await addVeth({ name: port, ns: ul }, { name: 'eth-ul', ns });
    await setMaster(ul, port, 'ul0');
    await addAddress(ns, 'eth-ul', `${vtep}/24`);
    await linkUp(ns, 'eth-ul');
  }

  // Every VTEP: bridge + VXLAN.
  for (const [ns, vtep] of [[pe, PE_VTEP], [h1, H_VTEP.h1], [h2, H_VTEP.h2]] as const) {
    await addBridge(ns, o.bridge);
    await addVxlan(ns, { name: o.vxlan, vni: o.vni, local: vtep, bridge: o.bridge });
  }
  // The hypervisors have no control plane of their own: unknown and broadcast traffic goes to the PE, nothing else.
  for (const ns of [h1, h2]) await fdbAppend(ns, o.vxlan, ZERO_MAC, PE_VTEP);

  // The user behind the PE, the VM behind h1. The VM never announces itself (arp_notify off, no IPv6).
  await addVeth({ name: 'user', ns: pe }, { name: 'eth0', ns: user });
  await setMaster(pe, 'user', o.bridge);
  await addAddress(user, 'eth0', `${o.userIp}/24`);
  await linkUp(user, 'eth0');
  // The VM: a bridge (STP off, the VM's MAC and IP) with isolated ports (they never forward to each other,
  // even while two are up during a switch-over), one towards each place; only the first place's is up.
  await nsExec(vm, 'sysctl', ['-qw', 'net.ipv4.conf.all.arp_notify=0', 'net.ipv4.conf.default.arp_notify=0']);
  await ip(['-n', vm, 'link', 'add', 'vmbr', 'address', o.vmMac, 'type', 'bridge', 'stp_state', '0']);
  await ip(['-n', vm, 'link', 'set', 'vmbr', 'addrgenmode', 'none', 'up']);
  await addAddress(vm, 'vmbr', `${o.vmIp}/24`);
  const places = o.vmPlaces ?? ['h1', 'h2'];
  for (const [i, place] of places.entries()) {
    const at = placeNs({ pe, h1, h2 }, place);
    await addVeth({ name: `to-${place}`, ns: vm }, { name: 'vm1', ns: at });
    await ip(['-n', vm, 'link', 'set', `to-${place}`, 'master', 'vmbr']);
    await ip(['-n', vm, 'link', 'set', `to-${place}`, 'type', 'bridge_slave', 'isolated', 'on']);
    await setMaster(at, 'vm1', o.bridge);
    if (i === 0) await linkUp(vm, `to-${place}`);
  }
  return { ul, pe, user, h1, h2, vm };
}

/**
 * A veth from the root namespace (`<scheme><pid>`, owned by the lab) to the PE
 * (`peIf`), with these addresses (CIDR) on each end; returns the root end's name.
 */
export async function linkRootToPe(lab: NetnsLab, pe: string, o: { scheme: string; peIf: string; rootCidrs: readonly string[]; peCidr: string }): Promise<string> {
  const rootLink = `${o.scheme}${process.pid}`;
  await addVeth({ name: rootLink }, { name: o.peIf, ns: pe });
  lab.ownRootLink(rootLink);
  for (const a of o.rootCidrs) await addAddress(undefined, rootLink, a);
  await linkUp(undefined, rootLink);
  await addAddress(pe, o.peIf, o.peCidr);
  await linkUp(pe, o.peIf);
  return rootLink;
}

/**
 * The VM's ports (see buildTopology): `movePort(to)` brings the port towards
 * `to` up and then the current one down, in the VM's namespace, as a live
 * migration's switch-over does (the VM is never without a link). The old
 * place's `vm1` loses its carrier, which flushes what its bridge learned on it.
 */
export function vmPort<At extends string>(vmNs: string, start: At): { portAt(): At; movePort(to: At): Promise<number> } {
  let portAt = start;
  return {
    portAt: () => portAt,
    async movePort(to) {
      const t1 = Date.now();
      if (to === portAt) return 0;
      await ip(['-n', vmNs, 'link', 'set', `to-${to}`, 'up']);
      const ms = Date.now() - t1;
      await ip(['-n', vmNs, 'link', 'set', `to-${portAt}`, 'down']);
      portAt = to;
      return ms;
    },
  };
}

/** Opens a WatchMobility stream and logs its events; `what` names it in timeouts. */
export function watchEvents(api: VmmiClient, what: string, intervalMs: number): { call: grpc.ClientReadableStream<MobilityEvent__Output>; log: EventLog } {
  const events: MobilityEvent__Output[] = [];
  const call = api.mobility.watchMobility({});
  call.on('data', (e: MobilityEvent__Output) => events.push(e));
  call.on('error', () => undefined);
  return {
    call,
    log: {
      events,
      next: (kind, from = 0, timeoutMs = 5_000) =>
        waitFor(() => events.slice(from).find((e) => e.kind === kind), { what: `a ${kind} event on ${what}`, timeoutMs, intervalMs }),
    },
  };
}

export async function listVms(api: VmmiClient): Promise<Vm__Output[]> {
  return (await unaryCall<ListVmsResponse__Output>((cb) => api.mobility.listVms({}, cb))).vms;
}

/** The PE's FDB reader and its wait for the VM at one VTEP. */
export function peFdbOf(pe: string, vxlan: string, vmMac: string): { peFdb(): Promise<PeFdb>; waitPeAt(vtep: string, what: string): Promise<PeFdb> } {
  const peFdb = async (): Promise<PeFdb> => {
    const entries = await fdbShow(pe, vxlan);
    const vmEntries = entries.filter((e) => e.mac === vmMac && e.dst !== undefined);
    return {
      vm: vmEntries.map((e) => e.dst!).sort(),
      flood: entries.filter((e) => e.mac === ZERO_MAC && e.dst !== undefined).map((e) => e.dst!).sort(),
      externLearn: vmEntries.length > 0 && vmEntries.every((e) => e.flags.includes('extern_learn')),
    };
  };
  return {
    peFdb,
    waitPeAt: (vtep, what) =>
      waitFor(peFdb, {
        what,
        until: (f) => f.vm.length === 1 && f.vm[0] === vtep && f.externLearn && f.flood.length === 1 && f.flood[0] === vtep,
        intervalMs: 5,
        timeoutMs: 10_000,
      }),
  };
}

/** The user's `ping -i 0.01` to the VM: one at a time; `cleanup` stops whatever still runs. */
export class LabPing {
  private ping: NsProcess | undefined;
  start(ns: string, target: string): PingLog {
    if (this.ping !== undefined) throw new Error('one ping per lab');
    const log = new PingLog();
    this.ping = spawnInNetns(ns, 'ping', ['-n', '-i', '0.01', '-W', '1', target], (d) => log.feed(d));
    return log;
  }
  async stop(): Promise<PingSummary> {
    const p = this.ping;
    if (p === undefined) throw new Error('no ping running');
    p.child.kill('SIGINT');
    await waitFor(() => /(\d+) packets transmitted, (\d+) received/.test(p.output()), { what: 'ping summary', timeoutMs: 5_000 });
    await p.stop('SIGINT');
    this.ping = undefined;
    const s = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(p.output())!;
    const transmitted = Number(s[1]);
    return { transmitted, received: Number(s[2]), intervalMs: Number(s[3]) / Math.max(1, transmitted - 1) };
  }
  async cleanup(): Promise<unknown> {
    return this.ping?.stop('SIGINT');
  }
}

/**
 * Runs `step`, which returns once the control plane is where it should be,
 * then waits for 10 further replies (100 ms of traffic): the replies
 * missing since just before the step are what it cost.
 */
export async function lossOf(log: PingLog, what: string, step: () => Promise<void>): Promise<number> {
  const before = log.max;
  await step();
  const resumed = log.max;
  await waitFor(() => log.max >= resumed + 10, { what: `${what}: ping replies`, timeoutMs: 5_000, intervalMs: 10 });
  return log.missing(before, log.max).length;
}
