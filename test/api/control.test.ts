import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { Authority } from '../../src/api/auth.js';
import { createControlService } from '../../src/api/control-service.js';
import { loadVmmiProto } from '../../src/api/proto.js';
import { type ApiServer, startApiServer } from '../../src/api/server.js';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { CeaseSubcode, ErrorCode, Origin } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { parsePrefix } from '../../src/bgp/wire/prefix.js';
import { ipToBytes } from '../../src/core/ip.js';
import { silentLogger } from '../../src/core/log.js';
import { encodeExtCommunities, routeTarget } from '../../src/evpn/ext-communities.js';
import { labelFromVni } from '../../src/evpn/label.js';
import { inclusiveMulticastRoute, macIpRoute } from '../../src/evpn/nlri.js';
import { encodePmsiTunnel, ingressReplicationTunnel } from '../../src/evpn/pmsi.js';
import type { PathSource } from '../../src/rib/path.js';
import { Speaker } from '../../src/speaker.js';
import type { ControlServiceClient } from '../../gen/proto/vmmi/v1/ControlService.js';
import type { Route__Output } from '../../gen/proto/vmmi/v1/Route.js';
import type { RouteEvent__Output } from '../../gen/proto/vmmi/v1/RouteEvent.js';
import { configFrom, eventually } from '../support/speakers.js';
import { type LogLine, apiConfig, captureLog, collect, rejectsWith, streamStatus, take, unary } from './support.js';

// Two vmmi speakers on 127.0.5.x (iBGP, IPv4 and EVPN) and the API of A on 127.0.0.1.
const A = '127.0.5.1';
const B = '127.0.5.2';
const { proto } = loadVmmiProto();

function speakerYaml(me: string, other: string, originate: string[]): string {
  return `
router-id: ${me}
asn: 65000
listen: { address: ${me}, port: 1179 }
neighbors:
  - { address: ${other}, remote-as: 65000, port: 1179, local-address: ${me}, hold-time: 9, connect-retry: 1, families: [ipv4-unicast, l2vpn-evpn] }
${originate.length > 0 ? 'originate:' : ''}
${originate.map((p) => `  - { family: ipv4-unicast, prefix: ${p}, next-hop: 10.0.0.9 }`).join('\n')}
`;
}

function key(p: string): string {
  const r = parsePrefix(p);
  assert.ok(r.ok);
  return r.value.key;
}

function originate(s: Speaker, prefix: string): void {
  s.originate({ family: 'ipv4-unicast', prefix, prefixAddress: '', prefixLength: 0, nextHop: '10.0.0.9', communities: [], origin: 'igp', asPath: [] });
}

function localSource(routerId: string): PathSource {
  return { id: 'local', address: ipToBytes(routerId)!, routerId: ipToBytes(routerId)!.readUInt32BE(0), asn: 65000, ibgp: false, local: true, rrClient: false };
}

function controlClient(server: ApiServer): ControlServiceClient {
  return new proto.vmmi.v1.ControlService(`127.0.0.1:${server.endpoint.port}`, grpc.credentials.createInsecure());
}

const rt = routeTarget('as2', 65000, 10100);
const evpnAttrs: PathAttributes = {
  origin: Origin.Igp,
  asPath: [],
  nextHop: ipToBytes('10.0.0.21'),
  extCommunities: encodeExtCommunities([rt, { kind: 'encapsulation', tunnelType: 8 }, { kind: 'mac-mobility', sticky: false, seq: 3 }]),
};
const imetAttrs: PathAttributes = {
  origin: Origin.Igp,
  asPath: [],
  nextHop: ipToBytes('10.0.0.21'),
  extCommunities: encodeExtCommunities([rt, { kind: 'encapsulation', tunnelType: 8 }]),
  pmsiTunnel: encodePmsiTunnel(ingressReplicationTunnel({ endpoint: '10.0.0.21', label: labelFromVni(10100) })),
};

