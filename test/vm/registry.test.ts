import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log.js';
import { ipToBytes } from '../../src/core/ip.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { Origin } from '../../src/bgp/wire/constants.js';
import { formatRd } from '../../src/bgp/wire/rd.js';
import type { NetworkConfig } from '../../src/config/types.js';
import { decodeExtCommunities, encodeExtCommunities, formatExtCommunities, macMobility } from '../../src/evpn/ext-communities.js';
import { labelToVni } from '../../src/evpn/label.js';
import { formatMac } from '../../src/evpn/mac.js';
import { macIpRoute } from '../../src/evpn/nlri.js';
import { decodePmsiTunnel, formatPmsiTunnel } from '../../src/evpn/pmsi.js';
import type { EvpnRoute } from '../../src/evpn/route.js';
import { Rib } from '../../src/rib/rib.js';
import type { Path, PathSource } from '../../src/rib/path.js';
import { MemoryVmStore } from '../../src/store/vm-store.js';
import { VmError } from '../../src/vm/errors.js';
import { VmNetwork } from '../../src/vm/network.js';
import { type VmEvent, VmRegistry } from '../../src/vm/registry.js';
import { FakeClock } from '../fsm/fake-clock.js';

const LOCAL: PathSource = {
  id: 'local', address: Buffer.from([192, 0, 2, 1]), routerId: 0xc0000201, asn: 65000, ibgp: false, local: true, rrClient: false,
};
const PEER: PathSource = {
  id: '192.0.2.9', address: Buffer.from([192, 0, 2, 9]), routerId: 0xc0000209, asn: 65000, ibgp: true, local: false, rrClient: true,
};
const BLUE: NetworkConfig = { name: 'blue', vni: 10100, evi: 10100, routeTargets: ['65000:10100'] };
const GREEN: NetworkConfig = {
  name: 'green', vni: 10200, evi: 10200, routeTargets: ['65000:10200'], duplicateDetection: { maxMoves: 3, windowMs: 60_000, freezeMs: 300_000 },
};
const RED: NetworkConfig = {
  name: 'red', vni: 10300, evi: 10300, l3Vni: 50000, routerMac: '02:00:00:00:00:aa', routeTargets: ['65000:10300'], vrfRouteTargets: ['65000:50000'],
};

function setup(store = new MemoryVmStore()) {
  const rib = new Rib();
  const clock = new FakeClock();
  const networks = new Map([BLUE, RED, GREEN].map((n) => [n.name, new VmNetwork(n, '192.0.2.1')]));
  const reg = new VmRegistry(networks, rib, LOCAL, store, clock, silentLogger());
  const events: VmEvent[] = [];
  reg.events$.subscribe((e) => events.push(e));
  const blue = networks.get('blue')!;
  const red = networks.get('red')!;
  const green = networks.get('green')!;
  const announce = (mac: string, vtep: string, ips: string[] = [], vmId = 'vm-1', network = blue) =>
    reg.announce({ vmId, network, mac, ips, vtep, agent: 'hv' });
  return { rib, clock, reg, events, blue, red, green, store, announce };
}

interface Shown {
  type: number;
  rd: string;
  nextHop: string | undefined;
  ecs: string;
  mac?: string;
  ip?: string | undefined;
  vni?: number;
  l3vni?: number | undefined;
  pmsi?: string | undefined;
}

/** What FRR would show of a route: enough to check every field an agent's announcement sets. */
function show(p: Path): Shown {
  const r = p.nlri as EvpnRoute;
  const ecs = formatExtCommunities(decodeExtCommunities(p.attrs.extCommunities ?? Buffer.alloc(0)));
  const base = { type: r.routeType, rd: 'rd' in r ? formatRd(r.rd) : '', nextHop: p.attrs.nextHop?.join('.'), ecs };
  if (r.kind === 'mac-ip') {
    return { ...base, mac: formatMac(r.mac), ip: r.ip?.join('.'), vni: labelToVni(r.label1), l3vni: r.label2 && labelToVni(r.label2) };
  }
  if (r.kind === 'inclusive-multicast') {
    return { ...base, pmsi: p.attrs.pmsiTunnel && formatPmsiTunnel((decodePmsiTunnel(p.attrs.pmsiTunnel) as { ok: true; value: never }).value) };
  }
  return base;
}

function localRoutes(rib: Rib) {
  return [...rib.destinations(L2VPN_EVPN)].flatMap((d) => d.paths.filter((p) => p.source.id === 'local')).map(show);
}

