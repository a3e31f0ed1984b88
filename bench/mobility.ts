/**
 * VM mobility end to end: N VMs sit at VTEP A, 4 established route-reflector
 * clients hold their routes, and then VMs move to VTEP B.
 *   single move: one VM at a time; from the move until every peer has the
 *                VM's routes at the new RD (and the withdrawal of the old RD).
 *   evacuation:  all N VMs at once (a rack evacuation); until every peer has
 *                every new location and every withdrawal.
 * vmmid is driven through its gRPC API (AnnounceVm at B: sequence + 1), as a
 * hypervisor agent drives it. FRR has no agent API, so its figure is for the
 * same move as a PE sends it to FRR as route reflector: the route at RD B:EVI
 * with MAC Mobility sequence + 1 and the withdrawal of the RD A:EVI route,
 * from one more client (the injector), reflected to the same 4 clients.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/evpn/index.js';
import type { AnnounceVmResponse__Output } from '../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { AnnounceVmsResponse__Output } from '../gen/proto/vmmi/v1/AnnounceVmsResponse.js';
import { type VmmiClient, connect, unaryCall } from '../src/api/client.js';
import type { PathAttributes } from '../src/bgp/wire/attributes.js';
import { Origin } from '../src/bgp/wire/constants.js';
import { L2VPN_EVPN } from '../src/bgp/wire/family.js';
import { parseRd } from '../src/bgp/wire/rd.js';
import { encodeAnnouncements, encodeWithdrawals } from '../src/bgp/wire/update-encode.js';
import { type MacIpRoute, TunnelType, encodeExtCommunities, labelFromVni, macIpRoute, routeTarget } from '../src/evpn/index.js';
import { benchVmmidConfig, startVmmid } from './api.js';
import { type ReceiverName, RECEIVERS } from './args.js';
import { wasInterrupted } from './cleanup.js';
import { CpuWatch } from './cpu.js';
import { walkEvpnUpdate } from './evpn-counter.js';
import { count, fixed, table } from './format.js';
import { LoadGen, nowMs } from './loadgen.js';
import { PROBES } from './receivers.js';
import { REFLECTOR_KINDS, RR_ADDRESSES, type Reflector, receiverAddress, until } from './reflectors.js';
import { PACK } from './table.js';

export const MOBILITY_DEFAULTS = { vms: 10_000, timeoutSec: 120 } as const;

const PEERS = 4;
const CONCURRENCY = 64;
/** VMs moved one at a time (at most N), spread over the table. */
const SINGLE_MOVES = 1_000;
/** Between one move's arrival everywhere and the next move, so each is a lone change to the daemon. */
const GAP_MS = 5;
/** A single move that has not reached every peer by then is counted lost. */
const SINGLE_TIMEOUT_MS = 3_000;
/** vmmid's agents are anonymous on a loopback API: no TLS in the times. */
const VMMID = '127.0.8.1';
const VMMID_BGP_PORT = 179;
const VMMID_API_PORT = 50062;
const vmmidPeer = (i: number): string => `127.0.8.${11 + i}`;
const ASN = 65000;
const VNI = 10100;
/** The EVI is the VNI, so the RDs are VTEP:10100 (RFC 7432 §7.9), as vmmid derives them. */
const VTEP_A = '10.0.0.21';
const VTEP_B = '10.0.0.22';
const HOLD_TIME = 180;

