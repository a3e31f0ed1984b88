/**
 * Data-plane lab, two data centers (issue 5, "no roundabout"): the WAN-side
 * route for a VM's /32 follows the VM to the gateway of the data center it is
 * in now. The topology is in support/dci-lab.ts:
 *
 *   DC1 = hypervisor h1 + vmmid gw1, DC2 = hypervisor h2 + vmmid gw2; gw1 ══ iBGP EVPN (DCI) ══ gw2;
 *   both eBGP (l2vpn-evpn + ipv4-vpn) to a WAN FRR (AS 65100); an FRR PE (zebra, VXLAN) is a
 *   route-reflector client of both; a user behind the PE pings the VM every 10 ms.
 *
 * The test is both hypervisors' agent: it moves the VM's port and calls
 * AnnounceVm on the gateway of the VM's new data center, which numbers the
 * move (RFC 7432 §15) from the old data center's route it learned over the
 * DCI. The old gateway sees the newer number and yields: its type-2 routes
 * and its /32 host routes go (MOVED_AWAY on its WatchMobility). After every
 * move the WAN router's BGP table (every RD) has the /32, as VPNv4 and as
 * EVPN type-5, under the new gateway's RD only, learned from it with it as
 * next hop, and both gateways' /24 aggregates; the PE's kernel FDB points
 * at the new hypervisor.
 *
 * No roundabout: a path of any of these prefixes under one gateway's RD that
 * the WAN router learned from the other gateway (which re-advertised it with
 * itself as next hop) would draw traffic into the wrong data center. Such
 * paths are collected at every step and fail the test at the end, after the
 * timings are reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPcap, decodeFields, waitFor } from './harness/index.js';
import {
  GW_OF,
  type Gateway,
  H_VTEP,
  type Hv,
  SUBNET,
  VM_ID,
  VM_IP,
  VM_MAC,
  VRF_LABEL,
  VRF_RT,
  type DciLab,
  startDciLab,
} from './support/dci-lab.js';
import { frrEvpnRoutes, frrExtCommunities, frrNextHop, isRecord } from './support/peers.js';

/** Moves after the first announcement: h1 → h2 → h1 … */
const MOVES = 10;
/** Pings one move may lose (the agent speaks after the switch-over here, and the PE's FDB follows two gateways' UPDATEs; see interop/dataplane.test.ts). */
const MAX_LOST_PER_MOVE = 10;
const HOST = `${VM_IP}/32`;

/** One path of the WAN router's table, under some RD. */
interface WanPath {
  readonly family: 'VPNv4' | 'type-5';
  readonly prefix: string;
  readonly rd: string;
  readonly nextHop: string;
  /** The BGP neighbour that sent it. */
  readonly peer: string;
  /** FRR's best path for this RD and prefix (absent until its decision ran: "processScheduled"). */
  readonly best: boolean;
  readonly label?: number;
  readonly ecs: readonly string[];
}

/** What the WAN router has for the VM's /32 and the tenant /24, in both families. */
interface WanView {
  readonly vpnHost: WanPath[];
  readonly t5Host: WanPath[];
  readonly vpnAgg: WanPath[];
  readonly t5Agg: WanPath[];
  /** EVPN type-2 routes of the VM's MAC (what else the gateways tell the WAN router), "RD via next hop from peer". */
  readonly macIp: string[];
}

function wanPath(family: WanPath['family'], prefix: string, rd: string, p: Record<string, unknown>): WanPath {
  return {
    family,
    prefix,
    rd,
    nextHop: String(frrNextHop(p) ?? ''),
    peer: isRecord(p.peer) ? String(p.peer.peerId ?? '') : '',
    best: isRecord(p.bestpath) && p.bestpath.overall === true,
    ...(typeof p.remoteLabel === 'number' ? { label: p.remoteLabel } : {}),
    ecs: frrExtCommunities(p),
  };
}

/** Every path of `show bgp ipv4 vpn PREFIX json`, whatever its RD. */
async function vpnPaths(lab: DciLab, prefix: string): Promise<WanPath[]> {
  const j = await lab.wan.json(`show bgp ipv4 vpn ${prefix} json`);
  if (!isRecord(j)) return [];
  const out: WanPath[] = [];
  for (const [rd, entry] of Object.entries(j)) {
    if (!isRecord(entry) || !Array.isArray(entry.paths)) continue;
    for (const p of (entry.paths as unknown[]).flatMap((x) => (Array.isArray(x) ? (x as unknown[]) : [x]))) if (isRecord(p)) out.push(wanPath('VPNv4', prefix, rd, p));
  }
  return out;
}

