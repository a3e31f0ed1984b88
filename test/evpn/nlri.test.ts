import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader } from '../../src/bgp/wire/reader.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import {
  ESI_ZERO,
  type EvpnRoute,
  decodeEsi,
  decodeEvpnNlri,
  describeEsi,
  esiArbitrary,
  esiAs,
  esiBridge,
  esiLacp,
  esiMac,
  esiRouterId,
  ethernetAdRoute,
  ethernetSegmentRoute,
  evpnCodec,
  evpnNlriLength,
  evpnRouteBytes,
  formatEsi,
  formatEvpnRoute,
  formatMac,
  inclusiveMulticastRoute,
  ipPrefixRoute,
  isZeroEsi,
  labelBottomOfStack,
  labelFromMpls,
  labelFromVni,
  labelToMpls,
  labelToVni,
  macIpRoute,
  parseEsi,
  parseMac,
  unknownEvpnRoute,
  withPathId,
} from '../../src/evpn/index.js';
import { decodeEvpnUpdate, ip, mac, vector } from './support.js';

function decodeAll(hex: string, addPath = false): ReturnType<typeof decodeEvpnNlri> & { routes: EvpnRoute[] } {
  const routes: EvpnRoute[] = [];
  const r = decodeEvpnNlri(new Reader(Buffer.from(hex.replace(/\s+/g, ''), 'hex')), addPath, routes);
  return { ...r, routes };
}

function errorOf(hex: string, addPath = false): string {
  const r = decodeAll(hex, addPath);
  if (r.ok) assert.fail(`decoded ${hex}`);
  return r.error;
}

const RD = '0001 7f000902 0064'; // 127.0.9.2:100
const ESI0 = '00 000000000000000000';
const base = { rd: '127.0.9.2:100', tag: 0, mac: '52:54:00:aa:bb:01', label1: labelFromVni(10100) };

test('macIpRoute builds the octets GoBGP sent', () => {
  const r = macIpRoute({ ...base, ip: '10.1.1.10' });
  assert.equal(evpnRouteBytes(r).toString('hex'), `0225${RD}${ESI0}00000000 30 525400aabb01 20 0a01010a 002774`.replace(/\s+/g, ''));
  assert.equal(formatEvpnRoute(r), '[2]:[0]:[48]:[52:54:00:aa:bb:01]:[32]:[10.1.1.10]');
  assert.equal(evpnNlriLength(r, false), 39);
  assert.equal(evpnNlriLength(r, true), 43);
});

test('type 2 keys: labels and ESI are not part of the route; RD, tag, MAC and IP are', () => {
  const k = macIpRoute({ ...base, ip: '10.1.1.10' }).key;
  const same = [
    macIpRoute({ ...base, ip: '10.1.1.10', label1: labelFromVni(20000) }),
    macIpRoute({ ...base, ip: '10.1.1.10', label2: labelFromVni(50000) }),
    macIpRoute({ ...base, ip: '10.1.1.10', esi: esiAs(65000, 7) }),
    macIpRoute({ ...base, ip: '10.1.1.10', pathId: 9 }),
  ];
  for (const r of same) assert.equal(r.key, k);
  const different = [
    macIpRoute({ ...base, ip: '10.1.1.11' }),
    macIpRoute({ ...base }),
    macIpRoute({ ...base, ip: '::ffff:10.1.1.10' }),
    macIpRoute({ ...base, ip: '10.1.1.10', mac: '52:54:00:aa:bb:02' }),
    macIpRoute({ ...base, ip: '10.1.1.10', rd: '127.0.9.2:101' }),
    macIpRoute({ ...base, ip: '10.1.1.10', rd: '65000:100' }),
    macIpRoute({ ...base, ip: '10.1.1.10', tag: 1 }),
  ];
  const keys = new Set([k, ...different.map((r) => r.key)]);
  assert.equal(keys.size, different.length + 1);
  assert.equal(k.charCodeAt(0), 2);
});