/** MAC 02:b1:NN:NN:NN:NN, NN the VM's number; one IPv4 address each, 100.64.0.0/10 upwards. */
const MAC_PREFIX = [0x02, 0xb1] as const;
const macBytes = (i: number): Buffer =>
  Buffer.from([MAC_PREFIX[0], MAC_PREFIX[1], (i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
const macOf = (i: number): string => [...macBytes(i)].map((b) => b.toString(16).padStart(2, '0')).join(':');
const ipOf = (i: number): string => `100.${64 + ((i >>> 16) & 0x3f)}.${(i >>> 8) & 0xff}.${i & 0xff}`;
/** 100.64.0.0/10 holds 4M addresses. */
const MAX_VMS = 1 << 22;

function rdOf(vtep: string): Buffer {
  const r = parseRd(`${vtep}:${VNI}`);
  if (!r.ok) throw new Error(r.error);
  return r.value.raw;
}

// Arrivals ---------------------------------------------------------------------

/**
 * Offsets in a MAC/IP NLRI from its route type octet: Type(1) Length(1)
 * RD(8) ESI(10) Tag(4) MACLen(1) MAC(6) IPLen(1)...
 */
const RD_AT = 2;
const MAC_AT = 25;
const NUMBER_AT = MAC_AT + 2;
const IPLEN_AT = 31;
const MAC_IP = 2;

/** Per (peer, VM): which of the move's four changes the peer has seen. */
const NEW_MAC = 1;
const NEW_MAC_IP = 2;
const OLD_MAC_GONE = 4;
const OLD_MAC_IP_GONE = 8;
const NEW_BOTH = NEW_MAC | NEW_MAC_IP;

/**
 * Watches every peer's UPDATEs for the VMs of the current phase: their two
 * routes (MAC, MAC+IP) announced in MP_REACH_NLRI at the target RD, and
 * withdrawn in MP_UNREACH_NLRI at the source RD. Records when the last peer
 * had the new routes, and when it also had both withdrawals.
 */
class MoveWatch {
  private readonly bits: Uint8Array[];
  private readonly active: Uint8Array;
  private readonly newPeers: Uint8Array;
  private readonly donePeers: Uint8Array;
  /** When the last peer had the VM's routes at the target RD. */
  readonly newAt: Float64Array;
  /** When the last peer also had the source RD's routes withdrawn (= newAt when nothing is withdrawn). */
  readonly doneAt: Float64Array;
  private to: Buffer = Buffer.alloc(8);
  private from?: Buffer;
  private want = NEW_BOTH;
  pendingNew = 0;
  pendingDone = 0;
  lastNew = 0;
  lastDone = 0;
  readonly endOfRibAt: (number | undefined)[];
  /** Called when a VM of the phase is done at every peer. */
  onDone?: (vm: number) => void;

  constructor(
    private readonly vms: number,
    private readonly peers: number,
  ) {
    this.bits = Array.from({ length: peers }, () => new Uint8Array(vms));
    this.active = new Uint8Array(vms);
    this.newPeers = new Uint8Array(vms);
    this.donePeers = new Uint8Array(vms);
    this.newAt = new Float64Array(vms);
    this.doneAt = new Float64Array(vms);
    this.endOfRibAt = Array.from({ length: peers }, () => undefined);
  }

  /** The next phase: `list` move to the RD `to`, withdrawn from `from` (none: a first announcement). */
  begin(list: Iterable<number>, to: Buffer, from: Buffer | undefined): void {
    this.active.fill(0);
    this.to = to;
    this.from = from;
    this.want = from === undefined ? NEW_BOTH : NEW_BOTH | OLD_MAC_GONE | OLD_MAC_IP_GONE;
    this.pendingNew = 0;
    this.pendingDone = 0;
    this.lastNew = 0;
    this.lastDone = 0;
    for (const vm of list) {
      if (this.active[vm] === 1) continue;
      this.active[vm] = 1;
      for (const b of this.bits) b[vm] = 0;
      this.newPeers[vm] = 0;
      this.donePeers[vm] = 0;
      this.newAt[vm] = Number.NaN;
      this.doneAt[vm] = Number.NaN;
      this.pendingNew++;
      this.pendingDone++;
    }
  }

  onUpdate(peer: number, b: Buffer, at: number): void {
    const eor = walkEvpnUpdate(b, (from, to, reach) => this.walk(peer, b, from, to, reach, at));
    if (eor) this.endOfRibAt[peer] ??= at;
  }

  private walk(peer: number, b: Buffer, from: number, to: number, reach: boolean, at: number): void {
    const bits = this.bits[peer]!;
    const rd = reach ? this.to : this.from;
    if (rd === undefined) return;
    for (let q = from; q + 2 <= to; q += 2 + b[q + 1]!) {
      if (b[q] !== MAC_IP || b[q + 1]! <= IPLEN_AT - 2 || b[q + MAC_AT] !== MAC_PREFIX[0] || b[q + MAC_AT + 1] !== MAC_PREFIX[1]) continue;
      const vm = b.readUInt32BE(q + NUMBER_AT);
      if (vm >= this.vms || this.active[vm] !== 1 || b.compare(rd, 0, 8, q + RD_AT, q + RD_AT + 8) !== 0) continue;
      const macOnly = b[q + IPLEN_AT] === 0;
      const bit = reach ? (macOnly ? NEW_MAC : NEW_MAC_IP) : macOnly ? OLD_MAC_GONE : OLD_MAC_IP_GONE;
      const before = bits[vm]!;
      const after = before | bit;
      if (after === before) continue;
      bits[vm] = after;
      if ((before & NEW_BOTH) !== NEW_BOTH && (after & NEW_BOTH) === NEW_BOTH && ++this.newPeers[vm]! === this.peers) {
        this.newAt[vm] = at;
        this.lastNew = Math.max(this.lastNew, at);
        this.pendingNew--;
      }
      if ((after & this.want) === this.want && (before & this.want) !== this.want && ++this.donePeers[vm]! === this.peers) {
        this.doneAt[vm] = at;
        this.lastDone = Math.max(this.lastDone, at);
        this.pendingDone--;
        this.onDone?.(vm);
      }
    }
  }

  /** Resolves true once `vm` is done everywhere, false after `timeoutMs`. */
  waitVm(vm: number, timeoutMs: number): Promise<boolean> {
    if (!Number.isNaN(this.doneAt[vm]!)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onDone = undefined;
        resolve(false);
      }, timeoutMs);
      this.onDone = (v) => {
        if (v !== vm) return;
        clearTimeout(timer);
        this.onDone = undefined;
        resolve(true);
      };
    });
  }
}

