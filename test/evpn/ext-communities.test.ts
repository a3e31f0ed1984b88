import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToNumber } from '../../src/core/ip.js';
import {
  type ExtCommunity,
  TunnelType,
  decodeExtCommunities,
  decodeExtCommunity,
  encodeExtCommunities,
  encodeExtCommunity,
  formatExtCommunity,
  labelFromVni,
  macMobility,
  parseRouteTarget,
  routeTarget,
  routeTargets,
  routerMac,
  sameRouteTarget,
  tunnelTypes,
} from '../../src/evpn/index.js';
import { mac } from './support.js';

const hexOf = (ec: ExtCommunity): string => encodeExtCommunity(ec).toString('hex');
const fromHex = (h: string): ExtCommunity => decodeExtCommunity(Buffer.from(h, 'hex'));

/** Octets from the RFCs' layouts (and, where captured, from test/vectors), with FRR's text for each. */
const CASES: readonly [string, ExtCommunity, string][] = [
  ['0002fde800000064', routeTarget('as2', 65000, 100), 'RT:65000:100'],
  ['01020a00000e00ca', routeTarget('ipv4', ipv4ToNumber('10.0.0.14')!, 202), 'RT:10.0.0.14:202'],
  ['0202fa56ea0000cb', routeTarget('as4', 4200000000, 203), 'RT:4200000000:203'],
  ['030c000000000008', { kind: 'encapsulation', tunnelType: TunnelType.Vxlan }, 'ET:8'],
  ['030c00000000000a', { kind: 'encapsulation', tunnelType: TunnelType.Mpls }, 'ET:10'],
  ['030d000000000000', { kind: 'default-gateway' }, 'Default Gateway'],
  ['0600000000000007', { kind: 'mac-mobility', sticky: false, seq: 7 }, 'MM:7'],
  ['0600010000000000', { kind: 'mac-mobility', sticky: true, seq: 0 }, 'MM:0, sticky MAC'],
  ['06000100ffffffff', { kind: 'mac-mobility', sticky: true, seq: 0xffffffff }, 'MM:4294967295, sticky MAC'],
  ['0601000000000190', { kind: 'esi-label', singleActive: false, label: Buffer.from('000190', 'hex') }, 'ESI-label-Rt:AA'],
  ['0601010000002774', { kind: 'esi-label', singleActive: true, label: labelFromVni(10100) }, 'ESI-label-Rt:SA'],
  ['0602aabbccddee02', { kind: 'es-import', mac: mac('aa:bb:cc:dd:ee:02') }, 'ES-Import-Rt:aa:bb:cc:dd:ee:02'],
  ['0603525400000001', { kind: 'router-mac', mac: mac('52:54:00:00:00:01') }, 'Rmac:52:54:00:00:00:01'],
  ['0608010000000000', { kind: 'arp-nd', router: true, override: false, immutable: false }, 'ND:Router Flag'],
  ['06080b0000000000', { kind: 'arp-nd', router: true, override: true, immutable: true }, 'ND:Router Flag, Override Flag, Immutable'],
  ['0608000000000000', { kind: 'arp-nd', router: false, override: false, immutable: false }, 'ND'],
  // Site of Origin, a non-transitive RT (0x40), an opaque colour: not EVPN's, kept byte for byte.
  ['0003fde800000064', { kind: 'unknown', raw: Buffer.from('0003fde800000064', 'hex') }, 'UNK:0, 3'],
  ['4002fde800000064', { kind: 'unknown', raw: Buffer.from('4002fde800000064', 'hex') }, 'UNK:64, 2'],
  ['030b000000000001', { kind: 'unknown', raw: Buffer.from('030b000000000001', 'hex') }, 'UNK:3, 11'],
  ['0604000000000000', { kind: 'unknown', raw: Buffer.from('0604000000000000', 'hex') }, 'UNK:6, 4'],
];

for (const [hex, ec, text] of CASES) {
  test(`extended community ${hex}: ${text}`, () => {
    assert.deepEqual(fromHex(hex), ec);
    assert.equal(hexOf(ec), hex);
    assert.equal(formatExtCommunity(ec), text);
  });
}

