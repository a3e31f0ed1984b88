import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsPathSegmentType } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import { AdjRibOut } from '../../src/rib/adj-rib-out.js';
import { type ExportTarget, exportAttributes } from '../../src/rib/export.js';
import { attrs, mkPath, prefix, source } from './support.js';

const ibgpPeer: ExportTarget = { id: '9.9.9.9', ibgp: true, localAsn: 65000, localAddress: Buffer.from([127, 0, 0, 5]), routerId: Buffer.from([1, 2, 3, 4]), rrClient: false };
const ebgpPeer: ExportTarget = { ...ibgpPeer, ibgp: false };

test('a path never goes back to the peer it came from', () => {
  assert.equal(exportAttributes(mkPath(source('9.9.9.9'), attrs()), ebgpPeer), undefined);
});

test('iBGP-learned paths are not sent to iBGP peers (no reflection)', () => {
  const p = mkPath(source('1.1.1.1', { ibgp: true }), attrs({ localPref: 100 }));
  assert.equal(exportAttributes(p, ibgpPeer), undefined);
  assert.ok(exportAttributes(p, ebgpPeer));
});

test('to eBGP: our AS prepended, next hop self, LOCAL_PREF, learned MED and reflection attributes removed', () => {
  const p = mkPath(source('1.1.1.1', { ibgp: true }), attrs({ localPref: 300, med: 7, originatorId: 1, clusterList: [2], path: [65010] }));
  const a = exportAttributes(p, ebgpPeer)!;
  assert.deepEqual(a.asPath, [{ type: AsPathSegmentType.AsSequence, asns: [65000, 65010] }]);
  assert.deepEqual([...a.nextHop!], [127, 0, 0, 5]);
  assert.equal(a.localPref, undefined);
  assert.equal(a.med, undefined);
  assert.equal(a.originatorId, undefined);
  assert.equal(a.clusterList, undefined);
});

test('to eBGP: a local route keeps its configured next hop and MED (third-party next hop, RFC 4271 §5.1.3)', () => {
  const p = mkPath(source('0.0.0.0', { local: true }), attrs({ med: 9, asPath: [] }));
  const a = exportAttributes(p, ebgpPeer)!;
  assert.deepEqual([...a.nextHop!], [10, 0, 0, 1]);
  assert.equal(a.med, 9);
  assert.deepEqual(a.asPath, [{ type: AsPathSegmentType.AsSequence, asns: [65000] }]);
});

test('to iBGP: LOCAL_PREF defaults to 100; a local route without next hop gets next-hop-self; IPv6 over IPv4 uses ::ffff:a.b.c.d', () => {
  const eb = exportAttributes(mkPath(source('1.1.1.1'), attrs()), ibgpPeer)!;
  assert.equal(eb.localPref, 100);
  assert.deepEqual([...eb.nextHop!], [10, 0, 0, 1], 'eBGP next hop kept toward iBGP');
  const local = { ...mkPath(source('0.0.0.0', { local: true }), attrs({ nextHop: undefined })), family: IPV6_UNICAST };
  assert.equal(exportAttributes(local, ibgpPeer)!.nextHop!.toString('hex'), '00000000000000000000ffff7f000005');
});

test('Adj-RIB-Out coalesces changes per destination and groups by attribute object', () => {
  const out = new AdjRibOut();
  const a1 = attrs({ med: 1 });
  const a2 = attrs({ med: 2 });
  const n1 = prefix('10.1.0.0/24');
  const n2 = prefix('10.2.0.0/24');
  for (let i = 0; i < 1000; i++) out.stage(IPV4_UNICAST, n1, i % 2 ? a1 : a2);
  out.stage(IPV4_UNICAST, n2, a1);
  assert.equal(out.pendingSize, 2, 'a thousand changes of one route are one pending entry');
  const b = out.take(10)!;
  assert.deepEqual([...b.announce.get(a1)!].map((n) => n.key), [n1.key, n2.key]);
  assert.equal(out.pendingSize, 0);
  // Back to what the peer has: nothing to send. Withdraw, then re-announce before it left: nothing either.
  out.stage(IPV4_UNICAST, n1, a1);
  assert.equal(out.take(10), undefined);
  out.stage(IPV4_UNICAST, n1, null);
  out.stage(IPV4_UNICAST, n1, a1);
  assert.equal(out.take(10), undefined);
  assert.equal(out.pendingSize, 0);
  // A withdraw of a route the peer never had queues nothing.
  out.stage(IPV4_UNICAST, prefix('10.3.0.0/24'), null);
  assert.equal(out.pendingSize, 0);
  out.stage(IPV4_UNICAST, n2, null);
  assert.deepEqual(out.take(10)!.withdraw.map((n) => n.key), [n2.key]);
  assert.equal(out.sentCount(IPV4_UNICAST), 1);
  // Route refresh: everything sent is queued again, and an equal stage keeps it queued.
  out.resend(IPV4_UNICAST);
  out.stage(IPV4_UNICAST, n1, a1);
  assert.equal(out.pendingSize, 1);
  assert.equal(out.take(10)!.announce.get(a1)?.length, 1);
  // A change staged after the resend was queued wins over it.
  out.resend(IPV4_UNICAST);
  out.stage(IPV4_UNICAST, n1, a2);
  assert.equal(out.take(10)!.announce.get(a2)?.length, 1);
});