// Results ----------------------------------------------------------------------

interface Single {
  /** vmmid: AnnounceVm reply. */
  readonly reply?: readonly number[];
  /** Until every peer had the VM's routes at the new RD. */
  readonly fresh: readonly number[];
  /** Until every peer also had the old RD's routes withdrawn. */
  readonly done: readonly number[];
  readonly lost: number;
}

interface Evacuation {
  /** Seconds from the first call / the injector's first write. */
  readonly replySeconds?: number;
  readonly freshSeconds: number;
  readonly doneSeconds: number;
  readonly cpuSeconds: number;
  /** The bench process (callers or injector, the 4 peers' sessions) until then. */
  readonly benchCpuSeconds: number;
}

type Outcome =
  | { readonly kind: 'done'; readonly setupSeconds: number; readonly single: Single; readonly evacuation: Evacuation; readonly note?: string }
  | { readonly kind: 'failed' | 'skipped'; readonly reason: string };

export interface MobilityOptions {
  readonly vms: number;
  readonly receivers: readonly ReceiverName[];
  readonly timeoutSec: number;
  /** Run vmmid under --cpu-prof, writing into this directory. */
  readonly cpuProfDir?: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The VMs moved one at a time: evenly spread over 0..n-1. */
function singles(n: number): number[] {
  const k = Math.min(SINGLE_MOVES, n);
  return Array.from({ length: k }, (_, j) => Math.floor((j * n) / k));
}

async function waitAll(w: MoveWatch, timeoutSec: number, what: string, failed: () => string | undefined): Promise<void> {
  const deadline = nowMs() + timeoutSec * 1000;
  for (;;) {
    if (w.pendingDone === 0) return;
    if (wasInterrupted()) throw new Error('interrupted');
    const why = failed();
    if (why !== undefined) throw new Error(why);
    if (nowMs() > deadline) throw new Error(`${what}: ${count(w.pendingDone)} VMs not at every peer after ${timeoutSec} s`);
    await sleep(2);
  }
}

function sessionFailure(peers: readonly LoadGen[], names: readonly string[]): string | undefined {
  const i = peers.findIndex((p) => p.failure !== undefined);
  return i >= 0 ? `peer ${names[i]}: ${peers[i]!.failure!.message}` : undefined;
}

// vmmid ------------------------------------------------------------------------


function announce(c: VmmiClient, i: number, vtep: string): Promise<AnnounceVmResponse__Output> {
  return unaryCall((cb) => c.mobility.announceVm({ vmId: `vm-${i}`, network: { name: 'blue' }, mac: macOf(i), ips: [ipOf(i)], vtep }, cb));
}

/** `list` announced at `vtep` by CONCURRENCY callers; resolves with the time of the last reply. */
async function announceAll(c: VmmiClient, list: readonly number[], vtep: string): Promise<number> {
  let next = 0;
  let last = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length && !wasInterrupted()) {
      const i = list[next++]!;
      await announce(c, i, vtep);
      last = nowMs();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return last;
}

/** VMs per AnnounceVms call and calls in flight for the evacuation: how an agent moves a rack. */
const BATCH = 500;
const BATCHES_IN_FLIGHT = 4;

/** `list` announced at `vtep` with AnnounceVms; resolves with the time of the last reply. */
async function announceBatched(c: VmmiClient, list: readonly number[], vtep: string): Promise<number> {
  let next = 0;
  let last = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length && !wasInterrupted()) {
      const chunk = list.slice(next, next + BATCH);
      next += BATCH;
      const vms = chunk.map((i) => ({ vmId: `vm-${i}`, network: { name: 'blue' }, mac: macOf(i), ips: [ipOf(i)], vtep }));
      const r = await unaryCall<AnnounceVmsResponse__Output>((cb) => c.mobility.announceVms({ vms }, cb));
      const bad = r.results.find((x) => x.code !== 'OK');
      if (bad) throw new Error(`AnnounceVms: ${bad.code} ${bad.message}`);
      last = nowMs();
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, worker));
  return last;
}