test('keys of the other types follow RFC 7432 §7.1, §7.3, §7.4 and RFC 9136 §3.2', () => {
  const esi = esiLacp(mac('aa:bb:cc:dd:ee:ff'), 100);
  const a = ethernetAdRoute({ rd: '65000:1', esi, tag: 5, label: labelFromMpls(100) });
  assert.equal(ethernetAdRoute({ rd: '65000:1', esi, tag: 5, label: labelFromMpls(200) }).key, a.key);
  assert.notEqual(ethernetAdRoute({ rd: '65000:1', esi: esiLacp(mac('aa:bb:cc:dd:ee:ff'), 101), tag: 5, label: labelFromMpls(100) }).key, a.key);
  assert.notEqual(ethernetAdRoute({ rd: '65000:1', esi, tag: 6, label: labelFromMpls(100) }).key, a.key);

  const m = inclusiveMulticastRoute({ rd: '65000:1', tag: 0, originator: '10.0.0.1' });
  assert.notEqual(inclusiveMulticastRoute({ rd: '65000:1', tag: 0, originator: '10.0.0.2' }).key, m.key);
  assert.notEqual(inclusiveMulticastRoute({ rd: '65000:1', tag: 1, originator: '10.0.0.1' }).key, m.key);

  const s = ethernetSegmentRoute({ rd: '65000:1', esi, originator: '10.0.0.1' });
  assert.notEqual(ethernetSegmentRoute({ rd: '65000:1', esi: ESI_ZERO, originator: '10.0.0.1' }).key, s.key);

  const p = ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '10.20.0.0/24', label: labelFromVni(50000) });
  assert.equal(ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '10.20.0.0/24', gateway: '10.0.0.9', esi }).key, p.key);
  assert.notEqual(ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '10.20.0.0/25' }).key, p.key);
  assert.notEqual(ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '::ffff:10.20.0.0/120' }).key, p.key);
  // Each route type is its own key space, even for identical octets.
  assert.equal(new Set([a, m, s, p].map((r) => r.key.charCodeAt(0))).size, 4);
});

test('builders for each route type give the lengths RFC 7432 and RFC 9136 fix', () => {
  const esi = esiMac(mac('aa:bb:cc:dd:ee:02'), 100);
  assert.equal(evpnRouteBytes(ethernetAdRoute({ rd: '1.2.3.4:5', esi, tag: 1, label: labelFromMpls(3) }))[1], 25);
  assert.equal(evpnRouteBytes(macIpRoute({ ...base }))[1], 33);
  assert.equal(evpnRouteBytes(macIpRoute({ ...base, label2: labelFromVni(1) }))[1], 36);
  assert.equal(evpnRouteBytes(macIpRoute({ ...base, ip: '2001:db8::1', label2: labelFromVni(1) }))[1], 52);
  assert.equal(evpnRouteBytes(inclusiveMulticastRoute({ rd: '65000:1', tag: 0, originator: '2001:db8::1' }))[1], 29);
  assert.equal(evpnRouteBytes(ethernetSegmentRoute({ rd: '65000:1', esi, originator: '10.0.0.1' }))[1], 23);
  assert.equal(evpnRouteBytes(ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '10.0.0.0/8' }))[1], 34);
  assert.equal(evpnRouteBytes(ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '2001:db8::/32' }))[1], 58);
});

test('builders reject what cannot be encoded', () => {
  assert.throws(() => macIpRoute({ ...base, mac: '52:54:00:aa:bb' }), RangeError);
  assert.throws(() => macIpRoute({ ...base, ip: '10.1.1' }), RangeError);
  assert.throws(() => macIpRoute({ ...base, rd: 'nope' }), RangeError);
  assert.throws(() => macIpRoute({ ...base, label1: Buffer.alloc(4) }), RangeError);
  assert.throws(() => macIpRoute({ ...base, tag: 2 ** 32 }), RangeError);
  assert.throws(() => ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '10.0.0.0/33' }), RangeError);
  assert.throws(() => ipPrefixRoute({ rd: '65000:1', tag: 0, prefix: '10.0.0.0/8', gateway: '2001:db8::1' }), RangeError);
  assert.throws(() => unknownEvpnRoute(2, Buffer.alloc(3)), RangeError);
  assert.throws(() => unknownEvpnRoute(9, Buffer.alloc(256)), RangeError);
  assert.throws(() => labelFromVni(2 ** 24), RangeError);
  assert.throws(() => labelFromMpls(2 ** 20), RangeError);
});