test('a new VM becomes MAC and MAC+IP routes with sequence 0 and its VTEP\'s type-3 route (RFC 7432 §7.2, §7.3, §15)', async () => {
  const { rib, announce } = setup();
  const r = await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  assert.equal(r.seq, 0);
  assert.equal(r.changed, true);
  assert.equal(r.routes.length, 3);
  const ecs = 'RT:65000:10100 ET:8 MM:0';
  assert.deepEqual(localRoutes(rib), [
    { type: 2, rd: '10.0.0.21:10100', nextHop: '10.0.0.21', ecs, mac: '52:54:00:aa:bb:01', ip: undefined, vni: 10100, l3vni: undefined },
    { type: 2, rd: '10.0.0.21:10100', nextHop: '10.0.0.21', ecs, mac: '52:54:00:aa:bb:01', ip: '10.1.0.5', vni: 10100, l3vni: undefined },
    { type: 3, rd: '10.0.0.21:10100', nextHop: '10.0.0.21', ecs: 'RT:65000:10100 ET:8', pmsi: 'type: ingress-repl, label: 10100, tunnel-id: 10.0.0.21' },
  ]);
});

test('with an L3 VNI, MAC+IP routes carry label 2, the IP-VRF route target and the Router\'s MAC (RFC 9135 §5, §8.1)', async () => {
  const { rib, announce, red } = setup();
  await announce('52:54:00:aa:bb:02', '10.0.0.21', ['10.3.0.5'], 'vm-r', red);
  const routes = localRoutes(rib).filter((r) => r.type === 2);
  assert.equal(routes[0]!.l3vni, undefined);
  assert.equal(routes[1]!.l3vni, 50000);
  assert.match(routes[1]!.ecs, /Rmac:02:00:00:00:00:aa/);
  assert.match(routes[1]!.ecs, /RT:65000:10300 RT:65000:50000/, 'the IP-VRF\'s route target too');
  assert.doesNotMatch(routes[0]!.ecs, /Rmac|65000:50000/);
});

test('announcing the same VM again changes nothing: same sequence, no RIB change, no event', async () => {
  const { rib, announce, events } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  let changes = 0;
  rib.changes$.subscribe(() => changes++);
  const again = await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  assert.equal(again.changed, false);
  assert.equal(again.seq, 0);
  assert.equal(changes, 0);
  assert.equal(events.length, 1);
});

test('a move to another VTEP takes the next sequence number and withdraws the old location and its type-3 route', async () => {
  const { rib, announce, events } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  const r = await announce('52:54:00:aa:bb:01', '10.0.0.22', ['10.1.0.5']);
  assert.equal(r.seq, 1);
  assert.equal(r.previousVtep, '10.0.0.21');
  const routes = localRoutes(rib);
  assert.deepEqual(routes.map((x) => [x.type, x.rd, x.nextHop]), [
    [2, '10.0.0.22:10100', '10.0.0.22'],
    [2, '10.0.0.22:10100', '10.0.0.22'],
    [3, '10.0.0.22:10100', '10.0.0.22'],
  ]);
  assert.ok(routes.filter((x) => x.type === 2).every((x) => x.ecs.endsWith('MM:1')));
  assert.deepEqual(events.map((e) => [e.kind, e.fromVtep, e.toVtep, e.seq]), [
    ['arrival', undefined, '10.0.0.21', 0],
    ['move', '10.0.0.21', '10.0.0.22', 1],
  ]);
});

test('a MAC known elsewhere in the network starts one above the highest known number; another network\'s does not count', async () => {
  const { rib, announce } = setup();
  const remote = (seq: number, rt: string) => ({
    origin: Origin.Igp, asPath: [], nextHop: ipToBytes('10.0.0.99'),
    extCommunities: encodeExtCommunities([
      { kind: 'route-target', format: 'as2', admin: 65000, assigned: Number(rt) },
      { kind: 'mac-mobility', sticky: false, seq },
    ]),
  });
  rib.announce(PEER, L2VPN_EVPN, macIpRoute({ rd: '10.0.0.99:1', tag: 0, mac: '52:54:00:aa:bb:01', label1: Buffer.from([0, 0x27, 0x74]) }), remote(5, '10100'));
  rib.announce(PEER, L2VPN_EVPN, macIpRoute({ rd: '10.0.0.99:2', tag: 0, mac: '52:54:00:aa:bb:02', label1: Buffer.from([0, 0x27, 0x74]) }), remote(9, '10999'));
  assert.equal((await announce('52:54:00:aa:bb:01', '10.0.0.21')).seq, 6);
  assert.equal((await announce('52:54:00:aa:bb:02', '10.0.0.21', [], 'vm-2')).seq, 0);
});