/** How long each look at the WAN router's table took (three vtysh calls at once), for the timings' resolution. */
const pollMs: number[] = [];

async function wanView(lab: DciLab): Promise<WanView> {
  const tPoll = Date.now();
  const [vpnHost, vpnAgg, evpn] = await Promise.all([vpnPaths(lab, HOST), vpnPaths(lab, SUBNET), frrEvpnRoutes(lab.wan)]);
  const t5 = (prefix: string): WanPath[] => {
    const [ip, len] = prefix.split('/') as [string, string];
    const key = `[5]:[0]:[${len}]:[${ip}]`;
    return evpn.filter((r) => r.prefix === key || r.prefix.startsWith(`${key}:`)).flatMap((r) => r.paths.map((p) => wanPath('type-5', prefix, r.rd, p)));
  };
  const macIp = evpn
    .filter((r) => r.fields.routeType === 2 && r.fields.mac === VM_MAC)
    .flatMap((r) => r.paths.map((p) => `${r.rd} ${String(r.fields.ip ?? '') || 'MAC'} via ${String(frrNextHop(p))} from ${isRecord(p.peer) ? String(p.peer.peerId) : '?'}`));
  pollMs.push(Date.now() - tPoll);
  return { vpnHost, t5Host: t5(HOST), vpnAgg, t5Agg: t5(SUBNET), macIp };
}

/** A path the gateway originated: its RD, learned from it, it as next hop. */
const fromGw = (p: WanPath, g: Gateway): boolean => p.rd === g.rd && p.nextHop === g.address && p.peer === g.address;
const show = (ps: readonly WanPath[]): string =>
  ps.length === 0 ? 'none' : ps.map((p) => `${p.family} ${p.prefix} ${p.rd} via ${p.nextHop} from ${p.peer}${p.best ? ' (best)' : ''}`).join('; ');

/** The gateway's own path is there in this list, and FRR has decided (some path is best). */
const ownAndDecided = (ps: readonly WanPath[], g: Gateway): boolean => ps.some((p) => fromGw(p, g)) && ps.some((p) => p.best);

/** The /32 is under the gateway's RD only (every other gateway's route for it is gone), its own path in both families. */
function hostAt(v: WanView, g: Gateway): boolean {
  return ownAndDecided(v.vpnHost, g) && ownAndDecided(v.t5Host, g) && [...v.vpnHost, ...v.t5Host].every((p) => p.rd === g.rd);
}

/** Both gateways' /24 aggregates, each under its RD from itself, in both families. */
function aggregatesFromBoth(v: WanView, gws: readonly Gateway[]): boolean {
  return gws.every((g) => ownAndDecided(v.vpnAgg.filter((p) => p.rd === g.rd), g) && ownAndDecided(v.t5Agg.filter((p) => p.rd === g.rd), g));
}

/**
 * Paths that draw WAN traffic through the wrong data center: under one
 * gateway's RD but learned from, or pointing at, someone else (a gateway
 * re-advertising what it learned over the DCI with itself as next hop).
 */
function roundabouts(v: WanView, gws: readonly Gateway[]): string[] {
  return [...v.vpnHost, ...v.t5Host, ...v.vpnAgg, ...v.t5Agg].flatMap((p) => {
    const owner = gws.find((g) => g.rd === p.rd);
    if (owner !== undefined && fromGw(p, owner)) return [];
    const via = gws.find((g) => g.address === p.peer)?.name ?? p.peer;
    return [`${p.family} ${p.prefix} under ${owner?.name ?? '?'}'s RD ${p.rd} learned from ${via}, next hop ${p.nextHop}${p.best ? ': the WAN router\'s BEST path' : ''}`];
  });
}

/** The attributes of the gateway's own /32 paths. */
function assertHostAttributes(v: WanView, g: Gateway, what: string): void {
  for (const p of v.vpnHost.filter((x) => fromGw(x, g))) assert.equal(p.label, VRF_LABEL, `${what}: VPNv4 label of ${show([p])}`);
  for (const p of [...v.vpnHost, ...v.t5Host].filter((x) => fromGw(x, g))) assert.ok(p.ecs.includes(`RT:${VRF_RT}`), `${what}: export RT on ${show([p])}: ${p.ecs.join(' ')}`);
  const rmac = `Rmac:02:00:00:00:00:0${g.name === 'gw1' ? 1 : 2}`;
  for (const p of v.t5Host.filter((x) => fromGw(x, g))) assert.ok(p.ecs.includes(rmac), `${what}: ${g.name}'s Router's MAC on ${show([p])}: ${p.ecs.join(' ')}`);
}

