import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import '../../src/evpn/index.js';
import '../../src/vpn/index.js';
import { extCommunityText, nlriToProto, parseFamily, routeToProto } from '../../src/api/convert.js';
import { compileRouteFilter } from '../../src/api/route-filter.js';
import { ApiError } from '../../src/api/status.js';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AsPathSegmentType, Origin } from '../../src/bgp/wire/constants.js';
import { type FamilyKey, IPV4_UNICAST, IPV4_VPN, IPV6_UNICAST, IPV6_VPN, L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import type { Nlri } from '../../src/bgp/wire/nlri.js';
import { parsePrefix } from '../../src/bgp/wire/prefix.js';
import { ipToBytes } from '../../src/core/ip.js';
import { esiAs } from '../../src/evpn/esi.js';
import { encodeExtCommunities, routeTarget } from '../../src/evpn/ext-communities.js';
import { labelFromMpls, labelFromVni } from '../../src/evpn/label.js';
import { ethernetAdRoute, ethernetSegmentRoute, ipPrefixRoute, macIpRoute, unknownEvpnRoute } from '../../src/evpn/nlri.js';
import type { Path, PathSource } from '../../src/rib/path.js';
import { vpnNextHop, vpnRouteOrThrow } from '../../src/vpn/route.js';

const source: PathSource = { id: '10.0.0.2', address: ipToBytes('10.0.0.2')!, routerId: 0x0a000002, asn: 65001, ibgp: false, local: false, rrClient: false };

function path(family: FamilyKey, nlri: Nlri, attrs: PathAttributes, stale = false): Path {
  return { family, nlri, attrs, source, stale };
}

function prefix(p: string): Nlri {
  const r = parsePrefix(p);
  assert.ok(r.ok);
  return r.value;
}

function throwsInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.code === grpc.status.INVALID_ARGUMENT && message.test(e.message));
}