test('unknown route types are kept whole and pass through', () => {
  const r = decodeAll('09 03 aabbcc 0221' + `${RD}${ESI0}00000000 30 525400aabb01 00 002774`.replace(/\s+/g, ''));
  assert.ok(r.ok);
  assert.equal(r.routes.length, 2);
  const u = r.routes[0]!;
  assert.equal(u.kind, 'unknown');
  assert.equal(u.routeType, 9);
  assert.deepEqual(u, unknownEvpnRoute(9, Buffer.from('aabbcc', 'hex')));
  assert.equal(evpnCodec.format(u), '[9]:[aabbcc]');
  assert.equal(evpnRouteBytes(u).toString('hex'), '0903aabbcc');
  assert.equal(r.routes[1]!.kind, 'mac-ip');
});

test('ADD-PATH path identifiers are read and written before each route', () => {
  const r = macIpRoute({ ...base, ip: '10.1.1.10', pathId: 7 });
  const w = new Writer();
  evpnCodec.encode(w, r, true);
  evpnCodec.encode(w, withPathId(r, 8), true);
  const out: EvpnRoute[] = [];
  const res = evpnCodec.decode(new Reader(w.toBuffer()), true, out);
  assert.ok(res.ok);
  assert.deepEqual(out.map((x) => x.pathId), [7, 8]);
  assert.deepEqual(out[0], r);
  assert.equal(out[1]!.key, r.key);
  assert.match(errorOf('000000', true), /path identifier/);
});

test('malformed NLRI: errors, not exceptions', () => {
  const mip = (macLen: string, ipLen: string, rest: string): string => {
    const body = `${RD}${ESI0}00000000${macLen}525400aabb01${ipLen}${rest}`.replace(/\s+/g, '');
    return `02${(body.length / 2).toString(16).padStart(2, '0')}${body}`;
  };
  assert.match(errorOf('02'), /truncated EVPN route header/);
  assert.match(errorOf('0221' + '00'.repeat(10)), /overruns/);
  assert.match(errorOf(mip('28', '00', '002774')), /MAC address length 40/);
  assert.match(errorOf(mip('30', '18', '0a0101002774')), /IP address length 24/);
  assert.match(errorOf(mip('30', '20', '0a01010a')), /does not fit/);
  assert.match(errorOf(mip('30', '20', '0a01010a00277400c35000')), /does not fit/);
  assert.match(errorOf(mip('30', '80', '0a01010a002774')), /does not fit/);
  assert.match(errorOf('0210' + '00'.repeat(16)), /too short/);
  assert.match(errorOf('0118' + '00'.repeat(24)), /Ethernet A-D route length 24/);
  assert.match(errorOf('0311' + `${RD}00000000 18 0a0000`.replace(/\s+/g, '') + '00'), /IP address length 24/);
  assert.match(errorOf('0312' + `${RD}00000000 20 0a000002 00`.replace(/\s+/g, '')), /expected 17/);
  assert.match(errorOf('0417' + `${RD}${ESI0} 00 0a000002`.replace(/\s+/g, '')), /IP address length 0/);
  assert.match(errorOf('0523' + '00'.repeat(35)), /expected 34 \(IPv4\) or 58/);
  assert.match(errorOf('0522' + `${RD}${ESI0}00000000 21`.replace(/\s+/g, '') + '00'.repeat(11)), /prefix length 33 exceeds 32/);
  assert.match(errorOf('053a' + `${RD}${ESI0}00000000 81`.replace(/\s+/g, '') + '00'.repeat(35)), /prefix length 129 exceeds 128/);
});

test('the codec accepts the next-hop lengths EVPN uses', () => {
  for (const [len, valid] of [[4, true], [16, true], [32, true], [0, false], [12, false], [24, false]] as const) {
    assert.equal(evpnCodec.validNextHopLength(len), valid, String(len));
  }
  assert.equal(evpnCodec.afi, 25);
  assert.equal(evpnCodec.safi, 70);
});

