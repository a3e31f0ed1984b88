/**
 * The ipv4-vpn / ipv6-vpn UPDATEs FRR 8.4.4 and GoBGP 3.10 sent in the s1-ibgp
 * lab (test/vectors/evpn-vpn-messages.json). Each one is decoded with the
 * project's decodeUpdate, every field is checked against values written out
 * by hand from the vector's tshark notes, and the message is encoded again in
 * its sender's attribute layout and compared with the capture byte for byte.
 * Announcements are also rebuilt from scratch with vpnRoute/vpnNextHop, which
 * must give the same bytes.
 *
 * The one withdraw differs from our own withdraw form in its label field only:
 * GoBGP repeats the route's label (00 06 41, label 100), we send the RFC 8277
 * §2.4 Compatibility field 80 00 00 (see src/vpn/label-stack.ts). So the
 * withdraw is checked twice: its NLRI as received re-encodes to GoBGP's exact
 * bytes through the codec, and encodeVpnWithdrawals gives the captured message
 * with exactly those 3 octets replaced.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttrLayout, PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AttrType, Origin } from '../../src/bgp/wire/constants.js';
import { type FamilyKey, IPV4_VPN, IPV6_VPN } from '../../src/bgp/wire/family.js';
import { type PackOptions, encodeAnnouncements, encodeEndOfRib } from '../../src/bgp/wire/update-encode.js';
import { bytesToIp, ipToBytes } from '../../src/core/ip.js';
import { formatRd } from '../../src/bgp/wire/rd.js';
import {
  type VpnRoute,
  encodeVpnWithdrawals,
  formatVpnRoute,
  vpnNextHop,
  vpnNextHopAddress,
  vpnRouteOrThrow,
} from '../../src/vpn/index.js';
import { decodeMessage, encodeRoute, messageOf, rawAttributes, vector, vpnVectors } from './support.js';

interface ExpectedRoute {
  readonly rd: string;
  readonly rdType: number;
  readonly prefix: string;
  readonly prefixLength: number;
  readonly labels: readonly number[];
  readonly format: string;
  /** The NLRI as on the wire, for the codec alone. */
  readonly wire: string;
}

interface ExpectedAnnouncement {
  readonly name: string;
  readonly family: FamilyKey;
  readonly layout: AttrLayout;
  readonly nextHopField: string;
  readonly nextHop: string;
  readonly route: ExpectedRoute;
  readonly attrs: PathAttributes;
}

const RT_65000_10 = Buffer.from('0002fde80000000a', 'hex');

const ANNOUNCEMENTS: readonly ExpectedAnnouncement[] = [
  {
    // Label Stack: 99 (bottom), RD 65000:9, 10.9.0.0; next hop RD=0:0 IPv4=127.0.9.1; ORIGIN IGP, AS_PATH empty, MED 0, LOCAL_PREF 100.
    name: 'frr-ibgp-update-ipv4-vpn-nh12-10.9.0.0/24',
    family: IPV4_VPN,
    layout: 'frr',
    nextHopField: '00000000000000007f000901',
    nextHop: '127.0.9.1',
    route: {
      rd: '65000:9',
      rdType: 0,
      prefix: '10.9.0.0',
      prefixLength: 24,
      labels: [99],
      format: '65000:9:10.9.0.0/24 label 99',
      wire: '70' + '000631' + '0000fde800000009' + '0a0900',
    },
    attrs: { origin: Origin.Igp, asPath: [], med: 0, localPref: 100 },
  },
  {
    // Label Stack: 100 (bottom), RD 65000:10, 192.168.10.0; next hop RD=0:0 IPv4=10.0.0.2; ORIGIN INCOMPLETE, LOCAL_PREF 100, RT 65000:10.
    name: 'gobgp-ibgp-update-ipv4-vpn-nh12-192.168.10.0/24',
    family: IPV4_VPN,
    layout: 'gobgp',
    nextHopField: '00000000000000000a000002',
    nextHop: '10.0.0.2',
    route: {
      rd: '65000:10',
      rdType: 0,
      prefix: '192.168.10.0',
      prefixLength: 24,
      labels: [100],
      format: '65000:10:192.168.10.0/24 label 100',
      wire: '70' + '000641' + '0000fde80000000a' + 'c0a80a',
    },
    attrs: { origin: Origin.Incomplete, asPath: [], localPref: 100, extCommunities: RT_65000_10 },
  },
  {
    // Label Stack=101 (bottom) RD=65000:10, IPv6=2001:db8:10::/48; next hop RD=0:0 IPv6=2001:db8::2.
    name: 'gobgp-ibgp-update-ipv6-vpn-nh24-2001:db8:10::/48',
    family: IPV6_VPN,
    layout: 'gobgp',
    nextHopField: '0000000000000000' + '20010db8000000000000000000000002',
    nextHop: '2001:db8::2',
    route: {
      rd: '65000:10',
      rdType: 0,
      prefix: '2001:db8:10::',
      prefixLength: 48,
      labels: [101],
      format: '65000:10:2001:db8:10::/48 label 101',
      wire: '88' + '000651' + '0000fde80000000a' + '20010db80010',
    },
    attrs: { origin: Origin.Incomplete, asPath: [], localPref: 100, extCommunities: RT_65000_10 },
  },
];