test('sequence numbers wrap as RFC 7432 §15 / RFC 1982 say: after 4294967295 comes 0', async () => {
  const { rib, announce } = setup();
  rib.announce(PEER, L2VPN_EVPN, macIpRoute({ rd: '10.0.0.99:1', tag: 0, mac: '52:54:00:aa:bb:01', label1: Buffer.from([0, 0x27, 0x74]) }), {
    origin: Origin.Igp, asPath: [], nextHop: ipToBytes('10.0.0.99'),
    extCommunities: encodeExtCommunities([{ kind: 'route-target', format: 'as2', admin: 65000, assigned: 10100 }, { kind: 'mac-mobility', sticky: false, seq: 0xffffffff }]),
  });
  assert.equal((await announce('52:54:00:aa:bb:01', '10.0.0.21')).seq, 0);
});

test('new addresses at the same VTEP keep the sequence number; a dropped address is withdrawn', async () => {
  const { rib, announce, events } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5', '10.1.0.6']);
  const r = await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.6', '10.1.0.7']);
  assert.equal(r.seq, 0);
  assert.deepEqual(localRoutes(rib).filter((x) => x.type === 2).map((x) => x.ip), [undefined, '10.1.0.6', '10.1.0.7']);
  assert.equal(events.at(-1)!.kind, 'update');
});

test('the type-3 route stays while any VM of the network is at the VTEP', async () => {
  const { rib, announce, reg, blue } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', [], 'vm-1');
  const second = await announce('52:54:00:aa:bb:02', '10.0.0.21', [], 'vm-2');
  assert.equal(second.routes.length, 1, 'the second VM does not bring the type-3 route again');
  const imets = () => localRoutes(rib).filter((x) => x.type === 3).length;
  await reg.withdraw({ network: blue, mac: '52:54:00:aa:bb:01' });
  assert.equal(imets(), 1);
  const gone = await reg.withdraw({ network: blue, mac: '52:54:00:aa:bb:02' });
  assert.equal(gone.length, 2, 'the last VM\'s withdraw reports its MAC route and the type-3 route');
  assert.equal(imets(), 0);
  assert.deepEqual(localRoutes(rib), []);
});

test('domain errors: MAC held by another VM, unknown VM, VM id mismatch', async () => {
  const { reg, announce, blue } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', [], 'vm-1');
  await assert.rejects(announce('52:54:00:aa:bb:01', '10.0.0.21', [], 'vm-2'), (e: unknown) => e instanceof VmError && e.kind === 'failed-precondition' && /belongs to VM "vm-1"/.test(e.message));
  await assert.rejects(reg.withdraw({ network: blue, mac: '52:54:00:aa:bb:09' }), (e: unknown) => e instanceof VmError && e.kind === 'not-found');
  await assert.rejects(reg.withdraw({ network: blue, mac: '52:54:00:aa:bb:01', vmId: 'vm-9' }), (e: unknown) => e instanceof VmError && e.kind === 'failed-precondition');
});

test('an acknowledged VM is in the store, and a new registry over that store re-originates it with the same sequence number', async () => {
  const first = setup();
  await first.announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  await first.announce('52:54:00:aa:bb:01', '10.0.0.22', ['10.1.0.5']);
  await first.announce('52:54:00:aa:bb:03', '10.0.0.21', [], 'vm-3');
  await first.reg.withdraw({ network: first.blue, mac: '52:54:00:aa:bb:03' });
  const second = setup(first.store);
  assert.equal(await second.reg.restore(), 1);
  assert.deepEqual(localRoutes(second.rib), localRoutes(first.rib));
  assert.equal(second.reg.list()[0]!.seq, 1);
  const mm = [...second.rib.destinations(L2VPN_EVPN)].map((d) => d.best && macMobility(decodeExtCommunities(d.best.attrs.extCommunities!)));
  assert.deepEqual(mm, [{ seq: 1, sticky: false }, { seq: 1, sticky: false }, undefined]);
});