async function runVmmid(o: MobilityOptions): Promise<Outcome> {
  const n = o.vms;
  const dir = mkdtempSync(join(tmpdir(), 'vmmi-mobility-bench-'));
  const file = join(dir, 'vmmid.yaml');
  writeFileSync(
    file,
    benchVmmidConfig({
      address: VMMID, bgpPort: VMMID_BGP_PORT, apiPort: VMMID_API_PORT, peers: Array.from({ length: PEERS }, (_, i) => vmmidPeer(i)),
      vni: VNI, vteps: [VTEP_A, VTEP_B], store: join(dir, 'store'),
    }),
  );
  const watch = new MoveWatch(n, PEERS);
  const peers: LoadGen[] = [];
  const names = Array.from({ length: PEERS }, (_, i) => vmmidPeer(i));
  let client: VmmiClient | undefined;
  let cpu: CpuWatch | undefined;
  let vmmid: Awaited<ReturnType<typeof startVmmid>> | undefined;
  try {
    vmmid = await startVmmid(file, o.cpuProfDir);
    const child = vmmid.child;
    for (let p = 0; p < PEERS; p++) {
      peers.push(
        await LoadGen.connect({
          host: VMMID, port: VMMID_BGP_PORT, localAddress: names[p]!, asn: ASN, routerId: names[p]!, holdTime: HOLD_TIME,
          connectTimeoutMs: 10_000, families: [L2VPN_EVPN], gracefulRestart: true, onUpdate: (body, at) => watch.onUpdate(p, body, at),
        }),
      );
    }
    const failed = (): string | undefined => (child.exitCode !== null ? 'vmmid exited' : sessionFailure(peers, names));
    client = connect({ api: `${VMMID}:${VMMID_API_PORT}` });
    const c = client;
    const rdA = rdOf(VTEP_A);
    const rdB = rdOf(VTEP_B);
    const all = Array.from({ length: n }, (_, i) => i);

    // Setup (untimed for the result): every VM at A.
    process.stderr.write(`mobility: vmmid: announcing ${count(n)} VMs at A... `);
    watch.begin(all, rdA, undefined);
    const s0 = nowMs();
    await announceAll(c, all, VTEP_A);
    await waitAll(watch, o.timeoutSec, 'setup', failed);
    const setupSeconds = (watch.lastDone - s0) / 1000;
    process.stderr.write(`${fixed(setupSeconds, 2)} s\n`);
    await sleep(500);

    // Single moves.
    const one = singles(n);
    process.stderr.write(`mobility: vmmid: ${count(one.length)} single moves... `);
    const reply: number[] = [];
    const fresh: number[] = [];
    const done: number[] = [];
    let lost = 0;
    for (const vm of one) {
      if (wasInterrupted()) throw new Error('interrupted');
      watch.begin([vm], rdB, rdA);
      const t0 = nowMs();
      const r = await announce(c, vm, VTEP_B);
      reply.push(nowMs() - t0);
      if (r.sequence !== 1 || r.previousVtep !== VTEP_A) throw new Error(`vm-${vm}: moved with sequence ${r.sequence} from "${r.previousVtep}", expected 1 from ${VTEP_A}`);
      if (await watch.waitVm(vm, SINGLE_TIMEOUT_MS)) {
        fresh.push(watch.newAt[vm]! - t0);
        done.push(watch.doneAt[vm]! - t0);
      } else lost++;
      const why = failed();
      if (why !== undefined) throw new Error(why);
      await sleep(GAP_MS);
    }
    process.stderr.write(`median ${fixed(percentile([...done].sort((a, b) => a - b), 50), 2)} ms\n`);

    // Back to A, so the evacuation moves all N from A (untimed).
    watch.begin(one, rdA, rdB);
    await announceAll(c, one, VTEP_A);
    await waitAll(watch, o.timeoutSec, 'moving the single-move VMs back', failed);
    await sleep(500);

    // The evacuation.
    process.stderr.write(`mobility: vmmid: evacuating ${count(n)} VMs... `);
    cpu = new CpuWatch(child.pid!);
    watch.begin(all, rdB, rdA);
    const bench0 = process.cpuUsage();
    const e0 = nowMs();
    const lastReply = await announceBatched(c, all, VTEP_B);
    await waitAll(watch, o.timeoutSec, 'evacuation', failed);
    const bench = process.cpuUsage(bench0);
    await sleep(cpu.intervalMs * 2);
    const evacuation: Evacuation = {
      replySeconds: (lastReply - e0) / 1000,
      freshSeconds: (watch.lastNew - e0) / 1000,
      doneSeconds: (watch.lastDone - e0) / 1000,
      cpuSeconds: cpu.cpuSeconds(e0, watch.lastDone),
      benchCpuSeconds: (bench.user + bench.system) / 1e6,
    };
    process.stderr.write(`${fixed(evacuation.doneSeconds, 2)} s\n`);
    return { kind: 'done', setupSeconds, single: { reply, fresh, done, lost }, evacuation };
  } catch (e) {
    process.stderr.write(`failed: ${errorText(e)}\n`);
    return { kind: 'failed', reason: errorText(e) };
  } finally {
    cpu?.stop();
    client?.close();
    // vmmid first: closing the sessions first would set it withdrawing to the rest.
    await vmmid?.stop();
    for (const p of peers) p.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

// FRR --------------------------------------------------------------------------

/** The PE's attributes for a VM's routes at `vtep` with MAC Mobility `seq`, as vmmid sends them. */
function peAttrs(seq: number): PathAttributes {
  return {
    origin: Origin.Igp,
    asPath: [],
    localPref: 100,
    extCommunities: encodeExtCommunities([
      routeTarget('as2', ASN, VNI),
      { kind: 'encapsulation', tunnelType: TunnelType.Vxlan },
      { kind: 'mac-mobility', sticky: false, seq },
    ]),
  };
}

/** A VM's two type-2 routes at `vtep`: MAC only, and MAC + its IPv4 address. */
function vmRoutes(i: number, vtep: string): MacIpRoute[] {
  const rd = `${vtep}:${VNI}`;
  const mac = macBytes(i);
  const label1 = labelFromVni(VNI);
  return [macIpRoute({ rd, tag: 0, mac, label1 }), macIpRoute({ rd, tag: 0, mac, ip: ipOf(i), label1 })];
}

const vtepBytes = (vtep: string): Buffer => Buffer.from(vtep.split('.').map(Number));

/** VMs per batch of a burst: their announcements fit one 4096-byte UPDATE, their withdrawals another. */
const BURST_BATCH = 50;

/**
 * What a PE sends when `list` move from `from` to `to` (or, with no `from`,
 * appear at `to`): per batch of VMs, the UPDATE announcing them at the new RD
 * with their new sequence numbers, then the UPDATE withdrawing the old RD's.
 */
function moveMessages(list: readonly number[], seq: Uint32Array, to: string, from: string | undefined): Buffer[] {
  const out: Buffer[] = [];
  const nh = vtepBytes(to);
  for (let k = 0; k < list.length; k += BURST_BATCH) {
    const batch = list.slice(k, k + BURST_BATCH);
    const bySeq = new Map<number, MacIpRoute[]>();
    for (const vm of batch) {
      const s = seq[vm]!;
      let l = bySeq.get(s);
      if (l === undefined) bySeq.set(s, (l = []));
      l.push(...vmRoutes(vm, to));
    }
    for (const [s, routes] of bySeq) out.push(...encodeAnnouncements(L2VPN_EVPN, peAttrs(s), routes, PACK, nh));
    if (from !== undefined) out.push(...encodeWithdrawals(L2VPN_EVPN, batch.flatMap((vm) => vmRoutes(vm, from)), PACK));
  }
  return out;
}

/** Messages joined into writes of about 1 MiB; resolves with the time of the first write. */
function burst(injector: LoadGen, messages: readonly Buffer[]): number {
  let first: number | undefined;
  let pending: Buffer[] = [];
  let size = 0;
  const flush = (): void => {
    const at = injector.sendMessage(Buffer.concat(pending, size));
    first ??= at;
    pending = [];
    size = 0;
  };
  for (const m of messages) {
    if (size + m.length > 1 << 20 && pending.length > 0) flush();
    pending.push(m);
    size += m.length;
  }
  if (pending.length > 0) flush();
  return first ?? nowMs();
}

async function runFrr(o: MobilityOptions): Promise<Outcome> {
  const n = o.vms;
  const watch = new MoveWatch(n, PEERS);
  const names = Array.from({ length: PEERS }, (_, i) => receiverAddress(i));
  const peers: LoadGen[] = [];
  let injector: LoadGen | undefined;
  let reflector: Reflector | undefined;
  let cpu: CpuWatch | undefined;
  try {
    reflector = await REFLECTOR_KINDS.frr.start({ clients: [RR_ADDRESSES.injector, ...names], runName: `mobility-frr-${n}` });
    const r = reflector;
    const session = (address: string, onUpdate: (body: Buffer, at: number) => void): Promise<LoadGen> =>
      LoadGen.connect({
        host: r.address, port: r.port, localAddress: address, asn: ASN, routerId: address, holdTime: HOLD_TIME,
        connectTimeoutMs: 20_000, families: [L2VPN_EVPN], gracefulRestart: true, onUpdate,
      });
    for (let p = 0; p < PEERS; p++) peers.push(await session(names[p]!, (body, at) => watch.onUpdate(p, body, at)));
    // The injector is a route-reflector client too; what FRR sends back to it is not watched.
    injector = await session(RR_ADDRESSES.injector, () => undefined);
    const inj = injector;
    const failed = (): string | undefined =>
      r.exited() ?? (inj.failure !== undefined ? `injector: ${inj.failure.message}` : sessionFailure(peers, names));
    // FRR holds a new peer's first advertisement for its coalesce time; End-of-RIB says it is over.
    await until(() => watch.endOfRibAt.every((t) => t !== undefined), REFLECTOR_KINDS.frr.endOfRibWaitMs);

    const seq = new Uint32Array(n);
    const all = Array.from({ length: n }, (_, i) => i);
    const rdA = rdOf(VTEP_A);
    const rdB = rdOf(VTEP_B);

    // Setup: every VM at A with sequence 0.
    process.stderr.write(`mobility: FRR: injecting ${count(n)} VMs at A... `);
    const setup = moveMessages(all, seq, VTEP_A, undefined);
    watch.begin(all, rdA, undefined);
    const s0 = burst(inj, setup);
    await waitAll(watch, o.timeoutSec, 'setup', failed);
    const setupSeconds = (watch.lastDone - s0) / 1000;
    process.stderr.write(`${fixed(setupSeconds, 2)} s\n`);
    await sleep(500);

    // Single moves: each VM's route at B with sequence 1, and the withdrawal at A, written at once.
    const one = singles(n);
    const messages = one.map((vm) => {
      seq[vm]!++;
      return Buffer.concat(moveMessages([vm], seq, VTEP_B, VTEP_A));
    });
    process.stderr.write(`mobility: FRR: ${count(one.length)} single moves... `);
    const fresh: number[] = [];
    const done: number[] = [];
    let lost = 0;
    for (let k = 0; k < one.length; k++) {
      if (wasInterrupted()) throw new Error('interrupted');
      const vm = one[k]!;
      watch.begin([vm], rdB, rdA);
      const t0 = inj.sendMessage(messages[k]!);
      if (await watch.waitVm(vm, SINGLE_TIMEOUT_MS)) {
        fresh.push(watch.newAt[vm]! - t0);
        done.push(watch.doneAt[vm]! - t0);
      } else lost++;
      const why = failed();
      if (why !== undefined) throw new Error(why);
      await sleep(GAP_MS);
    }
    process.stderr.write(`median ${fixed(percentile([...done].sort((a, b) => a - b), 50), 2)} ms\n`);

    // Back to A (sequence 2), untimed.
    for (const vm of one) seq[vm]!++;
    const back = moveMessages(one, seq, VTEP_A, VTEP_B);
    watch.begin(one, rdA, rdB);
    burst(inj, back);
    await waitAll(watch, o.timeoutSec, 'moving the single-move VMs back', failed);
    await sleep(500);

    // The evacuation: one burst, encoded before the clock starts.
    for (const vm of all) seq[vm]!++;
    const evac = moveMessages(all, seq, VTEP_B, VTEP_A);
    const bytes = evac.reduce((a, m) => a + m.length, 0);
    process.stderr.write(`mobility: FRR: evacuating ${count(n)} VMs (${count(evac.length)} UPDATEs, ${count(bytes)} bytes)... `);
    cpu = new CpuWatch(r.pid);
    await sleep(cpu.intervalMs * 2);
    watch.begin(all, rdB, rdA);
    const bench0 = process.cpuUsage();
    const e0 = burst(inj, evac);
    await waitAll(watch, o.timeoutSec, 'evacuation', failed);
    const bench = process.cpuUsage(bench0);
    await sleep(cpu.intervalMs * 2);
    const evacuation: Evacuation = {
      freshSeconds: (watch.lastNew - e0) / 1000,
      doneSeconds: (watch.lastDone - e0) / 1000,
      cpuSeconds: cpu.cpuSeconds(e0, watch.lastDone),
      benchCpuSeconds: (bench.user + bench.system) / 1e6,
    };
    process.stderr.write(`${fixed(evacuation.doneSeconds, 2)} s\n`);
    const note = `FRR evacuation burst: ${count(evac.length)} UPDATEs, ${count(bytes)} bytes (per ${BURST_BATCH} VMs: the routes at B, then the withdrawals at A)`;
    return { kind: 'done', setupSeconds, single: { fresh, done, lost }, evacuation, note };
  } catch (e) {
    process.stderr.write(`failed: ${errorText(e)}\n`);
    return { kind: 'failed', reason: errorText(e) };
  } finally {
    cpu?.stop();
    // The reflector goes first: ending the sessions first would set it withdrawing the table.
    await reflector?.stop();
    for (const p of peers) p.close();
    injector?.close();
  }
}

// Report -----------------------------------------------------------------------

type Name = Extract<ReceiverName, 'vmmid' | 'frr'>;

export async function runMobility(o: MobilityOptions): Promise<boolean> {
  const n = o.vms;
  if (n > MAX_VMS) throw new Error(`mobility: at most ${count(MAX_VMS)} VMs`);
  const order = RECEIVERS.filter((r): r is Name => (r === 'vmmid' || r === 'frr') && o.receivers.includes(r));
  const k = Math.min(SINGLE_MOVES, n);
  console.log(`mobility: VM moves from VTEP A ${VTEP_A} to VTEP B ${VTEP_B}; ${count(n)} VMs (MAC + one IPv4: 2 type-2 routes each, RD VTEP:${VNI}, RT ${ASN}:${VNI}), ${PEERS} established route-reflector clients (l2vpn-evpn), all iBGP AS ${ASN}.`);
  console.log('  vmmid: AnnounceVm at B over the gRPC API (plain-text loopback, store on: each reply after fdatasync) -> the UPDATEs at every peer.');
  console.log('  FRR (no agent API): the PE\'s UPDATEs from an injector client (route at RD B with MAC Mobility sequence + 1, withdrawal at RD A) -> reflected to every peer.');
  console.log('  So vmmid is timed from the API call, FRR from the injector\'s write of the UPDATE. Arrival: when the chunk carrying it was read.');
  if (o.receivers.includes('gobgp')) console.log('  GoBGP is not run here: its EVPN table takes 3-11 s for 10-20k routes (see rr).');

  if (order.length === 0) {
    console.log('  nothing to run: --receivers names neither vmmid nor frr');
    return true;
  }
  const results = new Map<Name, { label: string; outcome: Outcome }>();
  for (const name of order) {
    if (wasInterrupted()) break;
    const label = await (name === 'vmmid' ? PROBES.vmmid.version() : PROBES.frr.version()).catch(() => name);
    const why = name === 'frr' ? PROBES.frr.unavailable() : undefined;
    const outcome: Outcome = why !== undefined ? { kind: 'skipped', reason: why } : name === 'vmmid' ? await runVmmid(o) : await runFrr(o);
    results.set(name, { label, outcome });
  }

  const done = (name: Name): Extract<Outcome, { kind: 'done' }> | undefined => {
    const x = results.get(name)?.outcome;
    return x?.kind === 'done' ? x : undefined;
  };
  console.log('');
  console.log(`  single move: ${count(k)} VMs, one at a time (${GAP_MS} ms after the previous one reached every peer); ms from the call / the write`);
  const rows: string[][] = [];
  const stats = (xs: readonly number[]): string[] => {
    const s = [...xs].sort((a, b) => a - b);
    return [fixed(percentile(s, 50), 2), fixed(percentile(s, 99), 2), fixed(s.at(-1) ?? Number.NaN, 2)];
  };
  for (const [name, { label, outcome }] of results) {
    if (outcome.kind !== 'done') {
      rows.push([label, outcome.kind === 'skipped' ? 'skipped' : 'FAILED', '', '', '', '']);
      continue;
    }
    const s = outcome.single;
    if (name === 'vmmid' && s.reply !== undefined) rows.push([label, 'AnnounceVm reply', ...stats(s.reply), '']);
    rows.push([label, `new route at all ${PEERS} peers`, ...stats(s.fresh), String(s.lost)]);
    rows.push([label, '+ old RD withdrawn', ...stats(s.done), String(s.lost)]);
  }
  console.log(table(['daemon', 'measure', 'median ms', 'p99 ms', 'max ms', 'lost'], rows).replace(/^/gm, '    '));

  console.log('');
  console.log(
    `  rack evacuation: all ${count(n)} VMs from A to B at once (vmmid: AnnounceVms, ${BATCH} VMs a call, ${BATCHES_IN_FLIGHT} calls in flight; FRR: one burst); seconds from the first call / write`,
  );
  const erows: string[][] = [];
  for (const [, { label, outcome }] of results) {
    if (outcome.kind !== 'done') {
      erows.push([label, outcome.kind === 'skipped' ? 'skipped' : 'FAILED', '', '', '', '', '']);
      continue;
    }
    const e = outcome.evacuation;
    erows.push([
      label,
      e.replySeconds !== undefined ? fixed(e.replySeconds, 2) : '-',
      fixed(e.freshSeconds, 2),
      fixed(e.doneSeconds, 2),
      count(n / e.doneSeconds),
      fixed(e.cpuSeconds, 2),
      fixed(e.benchCpuSeconds, 2),
    ]);
  }
  console.log(
    table(['daemon', 'last reply s', 'new routes at all peers s', '+ withdrawals s', 'moves/s', 'CPU s', 'bench CPU s'], erows).replace(/^/gm, '    '),
  );
  console.log('    moves/s: VMs / (+ withdrawals s); CPU: the daemon\'s user+sys seconds until then (all threads);');
  console.log('    bench CPU: the bench process until then (vmmid: the gRPC caller; FRR: the injector; both: the 4 peers\' sessions)');

  const v = done('vmmid');
  const f = done('frr');
  if (v !== undefined && f !== undefined) {
    const med = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
    const p99 = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 99);
    console.log(
      `  vmmid/FRR: single move (new route at all peers) median ${fixed(med(v.single.fresh) / med(f.single.fresh), 2)}x, ` +
        `p99 ${fixed(p99(v.single.fresh) / p99(f.single.fresh), 2)}x; with the withdrawal median ${fixed(med(v.single.done) / med(f.single.done), 2)}x, ` +
        `p99 ${fixed(p99(v.single.done) / p99(f.single.done), 2)}x; evacuation ${fixed(v.evacuation.doneSeconds / f.evacuation.doneSeconds, 2)}x  ` +
        '(below 1: vmmid faster)',
    );
  }
  for (const [, { label, outcome }] of results) {
    if (outcome.kind === 'done') {
      console.log(`  ${label}: setup (untimed for the results): ${count(n)} VMs at every peer in ${fixed(outcome.setupSeconds, 2)} s`);
      if (outcome.note !== undefined) console.log(`  ${outcome.note}`);
    } else console.log(`  ${label} ${outcome.kind}: ${outcome.reason}`);
  }
  console.log(
    `  The ${count(k)} VMs moved singly go back to A (untimed) before the evacuation, so it moves all ${count(n)}; FRR's single moves include` +
      ' the ~50 ms hold of its best-path work queue (see rr).',
  );
  return [...results.values()].every((x) => x.outcome.kind !== 'failed');
}