test('route reflection (RFC 4456 §6, §8): client routes go to everyone, non-client routes to clients only', () => {
  const rr = (id: string, rrClient: boolean): ExportTarget => ({ ...ibgpPeer, id, rrClient, clusterId: 0x0a0a0a0a });
  const fromClient = mkPath(source('1.1.1.1', { ibgp: true, rrClient: true }), attrs({ localPref: 150 }));
  const fromNonClient = mkPath(source('2.2.2.2', { ibgp: true }), attrs({ localPref: 150 }));
  const toClient = exportAttributes(fromClient, rr('3.3.3.3', true))!;
  assert.equal(toClient.originatorId, 0x01010101, 'ORIGINATOR_ID is the source router id');
  assert.deepEqual(toClient.clusterList, [0x0a0a0a0a]);
  assert.equal(toClient.localPref, 150);
  assert.deepEqual([...toClient.nextHop!], [10, 0, 0, 1], 'next hop unchanged');
  assert.ok(exportAttributes(fromClient, rr('4.4.4.4', false)), 'client → non-client');
  assert.ok(exportAttributes(fromNonClient, rr('3.3.3.3', true)), 'non-client → client');
  assert.equal(exportAttributes(fromNonClient, rr('4.4.4.4', false)), undefined, 'non-client → non-client is not reflected');
  assert.equal(exportAttributes(fromClient, rr('1.1.1.1', true)), undefined, 'never back to its source');
  // An already reflected route keeps its ORIGINATOR_ID and gains our CLUSTER_ID in front.
  const reflected = mkPath(source('1.1.1.1', { ibgp: true, rrClient: true }), attrs({ originatorId: 7, clusterList: [9] }));
  const again = exportAttributes(reflected, rr('3.3.3.3', true))!;
  assert.equal(again.originatorId, 7);
  assert.deepEqual(again.clusterList, [0x0a0a0a0a, 9]);
  // Without a cluster id (no clients configured) iBGP routes are not re-advertised to iBGP at all.
  assert.equal(exportAttributes(fromClient, { ...ibgpPeer, id: '3.3.3.3', rrClient: true }), undefined);
});

test('next-hop-self per family: VPN next hops carry a zero RD, EVPN uses the IPv4 address', () => {
  const local = (family: number) => ({ ...mkPath(source('0.0.0.0', { local: true }), attrs({ nextHop: undefined })), family });
  assert.equal(exportAttributes(local((1 << 8) | 128), ibgpPeer)!.nextHop!.toString('hex'), '00000000000000007f000005');
  assert.equal(exportAttributes(local((25 << 8) | 70), ibgpPeer)!.nextHop!.toString('hex'), '7f000005');
  assert.equal(
    exportAttributes(local((2 << 8) | 128), ibgpPeer)!.nextHop!.toString('hex'),
    '000000000000000000000000000000000000ffff7f000005',
  );
});

test('a DC gateway\'s WAN peer gets only the gateway\'s own IP routes (RFC 9014): not the DC\'s MAC routes, not other gateways\' IP routes', async () => {
  const { ipPrefixRoute, macIpRoute } = await import('../../src/evpn/nlri.js');
  const { vpnRouteOrThrow } = await import('../../src/vpn/route.js');
  const { IPV4_VPN, L2VPN_EVPN } = await import('../../src/bgp/wire/family.js');
  const wan: ExportTarget = { ...ebgpPeer, wan: true };
  const self = source('local', { local: true, ibgp: false });
  const otherGateway = source('10.0.0.2', { ibgp: true });
  const t5 = ipPrefixRoute({ rd: '10.0.0.1:50', tag: 0, prefix: '10.3.0.5/32', label: Buffer.from([0, 0xc3, 0x50]) });
  const vpn = vpnRouteOrThrow({ rd: '10.0.0.1:50', prefix: '10.3.0.5/32', label: 5000 });
  const t2 = macIpRoute({ rd: '10.0.0.21:1', tag: 0, mac: '52:54:00:aa:bb:01', label1: Buffer.from([0, 0x27, 0x74]) });
  const at = (src: ReturnType<typeof source>, family: number, nlri: Parameters<typeof mkPath>[2]) => ({ ...mkPath(src, attrs(), nlri), family });
  assert.ok(exportAttributes(at(self, L2VPN_EVPN, t5), wan), 'its own type-5 route');
  assert.ok(exportAttributes(at(self, IPV4_VPN, vpn), wan), 'its own VPNv4 route');
  assert.equal(exportAttributes(at(self, L2VPN_EVPN, t2), wan), undefined, 'no MAC/IP route of the data center');
  assert.equal(exportAttributes(at(otherGateway, L2VPN_EVPN, t5), wan), undefined, 'no type-5 route of another gateway (learned over the DCI)');
  assert.equal(exportAttributes(at(otherGateway, IPV4_VPN, vpn), wan), undefined, 'no VPN route of another gateway');
  assert.ok(exportAttributes(at(otherGateway, L2VPN_EVPN, t5), ebgpPeer), 'an ordinary eBGP peer still gets it');
});