test('reserved octets and undefined flag bits are ignored on receipt and sent as zero', () => {
  // RFC 7432 §7.7: only the low flag bit means sticky; the reserved octet is not looked at.
  assert.deepEqual(fromHex('0600fe7700000005'), { kind: 'mac-mobility', sticky: false, seq: 5 });
  assert.deepEqual(fromHex('0600ff0000000005'), { kind: 'mac-mobility', sticky: true, seq: 5 });
  assert.equal(hexOf(fromHex('0600ff0000000005')), '0600010000000005');
  assert.deepEqual(fromHex('030cffffffff0008'), { kind: 'encapsulation', tunnelType: 8 });
});

test('a list decodes in order and encodes back to the same octets', () => {
  const raw = Buffer.from('0002fde800000064030c0000000000080600000000000001' + '0603525400000014', 'hex');
  const list = decodeExtCommunities(raw);
  assert.deepEqual(list.map((e) => e.kind), ['route-target', 'encapsulation', 'mac-mobility', 'router-mac']);
  assert.deepEqual(encodeExtCommunities(list), raw);
  assert.deepEqual(decodeExtCommunities(Buffer.alloc(0)), []);
  // A trailing partial community (the attribute decoder rejects such lengths first) is ignored, not thrown on.
  assert.equal(decodeExtCommunities(Buffer.concat([raw, Buffer.from('0002fd', 'hex')])).length, 4);
});

test('helpers: macMobility, routeTargets, routerMac, tunnelTypes', () => {
  const list = decodeExtCommunities(Buffer.from('0002fde800000064' + '0202fa56ea0000cb' + '030c000000000008' + '0603525400000014', 'hex'));
  assert.equal(macMobility(list), undefined);
  assert.deepEqual(routeTargets(list), [routeTarget('as2', 65000, 100), routeTarget('as4', 4200000000, 203)]);
  assert.deepEqual(routerMac(list), mac('52:54:00:00:00:14'));
  assert.deepEqual(tunnelTypes(list), [8]);
  const mm = (seq: number, sticky: boolean): ExtCommunity => ({ kind: 'mac-mobility', seq, sticky });
  assert.deepEqual(macMobility([mm(7, false)]), { seq: 7, sticky: false });
  assert.deepEqual(macMobility([mm(3, true), mm(9, false)]), { seq: 9, sticky: true });
  assert.equal(routerMac([]), undefined);
});

test('route target text', () => {
  const ok = (t: string): ExtCommunity => {
    const r = parseRouteTarget(t);
    if (!r.ok) assert.fail(r.error);
    return r.value;
  };
  assert.deepEqual(ok('65000:100'), routeTarget('as2', 65000, 100));
  assert.deepEqual(ok('RT:65000:100'), routeTarget('as2', 65000, 100));
  assert.deepEqual(ok('65000:4294967295'), routeTarget('as2', 65000, 4294967295));
  assert.deepEqual(ok('10.0.0.1:100'), routeTarget('ipv4', ipv4ToNumber('10.0.0.1')!, 100));
  assert.deepEqual(ok('4200000000:100'), routeTarget('as4', 4200000000, 100));
  assert.deepEqual(ok('64086.59904:100'), routeTarget('as4', 4200000000, 100));
  assert.deepEqual(ok('0.100:7'), routeTarget('as4', 100, 7));
  for (const bad of ['65000', ':100', '65000:', 'x:1', '10.0.0.1:65536', '4200000000:65536', '65000:4294967296', '4294967296:1', '70000.1:1', '1:2:3']) {
    assert.equal(parseRouteTarget(bad).ok, false, bad);
  }
  assert.ok(sameRouteTarget(routeTarget('as2', 1, 2), routeTarget('as2', 1, 2)));
  assert.ok(!sameRouteTarget(routeTarget('as2', 1, 2), routeTarget('as4', 1, 2)));
  assert.throws(() => routeTarget('as2', 70000, 1), RangeError);
  assert.throws(() => routeTarget('ipv4', 1, 70000), RangeError);
});