/** Waits until `until` holds; on a timeout, fails with the WAN router's paths. */
async function settle(lab: DciLab, what: string, until: (v: WanView) => boolean, timeoutMs = 5_000): Promise<WanView> {
  try {
    return await waitFor(() => wanView(lab), { what, until, intervalMs: 5, timeoutMs });
  } catch {
    const v = await wanView(lab);
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; the WAN router has ${show([...v.vpnHost, ...v.t5Host, ...v.vpnAgg, ...v.t5Agg])}`);
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const max = (xs: readonly number[]): number => Math.max(...xs);

test('two data centers: the WAN router\'s /32 for the VM follows it between the gateways (type-5 and VPNv4, no path via the old gateway), the old gateway yields over the DCI, /24s stay', async (t) => {
  const lab = await startDciLab(t);
  if (lab === undefined) return;
  const t0 = Date.now();
  const { gw1, gw2 } = lab.gw;
  const gws = [gw1, gw2];
  /** Roundabout paths seen, by step; they fail the test at the end. */
  const violations: string[] = [];
  const note = (what: string, v: WanView): void => {
    for (const r of roundabouts(v, gws)) violations.push(`${what}: ${r}`);
  };

  // Before any VM: both aggregates, no host route.
  const v00 = await settle(lab, 'the WAN router has both /24 aggregates and no /32', (v) => aggregatesFromBoth(v, gws) && v.vpnHost.length + v.t5Host.length === 0);
  for (const g of gws) for (const p of v00.vpnAgg.filter((x) => fromGw(x, g))) assert.equal(p.label, VRF_LABEL, `${g.name}'s VPNv4 aggregate label`);
  note('before the VM', v00);

  // The agent of h1 announces the VM at h1 through gw1 (DC1).
  const tFirst = Date.now();
  const first = await gw1.announce();
  assert.equal(first.sequence, 0);
  const v0 = await settle(lab, `${HOST} at the WAN router under gw1's RD only`, (v) => hostAt(v, gw1) && aggregatesFromBoth(v, gws));
  const firstWanMs = Date.now() - tFirst;
  assertHostAttributes(v0, gw1, 'announced at h1');
  note('announced at h1', v0);
  await lab.waitPeAt(H_VTEP.h1, 'PE FDB: VM MAC → h1 (extern_learn), flood list [h1]');
  assert.deepEqual((await gw2.listVms()).map((v) => v.vmId), [], 'gw2 holds nothing: the VM is in DC1');
  t.diagnostic(`announced at h1 via gw1: WAN /32 from gw1 ${firstWanMs} ms after AnnounceVm; WAN /32 paths: ${show([...v0.vpnHost, ...v0.t5Host])}`);
  t.diagnostic(`the WAN router also has the VM's type-2 routes: ${v0.macIp.join('; ') || 'none'}`);

  const log = lab.startPing();
  await waitFor(() => log.seqs.size >= 20, { what: 'ping replies from the VM at h1', timeoutMs: 10_000, intervalMs: 20 });

  interface MoveResult {
    readonly n: number;
    readonly to: Hv;
    readonly tApi: number;
    readonly lost: number;
    readonly apiMs: number;
    /** When the MOVED_AWAY reached the test's WatchMobility stream. */
    readonly yieldMs: number;
    /** The MOVED_AWAY's own time stamp (the old gateway's clock is this host's). */
    readonly yieldStampMs: number;
    readonly wanMs: number;
    readonly fdbMs: number;
    /** The WAN router's best /32 path (per family) is not the new gateway's own. */
    readonly bestElsewhere: string[];
  }
  const results: MoveResult[] = [];
  for (let n = 1; n <= MOVES; n++) {
    const from = lab.portAt();
    const to: Hv = from === 'h1' ? 'h2' : 'h1';
    const oldGw: Gateway = lab.gw[GW_OF[from]];
    const newGw: Gateway = lab.gw[GW_OF[to]];
    const what: string = `move ${n} (${from} → ${to}, ${oldGw.name} → ${newGw.name})`;
    const oldFrom = oldGw.watch.events.length;
    const newFrom = newGw.watch.events.length;
    let tApi = 0;
    let apiMs = 0;
    let yieldMs = 0;
    let wanMs = 0;
    let fdbMs = 0;
    let view: WanView | undefined;
    const lost = await lab.lossOf(log, what, async () => {
      // The VM runs at the new place (its port towards the new hypervisor's bridge is up, the old one down), then the agent there speaks.
      await lab.movePort(to);
      tApi = Date.now();
      const res = await newGw.announce();
      apiMs = Date.now() - tApi;
      assert.equal(res.sequence, n, `${what}: ${newGw.name} numbers the move one above ${oldGw.name}'s route it learned over the DCI`);
      assert.equal(res.changed, true);
      const since = <T>(p: Promise<T>): Promise<number> => p.then(() => Date.now() - tApi);
      [yieldMs, wanMs, fdbMs] = await Promise.all([
        since(oldGw.watch.next('MOVED_AWAY', oldFrom)),
        since(settle(lab, `${what}: ${HOST} at the WAN router under ${newGw.name}'s RD only`, (v) => hostAt(v, newGw) && aggregatesFromBoth(v, gws)).then((v) => (view = v))),
        since(lab.waitPeAt(H_VTEP[to], `${what}: PE FDB: VM MAC and flood list → ${H_VTEP[to]}`)),
      ]);
    });
    assert.ok(view !== undefined);
    assertHostAttributes(view, newGw, what);
    note(what, view);
    // The old gateway yielded to the newer number (RFC 7432 §15) and holds the VM no more; nothing else happened.
    assert.deepEqual(
      oldGw.watch.events.slice(oldFrom).map((e) => [e.kind, e.vmId, e.fromVtep, e.toVtep, e.sequence, e.agent]),
      [['MOVED_AWAY', VM_ID, H_VTEP[from], H_VTEP[to], n, 'bgp']],
      `${what}: ${oldGw.name}'s WatchMobility: one MOVED_AWAY`,
    );
    assert.deepEqual(
      newGw.watch.events.slice(newFrom).map((e) => [e.kind, e.toVtep, e.sequence]),
      [['ARRIVAL', H_VTEP[to], n]],
      `${what}: ${newGw.name}'s WatchMobility`,
    );
    assert.deepEqual((await oldGw.listVms()).map((v) => v.vmId), [], `${what}: ${oldGw.name} holds the VM no more`);
    assert.deepEqual((await newGw.listVms()).map((v) => [v.vmId, v.vtep, v.sequence]), [[VM_ID, H_VTEP[to], n]], `${what}: ${newGw.name} holds it`);
    const stamp = oldGw.watch.events.slice(oldFrom).find((e) => e.kind === 'MOVED_AWAY')?.time;
    const yieldStampMs = stamp ? Math.round(Number(stamp.seconds) * 1000 + stamp.nanos / 1e6 - tApi) : Number.NaN;
    const bestElsewhere = [...view.vpnHost, ...view.t5Host].filter((p) => p.best && !fromGw(p, newGw)).map((p) => `${p.family} via ${p.nextHop}`);
    results.push({ n, to, tApi, lost, apiMs, yieldMs, yieldStampMs, wanMs, fdbMs, bestElsewhere });
  }
  const { transmitted, received } = await lab.stopPing();

  // WithdrawVm at the current data center: no /32 anywhere, the /24s stay, the PE forgets the VM.
  const here = lab.gw[GW_OF[lab.portAt()]];
  const tW = Date.now();
  const gone = await here.withdraw();
  assert.ok(gone.routes.length >= 2, `WithdrawVm at ${here.name} names the routes it withdrew`);
  const vEnd = await settle(lab, 'no /32 at the WAN router, both /24s', (v) => v.vpnHost.length + v.t5Host.length === 0 && aggregatesFromBoth(v, gws));
  const withdrawMs = Date.now() - tW;
  note('after WithdrawVm', vEnd);
  await waitFor(() => lab.peFdb(), { what: 'PE FDB without the VM and its VTEP', until: (f) => f.vm.length === 0 && f.flood.length === 0, intervalMs: 10 });
  for (const g of gws) assert.deepEqual((await g.listVms()).map((v) => v.vmId), [], `${g.name} holds nothing after WithdrawVm`);
  assert.equal((await here.watch.next('DEPARTURE')).vmId, VM_ID);

  // The capture (DCI, WAN and PE sessions): no malformed BGP, no expert warning; and when each move's last UPDATE reached the WAN router.
  const pcap = await lab.stopCapture();
  const check = await checkPcap(pcap, [179]);
  // When each gateway's first UPDATE after the call reached the WAN router: the new one's routes, the old one's withdrawals.
  const toWan = (await decodeFields(pcap, [179], `bgp.type == 2 && ip.dst == ${lab.addr.wan}`, ['frame.time_epoch', 'ip.src'])).map((f) => ({
    ms: Number(f['frame.time_epoch']?.[0]) * 1000,
    src: f['ip.src']?.[0] ?? '',
  }));
  const firstFrom = (g: Gateway, after: number): number => {
    const f = toWan.find((x) => x.src === g.address && x.ms >= after);
    return f === undefined ? Number.NaN : Math.round(f.ms - after);
  };
  const wire = results.map((r) => {
    const newGw = lab.gw[GW_OF[r.to]];
    const oldGw = newGw === gw1 ? gw2 : gw1;
    return { announced: firstFrom(newGw, r.tApi), withdrawn: firstFrom(oldGw, r.tApi) };
  });
  const wireMs = wire.map((w) => Math.max(w.announced, w.withdrawn));

  const col = (k: 'apiMs' | 'yieldMs' | 'yieldStampMs' | 'wanMs' | 'fdbMs' | 'lost'): number[] => results.map((r) => r[k]);
  t.diagnostic(
    `per move (ms after AnnounceVm at the new gateway): ${results
      .map((r, i) => `#${r.n}→${r.to}: reply ${r.apiMs}, old gateway's MOVED_AWAY stamped ${r.yieldStampMs} (seen ${r.yieldMs}), new gateway's UPDATE at the WAN router ${wire[i]!.announced}, old one's ${wire[i]!.withdrawn}, WAN /32 under the new RD only ${r.wanMs}, PE FDB ${r.fdbMs}, ${r.lost} ping(s) lost`)
      .join(' | ')}`,
  );
  t.diagnostic(
    `${MOVES} moves between data centers, from AnnounceVm: old gateway yields (MOVED_AWAY's time stamp) median ${median(col('yieldStampMs'))} / max ${max(col('yieldStampMs'))} ms (at the watching client ${median(col('yieldMs'))} / ${max(col('yieldMs'))}); ` +
      `both gateways' UPDATEs (new routes, withdrawals) at the WAN router (capture) median ${median(wireMs)} / max ${max(wireMs)} ms; ` +
      `the WAN router's table (VPNv4 + type-5 /32 under the new gateway's RD only, FRR's decision run) median ${median(col('wanMs'))} / max ${max(col('wanMs'))} ms; ` +
      `PE FDB at the new VTEP median ${median(col('fdbMs'))} / max ${max(col('fdbMs'))} ms (tables polled every 5 ms; one look at the WAN router's table took median ${median(pollMs)} ms)`,
  );
  t.diagnostic(`pings lost per move: ${col('lost').join(' ')}; ping ${transmitted} transmitted, ${received} received`);
  t.diagnostic(`WithdrawVm at ${here.name}: no ${HOST} at the WAN router ${withdrawMs} ms after the call; scenario ${Date.now() - t0} ms after setup`);
  t.diagnostic(`capture: ${check.frames} frames, ${check.bgpMessages} BGP messages`);
  const elsewhere = results.filter((r) => r.bestElsewhere.length > 0);
  if (elsewhere.length > 0) t.diagnostic(`moves after which the WAN router's BEST /32 path was not the new gateway's: ${elsewhere.map((r) => `#${r.n} (${r.bestElsewhere.join(', ')})`).join('; ')}`);

  for (const r of results) assert.ok(r.lost <= MAX_LOST_PER_MOVE, `move ${r.n}: at most ${MAX_LOST_PER_MOVE} pings lost, got ${r.lost}`);
  assert.ok(check.bgpMessages > 0);
  assert.deepEqual(check.problems, []);
  assert.ok(wireMs.every((ms) => Number.isFinite(ms)), `each move's UPDATEs from both gateways are in the capture: ${wireMs.join(' ')}`);
  // No roundabout: the WAN router learns each gateway's routes from that gateway only.
  const kinds = [...new Set(violations.map((v) => v.replace(/^[^:]*: /, '')))];
  assert.equal(
    violations.length,
    0,
    `no roundabout: ${violations.length} path(s) at the WAN router under one gateway's RD came from the other gateway (with itself as next hop) over ${new Set(violations.map((v) => v.split(':')[0])).size} step(s); the distinct ones: ${kinds.join(' | ')}`,
  );
});