test('list filters by network and VTEP', async () => {
  const { reg, announce, red } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', [], 'vm-1');
  await announce('52:54:00:aa:bb:02', '10.0.0.22', [], 'vm-2');
  await announce('52:54:00:aa:bb:03', '10.0.0.22', [], 'vm-3', red);
  assert.deepEqual(reg.list({ vtep: '10.0.0.22' }).map((v) => v.vmId), ['vm-2', 'vm-3']);
  assert.deepEqual(reg.list({ network: 'blue' }).map((v) => v.vmId), ['vm-1', 'vm-2']);
});

/** A MAC/IP route of this MAC from another PE (PEER) at `vtep`, in network blue, with MAC Mobility. */
function remoteRoute(rib: Rib, o: { mac: string; vtep: string; seq: number; sticky?: boolean; ip?: string; rd?: string; arpNd?: boolean }) {
  const nlri = macIpRoute({ rd: o.rd ?? `${o.vtep}:10100`, tag: 0, mac: o.mac, ip: o.ip, label1: Buffer.from([0, 0x27, 0x74]) });
  rib.announce(PEER, L2VPN_EVPN, nlri, {
    origin: Origin.Igp, asPath: [], nextHop: ipToBytes(o.vtep),
    extCommunities: encodeExtCommunities([
      { kind: 'route-target', format: 'as2', admin: 65000, assigned: 10100 },
      { kind: 'mac-mobility', sticky: o.sticky === true, seq: o.seq },
      ...(o.arpNd ? [{ kind: 'arp-nd', router: true, override: false, immutable: true } as const] : []),
    ]),
  });
  return nlri;
}

const settle = () => new Promise((r) => setImmediate(r));