const WITHDRAW = 'gobgp-ibgp-withdraw-ipv4-vpn-192.168.10.0/24';
const EORS: ReadonlyMap<string, FamilyKey> = new Map([
  ['frr-ibgp-eor-ipv4-vpn', IPV4_VPN],
  ['frr-ibgp-eor-ipv6-vpn', IPV6_VPN],
]);

function opts(layout: AttrLayout): PackOptions {
  return { maxLength: 4096, fourOctetAs: true, addPath: false, layout };
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

function checkRoute(r: VpnRoute, e: ExpectedRoute): void {
  assert.equal(formatRd(r.rd), e.rd);
  assert.equal(r.rd.type, e.rdType);
  assert.equal(bytesToIp(r.prefix), e.prefix);
  assert.equal(r.prefixLength, e.prefixLength);
  assert.deepEqual(r.labels, e.labels);
  assert.equal(r.pathId, 0);
  assert.equal(formatVpnRoute(r), e.format);
  assert.equal(hex(encodeRoute(r)), e.wire);
}

test('every VPN vector is checked here', () => {
  const covered = new Set([...ANNOUNCEMENTS.map((a) => a.name), WITHDRAW, ...EORS.keys()]);
  assert.deepEqual(new Set(vpnVectors.map((v) => v.name)), covered);
});

for (const e of ANNOUNCEMENTS) {
  test(`${e.name}: decodes to the captured fields`, () => {
    const u = decodeMessage(messageOf(vector(e.name)));
    assert.ok(u.mpReach, 'MP_REACH_NLRI');
    assert.equal(u.mpReach.family, e.family);
    assert.equal(hex(u.mpReach.nextHop), e.nextHopField);
    const nh = vpnNextHopAddress(u.mpReach.nextHop);
    assert.ok(nh);
    assert.equal(bytesToIp(nh), e.nextHop);
    assert.equal(u.mpReach.nlri.length, 1);
    checkRoute(u.mpReach.nlri[0] as VpnRoute, e.route);
    assert.deepEqual(u.attrs, e.attrs);
    assert.equal(u.mpUnreach, undefined);
    assert.deepEqual(u.withdrawn, []);
    assert.deepEqual(u.nlri, []);
  });

  test(`${e.name}: encodes back byte for byte in the ${e.layout} layout`, () => {
    const captured = messageOf(vector(e.name));
    const u = decodeMessage(captured);
    assert.ok(u.mpReach);
    const again = encodeAnnouncements(e.family, u.attrs, u.mpReach.nlri, opts(e.layout), u.mpReach.nextHop);
    assert.equal(again.length, 1);
    assert.equal(hex(again[0]!), hex(captured));
  });

  test(`${e.name}: built from scratch gives the same bytes`, () => {
    const route = vpnRouteOrThrow({
      rd: e.route.rd,
      prefix: `${e.route.prefix}/${e.route.prefixLength}`,
      labels: e.route.labels,
    });
    const nh = ipToBytes(e.nextHop);
    assert.ok(nh);
    assert.equal(hex(vpnNextHop(nh)), e.nextHopField);
    const built = encodeAnnouncements(e.family, e.attrs, [route], opts(e.layout), vpnNextHop(nh));
    assert.equal(built.length, 1);
    assert.equal(hex(built[0]!), hex(messageOf(vector(e.name))));
  });
}

test(`${WITHDRAW}: decodes to the captured fields`, () => {
  const u = decodeMessage(messageOf(vector(WITHDRAW)));
  assert.equal(u.mpReach, undefined);
  assert.ok(u.mpUnreach);
  assert.equal(u.mpUnreach.family, IPV4_VPN);
  assert.equal(u.endOfRib, undefined);
  assert.equal(u.mpUnreach.withdrawn.length, 1);
  // Label Stack: 100 (bottom), RD 65000:10, 192.168.10.0/24.
  checkRoute(u.mpUnreach.withdrawn[0] as VpnRoute, {
    rd: '65000:10',
    rdType: 0,
    prefix: '192.168.10.0',
    prefixLength: 24,
    labels: [100],
    format: '65000:10:192.168.10.0/24 label 100',
    wire: '70' + '000641' + '0000fde80000000a' + 'c0a80a',
  });
  // Labels are not part of the destination: the withdraw names the route GoBGP announced.
  const announced = decodeMessage(messageOf(vector('gobgp-ibgp-update-ipv4-vpn-nh12-192.168.10.0/24')));
  assert.equal(u.mpUnreach.withdrawn[0]!.key, announced.mpReach?.nlri[0]?.key);
});

test(`${WITHDRAW}: our withdraw is the capture with 80 00 00 for GoBGP's label field`, () => {
  const captured = messageOf(vector(WITHDRAW));
  const u = decodeMessage(captured);
  assert.ok(u.mpUnreach);
  const ours = encodeVpnWithdrawals(IPV4_VPN, u.mpUnreach.withdrawn as VpnRoute[], opts('gobgp'));
  assert.equal(ours.length, 1);
  const labelAt = captured.indexOf(Buffer.from('70000641', 'hex')) + 1;
  assert.ok(labelAt > 0);
  const expected = Buffer.from(captured);
  expected.set([0x80, 0x00, 0x00], labelAt);
  assert.equal(hex(ours[0]!), hex(expected));
  // The MP_UNREACH_NLRI header is GoBGP's: flags 0x80, 1-octet length, AFI 1 SAFI 128.
  const mp = rawAttributes(ours[0]!).get(AttrType.MpUnreachNlri);
  assert.ok(mp);
  assert.equal(mp.flags, 0x80);
  assert.equal(hex(mp.value.subarray(0, 3)), '000180');
  // And it decodes to the same destination, with no label.
  const back = decodeMessage(ours[0]!);
  const w = back.mpUnreach?.withdrawn[0] as VpnRoute;
  assert.equal(w.key, u.mpUnreach.withdrawn[0]!.key);
  assert.deepEqual(w.labels, []);
  assert.equal(formatVpnRoute(w), '65000:10:192.168.10.0/24');
});

for (const [name, family] of EORS) {
  test(`${name}: End-of-RIB, encoded back byte for byte`, () => {
    const captured = messageOf(vector(name));
    const u = decodeMessage(captured);
    assert.equal(u.endOfRib, family);
    assert.deepEqual(u.mpUnreach?.withdrawn, []);
    assert.equal(hex(encodeEndOfRib(family)), hex(captured));
  });
}