describe('ControlService against two connected speakers', () => {
  let a: Speaker;
  let b: Speaker;
  const bLog: LogLine[] = [];
  let server: ApiServer;
  let client: ControlServiceClient;
  const api = apiConfig({ watchBuffer: 1000 });

  before(async () => {
    a = new Speaker(configFrom(speakerYaml(A, B, ['10.51.0.0/24', '10.51.1.0/24'])), silentLogger());
    b = new Speaker(configFrom(speakerYaml(B, A, ['10.52.0.0/24'])), captureLog(bLog));
    await a.start();
    await b.start();
    const src = localSource(B);
    b.rib.announce(src, L2VPN_EVPN, macIpRoute({ rd: `${B}:100`, tag: 0, mac: '52:54:00:aa:bb:01', ip: '10.1.0.5', label1: labelFromVni(10100) }), evpnAttrs);
    b.rib.announce(src, L2VPN_EVPN, inclusiveMulticastRoute({ rd: `${B}:100`, tag: 0, originator: '10.0.0.21' }), imetAttrs);
    server = await startApiServer(api, { control: createControlService(a, new Authority(api), silentLogger(), api) }, silentLogger());
    client = controlClient(server);
    await eventually('session up', () => a.peers.get(B)?.state === 'Established' && b.peers.get(A)?.state === 'Established');
    await eventually('routes at A', () => a.rib.count(IPV4_UNICAST) === 3 && a.rib.count(L2VPN_EVPN) === 2);
    await eventually('A has advertised to B', () => a.peers.get(B)!.advertisedCount(IPV4_UNICAST) === 2);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('ListPeers and GetPeer show the session, its families and counters', async () => {
    const { peers } = await unary<{ peers: import('../../gen/proto/vmmi/v1/Peer.js').Peer__Output[] }>((cb) => client.listPeers({}, cb));
    assert.deepEqual(peers.map((p) => p.address), [B]);
    const p = await unary<import('../../gen/proto/vmmi/v1/Peer.js').Peer__Output>((cb) => client.getPeer({ address: B }, cb));
    assert.equal(p.state, 'Established');
    assert.equal(p.remoteAs, 65000);
    assert.equal(p.routerId, B);
    assert.deepEqual(p.families, ['ipv4-unicast', 'l2vpn-evpn']);
    assert.deepEqual([...p.negotiatedFamilies].sort(), ['ipv4-unicast', 'l2vpn-evpn']);
    assert.equal(p.holdTime, 9);
    assert.equal(p.passive, false);
    assert.ok(p.since && Number(p.since.seconds) > 1_600_000_000);
    const count = (list: { family: string; count: string }[], f: string): number => Number(list.find((c) => c.family === f)?.count);
    assert.equal(count(p.received, 'ipv4-unicast'), 1);
    assert.equal(count(p.received, 'l2vpn-evpn'), 2);
    assert.equal(count(p.advertised, 'ipv4-unicast'), 2);
  });

  test('GetPeer: NOT_FOUND for an unknown neighbour, INVALID_ARGUMENT for a bad address', async () => {
    await rejectsWith(unary((cb) => client.getPeer({ address: '127.0.5.99' }, cb)), grpc.status.NOT_FOUND, 'neighbor 127.0.5.99 is not configured');
    await rejectsWith(unary((cb) => client.getPeer({ address: 'peer-b' }, cb)), grpc.status.INVALID_ARGUMENT, /address: "peer-b" is not an IPv4 or IPv6 address/);
    await rejectsWith(unary((cb) => client.getPeer({ address: '' }, cb)), grpc.status.INVALID_ARGUMENT, /address is required/);
  });

  test('ListRoutes LOC: every path with the best marked; best_only; IP filters', async () => {
    const all = await collect(client.listRoutes({ family: 'ipv4-unicast' }));
    assert.deepEqual(all.map((r) => r.prefix).sort(), ['10.51.0.0/24', '10.51.1.0/24', '10.52.0.0/24']);
    assert.ok(all.every((r) => r.best && r.family === 'ipv4-unicast'));
    const fromB = all.find((r) => r.prefix === '10.52.0.0/24')!;
    assert.equal(fromB.source, B);
    assert.equal(fromB.attributes?.nextHop, '10.0.0.9');
    assert.equal(fromB.attributes?.origin, 'igp');
    assert.equal(fromB.attributes?.localPref, 100);
    assert.equal(all.find((r) => r.prefix === '10.51.0.0/24')!.source, 'local');

    const inside = await collect(client.listRoutes({ family: 'ipv4', filter: { ip: '10.51.0.0/16' }, bestOnly: true }));
    assert.deepEqual(inside.map((r) => r.prefix).sort(), ['10.51.0.0/24', '10.51.1.0/24']);
    const containing = await collect(client.listRoutes({ family: 'ipv4-unicast', filter: { ip: '10.52.0.7' } }));
    assert.deepEqual(containing.map((r) => r.prefix), ['10.52.0.0/24']);
  });

  test('ListRoutes EVPN (the default family): fields, attributes and filters', async () => {
    const routes = await collect(client.listRoutes({}));
    assert.equal(routes.length, 2);
    const t2 = routes.find((r) => r.evpn?.routeType === 2)!;
    assert.equal(t2.family, 'l2vpn-evpn');
    assert.equal(t2.prefix, `RD ${B}:100 [2]:[0]:[48]:[52:54:00:aa:bb:01]:[32]:[10.1.0.5]`);
    assert.equal(t2.evpn?.rd, `${B}:100`);
    assert.equal(t2.evpn?.mac, '52:54:00:aa:bb:01');
    assert.equal(t2.evpn?.ip, '10.1.0.5');
    assert.equal(t2.evpn?.esi, '00:00:00:00:00:00:00:00:00:00');
    assert.deepEqual(t2.evpn?.labels, [10100]);
    assert.equal(t2.attributes?.nextHop, '10.0.0.21');
    assert.deepEqual(t2.attributes?.extendedCommunities, ['rt:65000:10100', 'encap:vxlan', 'mac-mobility:3']);
    assert.deepEqual(t2.attributes?.macMobility, { sequence: 3, sticky: false });
    const t3 = routes.find((r) => r.evpn?.routeType === 3)!;
    assert.equal(t3.evpn?.originatorIp, '10.0.0.21');
    assert.equal(t3.attributes?.pmsiTunnel, 'ingress-replication 10.0.0.21 label 10100');
    assert.equal(t3.attributes?.macMobility, null);

    const only = async (filter: object): Promise<Route__Output[]> => collect(client.listRoutes({ family: 'l2vpn-evpn', filter }));
    assert.deepEqual((await only({ mac: '52-54-00-AA-BB-01' })).map((r) => r.evpn?.routeType), [2]);
    assert.deepEqual((await only({ routeType: 3 })).map((r) => r.evpn?.routeType), [3]);
    assert.equal((await only({ rd: `${B}:100` })).length, 2);
    assert.equal((await only({ rd: `${B}:101` })).length, 0);
    assert.equal((await only({ routeTarget: '65000:10100' })).length, 2);
    assert.equal((await only({ routeTarget: '65000:10200' })).length, 0);
    assert.equal((await only({ vni: 10100 })).length, 2, 'label 1 of type 2, the PMSI label of type 3');
    assert.equal((await only({ vni: 0, routeType: 2 })).length, 1, 'ethernet tag 0');
    assert.equal((await only({ vni: 10200 })).length, 0);
    assert.deepEqual((await only({ ip: '10.1.0.0/24' })).map((r) => r.evpn?.routeType), [2]);
  });

  test('ListRoutes: INVALID_ARGUMENT names the bad field and the expected form', async () => {
    const bad = (req: object, details: RegExp): Promise<unknown> => rejectsWith(collect(client.listRoutes(req)), grpc.status.INVALID_ARGUMENT, details);
    await bad({ filter: { rd: '100' } }, /^filter\.rd: .*expected "ASN:n" or "IPv4:n"/);
    await bad({ filter: { routeTarget: 'x:y' } }, /^filter\.route_target: .*expected/);
    await bad({ filter: { mac: '52:54:00' } }, /^filter\.mac: "52:54:00" is not a MAC address; expected/);
    await bad({ filter: { ip: '10.1.0.300' } }, /^filter\.ip: "10\.1\.0\.300" is not an IP address/);
    await bad({ filter: { ip: '10.1.0.1/24' } }, /^filter\.ip: .*host bits set/);
    await bad({ filter: { routeType: 9 } }, /^filter\.route_type: 9 is not an EVPN route type 1\.\.5/);
    await bad({ filter: { routeType: 0 } }, /^filter\.route_type: 0/);
    await bad({ family: 'ipv5' }, /^family: unknown family "ipv5" \(expected one of ipv4-unicast, /);
    await bad({ table: 'ADJ_IN' }, /^peer is required for table ADJ_IN/);
    await bad({ table: 'ADJ_OUT', peer: B, bestOnly: true }, /^best_only: only for the LOC table/);
    await bad({ table: 'LOC', peer: B }, /^peer: only for the ADJ_IN and ADJ_OUT tables/);
    await rejectsWith(collect(client.listRoutes({ table: 'ADJ_IN', peer: '127.0.5.99' })), grpc.status.NOT_FOUND, /127\.0\.5\.99 is not configured/);
  });

  test('ListRoutes ADJ_IN and ADJ_OUT: what B sent, what A sends B', async () => {
    const adjIn = await collect(client.listRoutes({ family: 'ipv4-unicast', table: 'ADJ_IN', peer: B }));
    assert.deepEqual(adjIn.map((r) => [r.prefix, r.source]), [['10.52.0.0/24', B]]);
    const evpnIn = await collect(client.listRoutes({ table: 'ADJ_IN', peer: B, filter: { routeType: 2 } }));
    assert.equal(evpnIn.length, 1);
    const adjOut = await collect(client.listRoutes({ family: 'ipv4-unicast', table: 'ADJ_OUT', peer: B }));
    assert.deepEqual(adjOut.map((r) => r.prefix).sort(), ['10.51.0.0/24', '10.51.1.0/24']);
    // What B is sent carries the iBGP export: LOCAL_PREF 100, our next hop as configured.
    assert.ok(adjOut.every((r) => r.attributes?.localPref === 100 && r.attributes.nextHop === '10.0.0.9' && r.source === 'local'));
    const outFiltered = await collect(client.listRoutes({ family: 'ipv4-unicast', table: 'ADJ_OUT', peer: B, filter: { ip: '10.51.1.1' } }));
    assert.deepEqual(outFiltered.map((r) => r.prefix), ['10.51.1.0/24']);
  });

  test('GetRibSummary: destinations and paths per family, counters per neighbour', async () => {
    const s = await unary<import('../../gen/proto/vmmi/v1/RibSummary.js').RibSummary__Output>((cb) => client.getRibSummary({}, cb));
    const fam = Object.fromEntries(s.families.map((f) => [f.family, [Number(f.destinations), Number(f.paths)]]));
    assert.deepEqual(fam['ipv4-unicast'], [3, 3]);
    assert.deepEqual(fam['l2vpn-evpn'], [2, 2]);
    assert.equal(s.peers.length, 1);
    assert.equal(s.peers[0]!.address, B);
    assert.equal(s.peers[0]!.state, 'Established');
    assert.deepEqual(s.peers[0]!.received.map((c) => [c.family, Number(c.count)]), [['ipv4-unicast', 1], ['l2vpn-evpn', 2]]);
  });

  test('WatchRoutes: the current bests first, then changes in order; a cancelled watch unsubscribes', async () => {
    const observers = a.rib.changes$.observers.length;
    const watch = client.watchRoutes({ family: 'ipv4-unicast', initial: true });
    const initial = await take(watch, 3);
    assert.deepEqual(initial.map((e) => e.route?.prefix).sort(), ['10.51.0.0/24', '10.51.1.0/24', '10.52.0.0/24']);
    assert.ok(initial.every((e) => !e.withdrawn && e.time !== null));
    const prefixes = Array.from({ length: 50 }, (_, i) => `10.53.${i}.0/24`);
    const next = take(watch, 100);
    for (const p of prefixes) originate(a, p);
    for (const p of prefixes) a.withdrawOriginated(IPV4_UNICAST, p);
    const events = await next;
    assert.deepEqual(
      events.map((e) => `${e.withdrawn ? '-' : '+'}${e.route?.prefix}`),
      [...prefixes.map((p) => `+${p}`), ...prefixes.map((p) => `-${p}`)],
    );
    const status = streamStatus(watch);
    watch.on('error', () => {});
    watch.cancel();
    assert.equal((await status).code, grpc.status.CANCELLED);
    await eventually('the watch unsubscribed', () => a.rib.changes$.observers.length === observers);
  });

  test('WatchRoutes: filters and INVALID_ARGUMENT', async () => {
    const watch = client.watchRoutes({ filter: { ip: '10.54.0.0/16' } });
    const got = take(watch, 2);
    await new Promise((r) => setTimeout(r, 100));
    originate(a, '10.55.0.0/24');
    originate(a, '10.54.1.0/24');
    a.withdrawOriginated(IPV4_UNICAST, '10.55.0.0/24');
    a.withdrawOriginated(IPV4_UNICAST, '10.54.1.0/24');
    assert.deepEqual((await got).map((e: RouteEvent__Output) => [e.route?.prefix, e.withdrawn]), [['10.54.1.0/24', false], ['10.54.1.0/24', true]]);
    watch.on('error', () => {});
    watch.cancel();
    await rejectsWith(collect(client.watchRoutes({ filter: { mac: 'zz' } })), grpc.status.INVALID_ARGUMENT, /^filter\.mac/);
    await rejectsWith(collect(client.watchRoutes({ family: 'nope' })), grpc.status.INVALID_ARGUMENT, /^family: unknown family "nope"/);
  });

  test('AddPeer: INVALID_ARGUMENT per field, then the neighbour is added and started; ALREADY_EXISTS', async () => {
    const bad = (req: object, details: RegExp): Promise<unknown> =>
      rejectsWith(unary((cb) => client.addPeer(req, cb)), grpc.status.INVALID_ARGUMENT, details);
    const ok = { address: '127.0.5.3', remoteAs: 65001, passive: true };
    await bad({ ...ok, address: '' }, /^address is required/);
    await bad({ ...ok, address: '127.0.5' }, /^address: "127\.0\.5" is not an IPv4 or IPv6 address/);
    await bad({ ...ok, remoteAs: 0 }, /^remote_as: expected an AS number 1\.\.4294967295, got 0/);
    await bad({ ...ok, port: 70000 }, /^port: expected 1\.\.65535/);
    await bad({ ...ok, holdTime: 2 }, /^hold_time: 2 is not 3\.\.65535/);
    await bad({ ...ok, families: ['ipv4-unicast', 'bogus'] }, /^families\[1\]: unknown family "bogus"/);
    await bad({ ...ok, families: ['ipv4-unicast', 'ipv4'] }, /^families\[1\]: duplicate family "ipv4"/);
    await bad({ ...ok, routeReflectorClient: true }, /^route_reflector_client applies to iBGP neighbours only/);
    await bad({ ...ok, localAddress: '::1' }, /^local_address: ::1 is not of the same family as address 127\.0\.5\.3/);
    await bad({ ...ok, localAddress: 'me' }, /^local_address: "me" is not an IPv4 or IPv6 address/);

    const p = await unary<import('../../gen/proto/vmmi/v1/Peer.js').Peer__Output>((cb) =>
      client.addPeer({ ...ok, families: ['ipv4', 'l2vpn-evpn'], description: 'added at run time', holdTime: 30 }, cb),
    );
    assert.equal(p.address, '127.0.5.3');
    assert.equal(p.state, 'Active', 'a passive neighbour waits for the peer');
    assert.deepEqual(p.families, ['ipv4-unicast', 'l2vpn-evpn']);
    assert.equal(p.description, 'added at run time');
    assert.equal(p.holdTime, 30);
    assert.ok(a.peers.has('127.0.5.3'));
    await rejectsWith(unary((cb) => client.addPeer(ok, cb)), grpc.status.ALREADY_EXISTS, 'neighbor 127.0.5.3 already exists');
  });

  test('ResetPeer: soft resets need an Established session; bad input', async () => {
    await rejectsWith(unary((cb) => client.resetPeer({ address: '127.0.5.3', mode: 'SOFT_IN' }, cb)), grpc.status.FAILED_PRECONDITION, /SOFT_IN reset: session with 127\.0\.5\.3 is Active, not Established/);
    await rejectsWith(unary((cb) => client.resetPeer({ address: '127.0.5.3', mode: 'SOFT_OUT' }, cb)), grpc.status.FAILED_PRECONDITION, /not Established/);
    await rejectsWith(unary((cb) => client.resetPeer({ address: '127.0.5.99', mode: 'HARD' }, cb)), grpc.status.NOT_FOUND);
    await rejectsWith(unary((cb) => client.resetPeer({ address: B, message: 'x'.repeat(256) }, cb)), grpc.status.INVALID_ARGUMENT, /^message: at most 255 UTF-8 bytes/);
  });

  test('ResetPeer SOFT_IN sends ROUTE-REFRESH (the peer answers), SOFT_OUT sends our routes again', async () => {
    const answered = (): number => bLog.filter((l) => l.msg.startsWith('route refresh for')).length;
    await unary((cb) => client.resetPeer({ address: B, mode: 'SOFT_IN' }, cb));
    await eventually('B answered both families', () => answered() === 2);
    const bPeer = b.peers.get(A)!;
    const before = bPeer.status().messagesIn;
    await unary((cb) => client.resetPeer({ address: B, mode: 'SOFT_OUT' }, cb));
    // BoRR, the UPDATE(s) and EoRR for each of the two families (RFC 7313).
    await eventually('B received the table again', () => bPeer.status().messagesIn - before >= 6);
    await unary((cb) => client.resetPeer({ address: B, mode: 'SOFT_BOTH' }, cb));
    await eventually('B answered again', () => answered() === 4);
    assert.equal(a.peers.get(B)!.state, 'Established');
  });

  test('ResetPeer HARD: Cease / Administrative Reset with the message, then the session comes back', async () => {
    const got: { code: number; subcode: number; data: Buffer }[] = [];
    const sub = b.peerEvents$.subscribe((e) => {
      if (e.type === 'notification' && e.direction === 'received') got.push(e.notify);
    });
    try {
      await unary((cb) => client.resetPeer({ address: B, mode: 'HARD', message: 'maintenance' }, cb));
      await eventually('B got the NOTIFICATION', () => got.length > 0);
      assert.equal(got[0]!.code, ErrorCode.Cease);
      assert.equal(got[0]!.subcode, CeaseSubcode.AdministrativeReset);
      assert.equal(got[0]!.data.subarray(1).toString('utf8'), 'maintenance');
      await eventually('Established again', () => a.peers.get(B)?.state === 'Established' && b.peers.get(A)?.state === 'Established', 15_000);
      await eventually('routes back at A', () => a.rib.best(IPV4_UNICAST, key('10.52.0.0/24')) !== undefined);
    } finally {
      sub.unsubscribe();
    }
  });

  test('DeletePeer: Cease / Peer De-configured, the neighbour and its routes are gone; NOT_FOUND after', async () => {
    await unary((cb) => client.deletePeer({ address: '127.0.5.3' }, cb));
    const got: { code: number; subcode: number }[] = [];
    const sub = b.peerEvents$.subscribe((e) => {
      if (e.type === 'notification' && e.direction === 'received') got.push(e.notify);
    });
    try {
      await unary((cb) => client.deletePeer({ address: B }, cb));
      assert.equal(a.peers.has(B), false);
      assert.equal(a.rib.best(IPV4_UNICAST, key('10.52.0.0/24')), undefined);
      assert.equal(a.rib.count(L2VPN_EVPN), 0);
      await eventually('B got Cease / Peer De-configured', () => got.some((n) => n.code === ErrorCode.Cease && n.subcode === CeaseSubcode.PeerDeconfigured));
    } finally {
      sub.unsubscribe();
    }
    await rejectsWith(unary((cb) => client.deletePeer({ address: B }, cb)), grpc.status.NOT_FOUND, `neighbor ${B} is not configured`);
    await rejectsWith(unary((cb) => client.getPeer({ address: B }, cb)), grpc.status.NOT_FOUND);
  });
});

describe('API server: slow watchers, shutdown, health and reflection', () => {
  let s: Speaker;
  before(async () => {
    s = new Speaker(configFrom('router-id: 127.0.5.9\nasn: 65000\nlisten: false\n'), silentLogger());
    await s.start();
  });
  after(async () => {
    await s?.stop();
  });

  async function serve(watchBuffer: number): Promise<{ server: ApiServer; client: ControlServiceClient }> {
    const api = apiConfig({ watchBuffer });
    const server = await startApiServer(api, { control: createControlService(s, new Authority(api), silentLogger(), api) }, silentLogger());
    return { server, client: controlClient(server) };
  }

  /** One route change per turn of the event loop, so a client that reads keeps up. */
  async function churn(n: number, base: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const p = `10.${base + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;
      originate(s, p);
      await new Promise((r) => setImmediate(r));
    }
  }

  test('a watcher that reads keeps up; one that does not read is ended with RESOURCE_EXHAUSTED', async () => {
    const { server, client } = await serve(50);
    try {
      const fast = client.watchRoutes({ family: 'ipv4-unicast' });
      // A grpc-js client buffers whatever arrives even when paused, so the slow reader is a bare
      // HTTP/2 stream that stops reading: then HTTP/2 flow control holds the server back.
      const slow = rawServerStream(server.endpoint.port, '/vmmi.v1.ControlService/WatchRoutes',
        proto.vmmi.v1.ControlService.service.WatchRoutes.requestSerialize({ family: 'ipv4-unicast' }));
      const fastGot = take(fast, 5000, 30_000);
      await new Promise((r) => setTimeout(r, 100));
      await churn(5000, 60);
      assert.equal((await fastGot).length, 5000);
      // The slow one gets what was already on its way (at most its window), then the status.
      const st = await slow.finish();
      assert.equal(st.status, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(st.message, 'consumer too slow: more than 50 events waiting');
      assert.ok(st.bytes < 200_000, `${st.bytes} bytes: no more than the HTTP/2 window and what was in flight`);
      fast.on('error', () => {});
      fast.cancel();
    } finally {
      client.close();
      await server.close();
    }
  });

  test('closing the server ends open watches with UNAVAILABLE at once', async () => {
    const { server, client } = await serve(1000);
    const watch = client.watchRoutes({ initial: true });
    watch.on('data', () => {});
    watch.on('error', () => {});
    const status = streamStatus(watch);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 900, 'no wait for the grace period');
    const st = await status;
    assert.equal(grpc.status[st.code], 'UNAVAILABLE');
    assert.equal(st.details, 'vmmid API is shutting down');
    client.close();
  });

  test('health: SERVING for the server and the ControlService; reflection lists the services', async () => {
    const { server, client } = await serve(1000);
    const target = `127.0.0.1:${server.endpoint.port}`;
    const health = healthClient(target);
    try {
      const check = (service: string): Promise<{ status: string }> => unary((cb) => health.check({ service }, cb));
      assert.equal((await check('')).status, 'SERVING');
      assert.equal((await check('vmmi.v1.ControlService')).status, 'SERVING');
      await rejectsWith(check('vmmi.v1.Nope'), grpc.status.NOT_FOUND);

      const names = await reflectionServices(target);
      assert.ok(names.includes('vmmi.v1.ControlService'), names.join(', '));
      assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
      assert.ok(!names.includes('vmmi.v1.MobilityService'), 'not registered here, so not listed');
    } finally {
      health.close();
      client.close();
      await server.close();
    }
  });
});

/**
 * A server-streaming call over bare HTTP/2 that reads nothing until finish():
 * unlike a paused grpc-js client it leaves the server's HTTP/2 window closed.
 */
function rawServerStream(port: number, path: string, request: Buffer): { finish(): Promise<{ status: number; message: string; bytes: number }> } {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  const head = Buffer.alloc(5);
  head.writeUInt32BE(request.length, 1);
  req.end(Buffer.concat([head, request]));
  req.pause();
  let trailers: http2.IncomingHttpHeaders = {};
  req.on('trailers', (t) => (trailers = t));
  return {
    async finish() {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.resume();
      await new Promise((r) => req.on('close', r));
      session.close();
      const message = trailers['grpc-message'];
      return { status: Number(trailers['grpc-status']), message: decodeURIComponent(typeof message === 'string' ? message : ''), bytes };
    },
  };
}

interface HealthClient extends grpc.Client {
  check(req: { service: string }, cb: (e: grpc.ServiceError | null, v?: { status: string }) => void): grpc.ClientUnaryCall;
}

interface ReflectionClient extends grpc.Client {
  serverReflectionInfo(): grpc.ClientDuplexStream<{ listServices: string }, { listServicesResponse?: { service: { name: string }[] } }>;
}

/** A client of a service from a .proto file (untyped by nature; the tests give it the shape they use). */
function clientOf<C extends grpc.Client>(file: string, path: readonly string[], target: string): C {
  let node: unknown = grpc.loadPackageDefinition(protoLoader.loadSync(file, { defaults: true, oneofs: true, enums: String }));
  for (const p of path) node = (node as Record<string, unknown>)[p];
  const Ctor = node as new (address: string, creds: grpc.ChannelCredentials) => C;
  return new Ctor(target, grpc.credentials.createInsecure());
}

function healthClient(target: string): HealthClient {
  return clientOf<HealthClient>(healthProtoPath, ['grpc', 'health', 'v1', 'Health'], target);
}

/** Asks grpc.reflection.v1.ServerReflection for the list of services. */
async function reflectionServices(target: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
  const c = clientOf<ReflectionClient>(file, ['grpc', 'reflection', 'v1', 'ServerReflection'], target);
  try {
    const stream = c.serverReflectionInfo();
    const reply = new Promise<string[]>((resolve, reject) => {
      stream.on('data', (m: { listServicesResponse?: { service: { name: string }[] } }) =>
        resolve((m.listServicesResponse?.service ?? []).map((x) => x.name)));
      stream.on('error', reject);
    });
    stream.write({ listServices: '' });
    const names = await reply;
    stream.end();
    return names;
  } finally {
    c.close();
  }
}