test('RFC 7432 §15: a peer advertising the MAC with a newer number takes it; vmmi withdraws its routes and forgets the VM', async () => {
  const { rib, announce, reg, events, store } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  remoteRoute(rib, { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.99', seq: 1 });
  await settle();
  assert.deepEqual(localRoutes(rib), [], 'our MAC, MAC+IP and type-3 routes are withdrawn');
  assert.equal(reg.size, 0);
  assert.deepEqual(await store.load(), []);
  const e = events.at(-1)!;
  assert.deepEqual([e.kind, e.fromVtep, e.toVtep, e.seq, e.agent], ['moved-away', '10.0.0.21', '10.0.0.99', 1, 'bgp']);
});

test('an older number from a peer changes nothing; at an equal number the lower VTEP address wins (§15.1) and a conflict is reported', async () => {
  const older = setup();
  await older.announce('52:54:00:aa:bb:01', '10.0.0.21');
  await older.announce('52:54:00:aa:bb:01', '10.0.0.22'); // seq 1
  remoteRoute(older.rib, { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.5', seq: 0 });
  await settle();
  assert.equal(older.reg.size, 1);
  assert.deepEqual(older.events.map((e) => e.kind), ['arrival', 'move']);

  const oursLower = setup();
  await oursLower.announce('52:54:00:aa:bb:01', '10.0.0.21');
  remoteRoute(oursLower.rib, { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.99', seq: 0 });
  await settle();
  assert.equal(oursLower.reg.size, 1, 'ours is the lower address: it stays');
  assert.equal(oursLower.events.at(-1)!.kind, 'conflict');
  assert.match(oursLower.events.at(-1)!.detail!, /ours \(10.0.0.21\) is the lower VTEP address/);

  const theirsLower = setup();
  await theirsLower.announce('52:54:00:aa:bb:01', '10.0.0.21');
  remoteRoute(theirsLower.rib, { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.5', seq: 0 });
  await settle();
  assert.equal(theirsLower.reg.size, 0, 'theirs is the lower address: we yield');
  assert.deepEqual(theirsLower.events.slice(1).map((e) => e.kind), ['conflict', 'moved-away']);
});

test('a sticky MAC (§15.2) carries the sticky flag, is not moved by an agent, and a peer\'s newer route does not displace it', async () => {
  const { rib, reg, blue, events } = setup();
  const r = await reg.announce({ vmId: 'gw', network: blue, mac: '52:54:00:aa:bb:0a', ips: [], vtep: '10.0.0.21', agent: 'hv', sticky: true });
  assert.deepEqual(macMobility(decodeExtCommunities(r.routes[0]!.attrs.extCommunities!)), { seq: 0, sticky: true });
  await assert.rejects(
    reg.announce({ vmId: 'gw', network: blue, mac: '52:54:00:aa:bb:0a', ips: [], vtep: '10.0.0.22', agent: 'hv', sticky: true }),
    (e: unknown) => e instanceof VmError && e.kind === 'failed-precondition' && /sticky/.test(e.message),
  );
  assert.equal(events.at(-1)!.kind, 'refused');
  remoteRoute(rib, { mac: '52:54:00:aa:bb:0a', vtep: '10.0.0.99', seq: 7 });
  await settle();
  assert.equal(reg.size, 1);
  assert.equal(reg.list()[0]!.vtep, '10.0.0.21');
  assert.equal(events.at(-1)!.kind, 'conflict');
});

test('a peer\'s sticky route takes a MAC from us whatever its number', async () => {
  const { rib, announce, reg, events } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21');
  await announce('52:54:00:aa:bb:01', '10.0.0.22');
  remoteRoute(rib, { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.99', seq: 0, sticky: true });
  await settle();
  assert.equal(reg.size, 0);
  assert.match(events.at(-1)!.detail!, /sticky MAC wins/);
});

test('RFC 9161: resolve answers the MAC bound to an IP, newest sequence first, with the RFC 9047 ARP/ND flags', async () => {
  const { rib, announce, reg, blue } = setup();
  assert.equal(reg.resolve(blue, ipToBytes('10.1.0.5')!), undefined);
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  assert.deepEqual(reg.resolve(blue, ipToBytes('10.1.0.5')!), { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.21', source: 'local', seq: 0, arpNd: undefined });
  // The address moved to another VM behind a peer, with a newer number.
  remoteRoute(rib, { mac: '52:54:00:aa:bb:02', vtep: '10.0.0.99', seq: 3, ip: '10.1.0.5', arpNd: true });
  const r = reg.resolve(blue, ipToBytes('10.1.0.5')!);
  assert.deepEqual([r?.mac, r?.vtep, r?.source, r?.seq, r?.arpNd?.immutable], ['52:54:00:aa:bb:02', '10.0.0.99', '192.0.2.9', 3, true]);
  assert.equal(reg.resolve(blue, ipToBytes('10.1.0.6')!), undefined);
});

test('RFC 7432 §15.1: the 5th move within 180 s marks the MAC duplicate; its routes are withdrawn until cleared, then it comes back with a higher number', async () => {
  const { rib, clock, reg, blue, events, announce } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21');
  for (let i = 0; i < 4; i++) {
    clock.advance(10_000);
    const r = await announce('52:54:00:aa:bb:01', i % 2 === 0 ? '10.0.0.22' : '10.0.0.21');
    assert.equal(r.duplicate, false, `move ${i + 1} is not yet too many`);
  }
  clock.advance(10_000);
  const fifth = await announce('52:54:00:aa:bb:01', '10.0.0.22');
  assert.equal(fifth.duplicate, true);
  assert.deepEqual(fifth.routes, []);
  assert.deepEqual(localRoutes(rib), [], 'nothing advertised for a duplicate MAC');
  assert.equal(events.at(-1)!.kind, 'duplicate');
  assert.match(events.at(-1)!.detail!, /5 moves within 180 s/);
  // Still duplicate: another move is stored, not advertised.
  const sixth = await announce('52:54:00:aa:bb:01', '10.0.0.21');
  assert.deepEqual([sixth.duplicate, localRoutes(rib).length], [true, 0]);
  assert.equal(reg.clearDuplicate(blue, '52:54:00:aa:bb:02'), false);
  assert.equal(reg.clearDuplicate(blue, '52:54:00:aa:bb:01'), true);
  const back = localRoutes(rib);
  assert.deepEqual(back.map((r) => [r.type, r.nextHop]), [[2, '10.0.0.21'], [3, '10.0.0.21']]);
  assert.match(back[0]!.ecs, /MM:7$/, 'one above the 6 it had: it must win over every stale copy');
  assert.deepEqual(events.at(-1)!.kind, 'duplicate-cleared');
});

test('duplicate detection per network: planned moves do not count; a freeze ends by itself', async () => {
  const { rib, clock, reg, green, events } = setup();
  const move = (vtep: string, planned = false) =>
    reg.announce({ vmId: 'vm-g', network: green, mac: '52:54:00:aa:bb:0c', ips: [], vtep, agent: 'hv', planned });
  await move('10.0.0.21');
  for (let i = 0; i < 10; i++) assert.equal((await move(i % 2 === 0 ? '10.0.0.22' : '10.0.0.21', true)).duplicate, false, 'a vMotion storm is planned');
  await move('10.0.0.22');
  await move('10.0.0.21');
  assert.equal((await move('10.0.0.22')).duplicate, true, 'the 3rd unplanned move within 60 s');
  assert.equal(localRoutes(rib).length, 0);
  clock.advance(299_999);
  assert.equal(localRoutes(rib).length, 0);
  clock.advance(1);
  assert.deepEqual(localRoutes(rib).map((r) => r.nextHop), ['10.0.0.22', '10.0.0.22']);
  assert.equal(events.at(-1)!.detail, 'freeze time over');
});

/** A store whose writes fail while `failing` is set, like a full or broken disk. */
class FlakyStore extends MemoryVmStore {
  failing = false;
  override put(r: Parameters<MemoryVmStore['put']>[0]): Promise<void> {
    return this.failing ? Promise.reject(new Error('ENOSPC: no space left on device')) : super.put(r);
  }
  override remove(network: string, mac: string): Promise<void> {
    return this.failing ? Promise.reject(new Error('EIO: i/o error')) : super.remove(network, mac);
  }
}

test('a change the store cannot make durable is refused (unavailable) and undone; a retry is not answered as already done', async () => {
  const store = new FlakyStore();
  const { rib, announce, reg, blue } = setup(store);
  store.failing = true;
  await assert.rejects(announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']), (e: unknown) => e instanceof VmError && e.kind === 'unavailable' && /ENOSPC/.test(e.message));
  assert.deepEqual(localRoutes(rib), [], 'nothing stays advertised that was not acknowledged');
  assert.equal(reg.size, 0);
  store.failing = false;
  const retry = await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5']);
  assert.deepEqual([retry.changed, retry.seq], [true, 0]);
  const before = localRoutes(rib);
  store.failing = true;
  await assert.rejects(announce('52:54:00:aa:bb:01', '10.0.0.22', ['10.1.0.5']), (e: unknown) => e instanceof VmError && e.kind === 'unavailable');
  assert.deepEqual(localRoutes(rib), before, 'a failed move leaves the VM where it was');
  await assert.rejects(reg.withdraw({ network: blue, mac: '52:54:00:aa:bb:01' }), (e: unknown) => e instanceof VmError && e.kind === 'unavailable');
  assert.deepEqual(localRoutes(rib), before, 'a failed withdrawal leaves it advertised');
  store.failing = false;
  assert.equal((await store.load()).length, 1);
});

test('two announcements of one MAC in flight at once, and an announcement while its withdrawal waits for the disk', async () => {
  const { rib, announce, reg, blue } = setup();
  const [a, b] = await Promise.all([announce('52:54:00:aa:bb:01', '10.0.0.21'), announce('52:54:00:aa:bb:01', '10.0.0.22')]);
  assert.deepEqual([a.seq, b.seq, b.previousVtep], [0, 1, '10.0.0.21']);
  const w = reg.withdraw({ network: blue, mac: '52:54:00:aa:bb:01' });
  const again = announce('52:54:00:aa:bb:01', '10.0.0.21');
  await w;
  const r = await again;
  assert.equal(r.seq, 0, 'a MAC no longer known anywhere is new again (RFC 7432 §15)');
  assert.deepEqual(localRoutes(rib).map((x) => [x.type, x.nextHop]), [[2, '10.0.0.21'], [3, '10.0.0.21']]);
});

test('an address that moves to another MAC (RFC 9135 §4, a re-created VM or a floating IP) leaves the VM that had it', async () => {
  const { rib, announce, reg, blue, events } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5', '10.1.0.6'], 'vm-a');
  await announce('52:54:00:aa:bb:02', '10.0.0.22', ['10.1.0.5'], 'vm-b');
  const a = reg.get(blue, '52:54:00:aa:bb:01');
  assert.deepEqual(a?.ips, ['10.1.0.6']);
  assert.deepEqual(
    localRoutes(rib).filter((r) => r.type === 2).map((r) => `${r.mac} ${r.ip ?? '-'}`).sort(),
    ['52:54:00:aa:bb:01 -', '52:54:00:aa:bb:01 10.1.0.6', '52:54:00:aa:bb:02 -', '52:54:00:aa:bb:02 10.1.0.5'],
  );
  const e = events.find((x) => x.vmId === 'vm-a' && x.kind === 'update');
  assert.match(e?.detail ?? '', /10.1.0.5 moved to another MAC/);
  assert.equal(reg.resolve(blue, ipToBytes('10.1.0.5')!)?.mac, '52:54:00:aa:bb:02');
  // And back: vm-a takes it again; vm-b keeps its MAC route only.
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5', '10.1.0.6'], 'vm-a');
  assert.deepEqual(reg.get(blue, '52:54:00:aa:bb:02')?.ips, []);
});

test('an address a peer binds to another MAC leaves our VM too (RFC 9135 §4)', async () => {
  const { rib, announce, reg, blue } = setup();
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5', '10.1.0.6']);
  remoteRoute(rib, { mac: '52:54:00:aa:bb:99', vtep: '10.0.0.99', seq: 0, ip: '10.1.0.5' });
  await settle();
  assert.deepEqual(reg.get(blue, '52:54:00:aa:bb:01')?.ips, ['10.1.0.6']);
  assert.ok(!localRoutes(rib).some((r) => r.ip === '10.1.0.5'), 'our MAC+IP route for it is withdrawn');
  assert.equal(reg.resolve(blue, ipToBytes('10.1.0.5')!)?.mac, '52:54:00:aa:bb:99');
});

test('an address taken by an announcement the store refuses goes back to the VM that had it', async () => {
  const store = new FlakyStore();
  const { rib, announce, reg, blue, events } = setup(store);
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5', '10.1.0.6'], 'vm-a');
  const sorted = (): string[] => localRoutes(rib).map((r) => JSON.stringify(r)).sort();
  const before = sorted();
  store.failing = true;
  await assert.rejects(announce('52:54:00:aa:bb:02', '10.0.0.22', ['10.1.0.5', '10.1.0.6'], 'vm-b'), (e: unknown) => e instanceof VmError && e.kind === 'unavailable');
  assert.deepEqual(reg.get(blue, '52:54:00:aa:bb:01')?.ips, ['10.1.0.5', '10.1.0.6']);
  assert.equal(reg.get(blue, '52:54:00:aa:bb:02'), undefined);
  assert.deepEqual(sorted(), before, 'vm-a advertised as before, vm-b not at all');
  assert.equal(reg.resolve(blue, ipToBytes('10.1.0.5')!)?.mac, '52:54:00:aa:bb:01');
  assert.match(events.at(-1)?.detail ?? '', /given back/);
  store.failing = false;
  // What the store holds matches: vm-a with both addresses, and a retry takes them for good.
  assert.deepEqual((await store.load()).map((r) => [r.vmId, r.ips]), [['vm-a', ['10.1.0.5', '10.1.0.6']]]);
  await announce('52:54:00:aa:bb:02', '10.0.0.22', ['10.1.0.5'], 'vm-b');
  assert.deepEqual(reg.get(blue, '52:54:00:aa:bb:01')?.ips, ['10.1.0.6']);
});

test('an address is given back even when an overlapping announcement kept another of the refused one\'s addresses', async () => {
  const store = new FlakyStore();
  const { announce, reg, blue } = setup(store);
  await announce('52:54:00:aa:bb:01', '10.0.0.21', ['10.1.0.5', '10.1.0.6'], 'vm-b');
  // The store refuses vm-a's first announcement (both addresses) but takes its second (only 10.1.0.6), in flight meanwhile.
  const put = store.put.bind(store);
  store.put = (r) => (r.vmId === 'vm-a' && r.ips.length === 2 ? Promise.reject(new Error('EIO: i/o error')) : put(r));
  const first = announce('52:54:00:aa:bb:02', '10.0.0.22', ['10.1.0.5', '10.1.0.6'], 'vm-a');
  const second = announce('52:54:00:aa:bb:02', '10.0.0.22', ['10.1.0.6'], 'vm-a');
  await assert.rejects(first, (e: unknown) => e instanceof VmError && e.kind === 'unavailable');
  await second;
  assert.deepEqual(reg.get(blue, '52:54:00:aa:bb:02')?.ips, ['10.1.0.6'], 'vm-a as its acknowledged announcement says');
  assert.deepEqual(reg.get(blue, '52:54:00:aa:bb:01')?.ips, ['10.1.0.5'], 'vm-b has back the address nobody holds');
  assert.equal(reg.resolve(blue, ipToBytes('10.1.0.5')!)?.mac, '52:54:00:aa:bb:01');
});