describe('routeToProto', () => {
  test('IPv4 unicast with every common attribute', () => {
    const attrs: PathAttributes = {
      origin: Origin.Egp,
      asPath: [
        { type: AsPathSegmentType.AsSequence, asns: [65001, 65002] },
        { type: AsPathSegmentType.AsSet, asns: [1, 2] },
      ],
      nextHop: ipToBytes('192.0.2.1'),
      med: 0,
      localPref: 200,
      communities: [(65000 << 16) + 7, 0xffffff01],
      originatorId: 0x0a000009,
      clusterList: [0x0aff0909, 0x01020304],
    };
    const r = routeToProto(path(IPV4_UNICAST, prefix('10.0.0.0/8'), attrs, true), false);
    assert.deepEqual(r, {
      family: 'ipv4-unicast',
      prefix: '10.0.0.0/8',
      attributes: {
        origin: 'egp',
        asPath: '65001 65002 {1 2}',
        nextHop: '192.0.2.1',
        med: 0,
        localPref: 200,
        communities: ['65000:7', 'no-export'],
        extendedCommunities: [],
        originatorId: '10.0.0.9',
        clusterList: ['10.255.9.9', '1.2.3.4'],
        pmsiTunnel: '',
      },
      source: '10.0.0.2',
      best: false,
      stale: true,
    });
  });

  test('IPv6 unicast: a global and link-local next hop; no MED or LOCAL_PREF when absent', () => {
    const nh = Buffer.concat([ipToBytes('2001:db8::1')!, ipToBytes('fe80::1')!]);
    const r = routeToProto(path(IPV6_UNICAST, prefix('2001:db8:5::/48'), { origin: Origin.Igp, asPath: [], nextHop: nh }), true);
    assert.equal(r.prefix, '2001:db8:5::/48');
    assert.equal(r.attributes?.nextHop, '2001:db8::1 fe80::1');
    assert.equal(r.attributes?.med, undefined);
    assert.equal(r.attributes?.localPref, undefined);
    assert.equal(r.best, true);
  });

  test('VPNv4 and VPNv6: RD, prefix and labels; the next hop without its zero RD', () => {
    const v4 = vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', labels: [16, 100] });
    const r = routeToProto(path(IPV4_VPN, v4, { origin: Origin.Igp, asPath: [], nextHop: vpnNextHop(ipToBytes('10.0.0.1')!) }), true);
    assert.equal(r.family, 'ipv4-vpn');
    assert.equal(r.prefix, '65000:10:192.168.10.0/24 label 16,100');
    assert.deepEqual(r.vpn, { rd: '65000:10', prefix: '192.168.10.0/24', labels: [16, 100] });
    assert.equal(r.attributes?.nextHop, '10.0.0.1');
    assert.equal(r.evpn, undefined);
    const v6 = vpnRouteOrThrow({ rd: '192.0.2.1:7', prefix: '2001:db8:7::/48', label: 77 });
    const r6 = routeToProto(path(IPV6_VPN, v6, { nextHop: vpnNextHop(ipToBytes('2001:db8::9')!) }), false);
    assert.deepEqual(r6.vpn, { rd: '192.0.2.1:7', prefix: '2001:db8:7::/48', labels: [77] });
    assert.equal(r6.attributes?.nextHop, '2001:db8::9');
    assert.equal(r6.attributes?.origin, '');
  });

  test('EVPN types 1, 4 and 5, MPLS labels, and every named extended community', () => {
    const esi = esiAs(65000, 7);
    const ext = encodeExtCommunities([
      routeTarget('ipv4', 0x0a000001, 5),
      { kind: 'encapsulation', tunnelType: 10 },
      { kind: 'router-mac', mac: Buffer.from('525400aabb02', 'hex') },
      { kind: 'default-gateway' },
      { kind: 'esi-label', singleActive: true, label: labelFromVni(42) },
      { kind: 'es-import', mac: Buffer.from('525400aabb03', 'hex') },
      { kind: 'arp-nd', router: true, override: false, immutable: true },
      { kind: 'mac-mobility', sticky: true, seq: 9 },
      { kind: 'unknown', raw: Buffer.from('8001020304050607', 'hex') },
    ]);
    const attrs: PathAttributes = { origin: Origin.Incomplete, asPath: [], nextHop: ipToBytes('10.0.0.1'), extCommunities: ext };
    const t1 = routeToProto(path(L2VPN_EVPN, ethernetAdRoute({ rd: '10.0.0.1:3', esi, tag: 0xffffffff, label: labelFromMpls(300) }), attrs), true);
    assert.deepEqual(t1.evpn, { routeType: 1, rd: '10.0.0.1:3', esi: '05:00:00:fd:e8:00:00:00:07:00', ethernetTag: 4294967295, labels: [300] });
    assert.deepEqual(t1.attributes?.extendedCommunities, [
      'rt:10.0.0.1:5',
      'encap:mpls',
      'router-mac:52:54:00:aa:bb:02',
      'default-gateway',
      'esi-label:42:single-active',
      'es-import:52:54:00:aa:bb:03',
      'arp-nd:router,immutable',
      'mac-mobility:9:sticky',
      'raw:8001020304050607',
    ]);
    assert.deepEqual(t1.attributes?.macMobility, { sequence: 9, sticky: true });
    assert.equal(t1.attributes?.origin, 'incomplete');

    const t4 = routeToProto(path(L2VPN_EVPN, ethernetSegmentRoute({ rd: '10.0.0.1:3', esi, originator: '2001:db8::1' }), attrs), true);
    assert.deepEqual(t4.evpn, { routeType: 4, rd: '10.0.0.1:3', esi: '05:00:00:fd:e8:00:00:00:07:00', originatorIp: '2001:db8::1' });

    const t5 = routeToProto(path(L2VPN_EVPN, ipPrefixRoute({ rd: '65000:9', tag: 0, prefix: '10.20.0.0/24', gateway: '10.20.0.1', label: labelFromVni(5000) }), { extCommunities: encodeExtCommunities([{ kind: 'encapsulation', tunnelType: 8 }]) }), true);
    assert.deepEqual(t5.evpn, {
      routeType: 5, rd: '65000:9', esi: '00:00:00:00:00:00:00:00:00:00', ethernetTag: 0, ip: '10.20.0.0', ipPrefixLength: 24, gatewayIp: '10.20.0.1', labels: [5000],
    });
    assert.equal(t5.prefix, 'RD 65000:9 [5]:[0]:[24]:[10.20.0.0]');
    const t5nogw = routeToProto(path(L2VPN_EVPN, ipPrefixRoute({ rd: '65000:9', tag: 0, prefix: '10.21.0.0/24' }), {}), true);
    assert.equal(t5nogw.evpn?.gatewayIp, '');

    const t2 = routeToProto(path(L2VPN_EVPN, macIpRoute({ rd: '65000:1', tag: 0, mac: '52:54:00:aa:bb:01', label1: labelFromVni(10100), label2: labelFromVni(50000) }), {}), true);
    assert.deepEqual(t2.evpn?.labels, [10100, 50000], 'label 2 is the L3 VNI');
    assert.equal(t2.evpn?.ip, '');

    const unknown = routeToProto(path(L2VPN_EVPN, unknownEvpnRoute(9, Buffer.from('0102', 'hex')), {}), false);
    assert.deepEqual(unknown.evpn, { routeType: 9 });
    assert.equal(unknown.prefix, '[9]:[0102]');
  });

  test('encapsulation names and the raw fallback', () => {
    assert.equal(extCommunityText({ kind: 'encapsulation', tunnelType: 8 }), 'encap:vxlan');
    assert.equal(extCommunityText({ kind: 'encapsulation', tunnelType: 99 }), 'encap:99');
    assert.equal(extCommunityText({ kind: 'arp-nd', router: false, override: false, immutable: false }), 'arp-nd');
  });

  test('nlriToProto: a route given by parts (Adj-RIB-Out)', () => {
    const r = nlriToProto(IPV4_UNICAST, prefix('10.1.0.0/16'), { nextHop: ipToBytes('10.0.0.1') }, { source: 'local', best: true, stale: false });
    assert.equal(r.prefix, '10.1.0.0/16');
    assert.equal(r.source, 'local');
  });

  test('parseFamily: config names and short aliases; anything else INVALID_ARGUMENT', () => {
    assert.equal(parseFamily('ipv4', 'family'), IPV4_UNICAST);
    assert.equal(parseFamily('l2vpn-evpn', 'family'), L2VPN_EVPN);
    assert.equal(parseFamily('ipv6-vpn', 'family'), IPV6_VPN);
    throwsInvalid(() => parseFamily('ipx', 'families[2]'), /^families\[2\]: unknown family "ipx" \(expected one of ipv4-unicast, ipv6-unicast, l2vpn-evpn, ipv4-vpn, ipv6-vpn\)$/);
  });
});