test('ESI types 0-5 decode to typed values from the captured routes', () => {
  const esiOf = (name: string): ReturnType<typeof decodeEsi> => {
    const r = (decodeEvpnUpdate(vector(name)).mpReach!.nlri[0] as EvpnRoute);
    if (r.kind === 'unknown' || r.kind === 'inclusive-multicast') assert.fail('no ESI');
    return r.esi;
  };
  const lacp = esiOf('gobgp-evpn-a-update-l2vpn-evpn-type1-esi01aabbccddeeff006400-etag201');
  assert.equal(lacp.kind, 'lacp');
  if (lacp.kind === 'lacp') {
    assert.equal(formatMac(lacp.systemMac), 'aa:bb:cc:dd:ee:ff');
    assert.equal(lacp.portKey, 100);
  }
  assert.deepEqual(lacp, esiLacp(mac('aa:bb:cc:dd:ee:ff'), 100));
  assert.deepEqual(esiOf('gobgp-evpn-a-update-l2vpn-evpn-type1-esi02aabbccddee01800000-etag202'), esiBridge(mac('aa:bb:cc:dd:ee:01'), 32768));
  assert.deepEqual(esiOf('gobgp-evpn-a-update-l2vpn-evpn-type1-esi00112233445566778899-etag203'), esiArbitrary(Buffer.from('112233445566778899', 'hex')));
  assert.deepEqual(esiOf('gobgp-evpn-a-update-l2vpn-evpn-type4-esi03aabbccddee02000064-10.0.0.14'), esiMac(mac('aa:bb:cc:dd:ee:02'), 100));
  assert.deepEqual(esiOf('gobgp-evpn-c-update-l2vpn-evpn-type4-esi040a0000100000000500-2001:db8::16'), esiRouterId(ip('10.0.0.16').readUInt32BE(0), 5));
  const as = esiOf('gobgp-evpn-a-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:04-2001:db8:1::40');
  assert.deepEqual(as, esiAs(65000, 100));
  assert.equal(describeEsi(as), 'AS 65000 discriminator 100');
  const zero = esiOf('gobgp-ibgp-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:01-10.1.1.10');
  assert.ok(isZeroEsi(zero));
  assert.equal(describeEsi(zero), 'single-homed');
});

test('ESI text, unknown ESI types', () => {
  const e = parseEsi('01:aa:bb:cc:dd:ee:ff:00:64:00');
  assert.ok(e.ok);
  assert.deepEqual(e.value, esiLacp(mac('aa:bb:cc:dd:ee:ff'), 100));
  assert.equal(formatEsi(e.value), '01:aa:bb:cc:dd:ee:ff:00:64:00');
  assert.deepEqual(parseEsi('0'), { ok: true, value: ESI_ZERO });
  assert.equal(parseEsi('01:aa').ok, false);
  const u = decodeEsi(Buffer.from('ff00000000000000000a', 'hex'));
  assert.equal(u.kind, 'unknown');
  assert.equal(u.type, 255);
});

test('labels: the same 3 octets read as an MPLS label or a VNI', () => {
  // FRR sends MPLS label 5000 with Bottom of Stack; GoBGP sends VNI 10100 as is (test/vectors notes).
  const frr = Buffer.from('013881', 'hex');
  assert.equal(labelToMpls(frr), 5000);
  assert.ok(labelBottomOfStack(frr));
  assert.deepEqual(labelFromMpls(5000), frr);
  const gobgp = Buffer.from('002774', 'hex');
  assert.equal(labelToVni(gobgp), 10100);
  assert.equal(labelToMpls(gobgp), 631); // what tshark shows as "MPLS Label 1: 631"
  assert.deepEqual(labelFromVni(10100), gobgp);
  assert.deepEqual(labelFromMpls(5000, false), Buffer.from('013880', 'hex'));
});

test('MAC text', () => {
  for (const t of ['52:54:00:aa:bb:01', '52-54-00-AA-BB-01', '5254.00aa.bb01', '52:54:0:aa:bb:1']) {
    const r = parseMac(t);
    assert.ok(r.ok, t);
    assert.equal(formatMac(r.value), '52:54:00:aa:bb:01');
  }
  for (const t of ['52:54:00:aa:bb', '52:54:00:aa:bb:01:02', '5254.00aa', 'zz:54:00:aa:bb:01', '', '152:54:00:aa:bb:01']) {
    assert.equal(parseMac(t).ok, false, t);
  }
});