describe('compileRouteFilter', () => {
  const v4 = path(IPV4_UNICAST, prefix('10.1.2.0/24'), {});
  const v6 = path(IPV6_UNICAST, prefix('2001:db8:1::/48'), {});
  const vpn = path(IPV4_VPN, vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', label: 5 }), {
    extCommunities: encodeExtCommunities([routeTarget('as2', 65000, 10)]),
  });
  const t2 = path(L2VPN_EVPN, macIpRoute({ rd: '10.0.0.21:100', tag: 7, mac: '52:54:00:aa:bb:01', ip: '2001:db8:1::5', label1: labelFromVni(10100) }), {});
  const t1 = path(L2VPN_EVPN, ethernetAdRoute({ rd: '10.0.0.21:100', esi: esiAs(1, 1), tag: 0, label: labelFromVni(10200) }), {});
  const all = [v4, v6, vpn, t2, t1];
  const matching = (f: Parameters<typeof compileRouteFilter>[0]): Path[] => all.filter(compileRouteFilter(f));

  test('no filter or an empty one matches everything', () => {
    assert.equal(matching(undefined).length, 5);
    assert.equal(matching({}).length, 5);
    assert.equal(matching({ rd: '', mac: '', ip: '', routeTarget: '' }).length, 5);
  });

  test('rd matches VPN and EVPN routes; route_target any path carrying it', () => {
    assert.deepEqual(matching({ rd: '65000:10' }), [vpn]);
    assert.deepEqual(matching({ rd: '10.0.0.21:100' }), [t2, t1]);
    assert.deepEqual(matching({ routeTarget: 'RT:65000:10' }), [vpn]);
  });

  test('ip: an address matches what contains it, a prefix what is inside it, in both families', () => {
    assert.deepEqual(matching({ ip: '10.1.2.3' }), [v4]);
    assert.deepEqual(matching({ ip: '192.168.10.200' }), [vpn]);
    assert.deepEqual(matching({ ip: '2001:db8:1::5' }), [v6, t2]);
    assert.deepEqual(matching({ ip: '2001:db8::/32' }), [v6, t2]);
    assert.deepEqual(matching({ ip: '10.0.0.0/8' }), [v4]);
    assert.deepEqual(matching({ ip: '10.1.2.0/25' }), []);
  });

  test('vni matches the ethernet tag or label 1; route_type and mac only EVPN', () => {
    assert.deepEqual(matching({ vni: 10100 }), [t2]);
    assert.deepEqual(matching({ vni: 7 }), [t2]);
    assert.deepEqual(matching({ vni: 10200 }), [t1]);
    assert.deepEqual(matching({ routeType: 1 }), [t1]);
    assert.deepEqual(matching({ mac: '5254.00aa.bb01' }), [t2]);
    assert.deepEqual(matching({ mac: '52:54:00:aa:bb:01', routeType: 1 }), []);
  });

  test('bad fields are INVALID_ARGUMENT naming the field', () => {
    throwsInvalid(() => compileRouteFilter({ rd: 'x' }), /^filter\.rd: /);
    throwsInvalid(() => compileRouteFilter({ routeTarget: '65000' }, 'watch.filter'), /^watch\.filter\.route_target: /);
    throwsInvalid(() => compileRouteFilter({ mac: '52:54:00:aa:bb:zz' }), /^filter\.mac: /);
    throwsInvalid(() => compileRouteFilter({ ip: '10.1.2.0/33' }), /^filter\.ip: .*prefix length "33"/);
    throwsInvalid(() => compileRouteFilter({ ip: '10.1.2' }), /^filter\.ip: /);
    throwsInvalid(() => compileRouteFilter({ routeType: 6 }), /^filter\.route_type: 6 is not an EVPN route type 1\.\.5$/);
  });
});
