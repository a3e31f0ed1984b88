import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AsPathSegmentType, AttrType, Origin } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST, L2VPN_EVPN, familyKey } from '../../src/bgp/wire/family.js';
import type { Nlri } from '../../src/bgp/wire/nlri.js';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { type PackOptions, encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../../src/bgp/wire/update-encode.js';
import {
  CTX4, arbAttributes, arbIpv4Prefix, arbIpv6Prefix, decodeUpdateMessage, expectedAfterRoundTrip, hex, rawAttr, rawAttributes, v4,
} from './helpers.js';

const PACK: PackOptions = { maxLength: 4096, fourOctetAs: true, addPath: false };

const BASE: PathAttributes = {
  origin: Origin.Igp,
  asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65001, 4200000000] }],
  nextHop: Buffer.from([192, 0, 2, 1]),
};

test('a simple IPv4 announcement has the exact RFC 4271 layout', () => {
  const [m, ...rest] = encodeAnnouncements(IPV4_UNICAST, { ...BASE, med: 10, localPref: 100 }, [v4('10.1.0.0/16')], PACK);
  assert.equal(rest.length, 0);
  const body = hex(`
    0000 0026
    40 01 01 00
    40 02 0a 02 02 0000fde9 fa56ea00
    40 03 04 c0000201
    80 04 04 0000000a
    40 05 04 00000064
    10 0a01`);
  assert.deepEqual(m!.subarray(19), body);
  assert.equal(m!.readUInt16BE(16), m!.length);
  assert.equal(m![18], 2);
});

test('property: IPv4 announcements decode to the same NLRI, in order, with the same attributes', () => {
  fc.assert(
    fc.property(arbAttributes(), fc.array(arbIpv4Prefix, { minLength: 1, maxLength: 1500, size: 'max' }), (attrs, nlri) => {
      const msgs = encodeAnnouncements(IPV4_UNICAST, attrs, nlri, PACK);
      const got: Nlri[] = [];
      const want = expectedAfterRoundTrip(attrs, true);
      for (const m of msgs) {
        assert.ok(m.length <= 4096);
        const u = decodeUpdateMessage(m, CTX4);
        assert.equal(u.treatAsWithdraw, false, JSON.stringify(u.errors));
        assert.deepEqual(u.errors, []);
        assert.deepEqual(u.attrs, want);
        assert.deepEqual(u.withdrawn, []);
        assert.equal(u.mpReach, undefined);
        got.push(...u.nlri);
      }
      assert.deepEqual(got, nlri);
    }),
    { numRuns: 150 },
  );
});

test('property: IPv6 announcements go in MP_REACH_NLRI with a 16 or 32 byte next hop', () => {
  const nextHop = fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 32, maxLength: 32 }));
  fc.assert(
    fc.property(arbAttributes(), fc.array(arbIpv6Prefix, { minLength: 1, maxLength: 600, size: 'max' }), nextHop, (attrs, nlri, nh) => {
      const msgs = encodeAnnouncements(IPV6_UNICAST, attrs, nlri, PACK, Buffer.from(nh));
      const got: Nlri[] = [];
      const want = expectedAfterRoundTrip(attrs, false);
      for (const m of msgs) {
        assert.ok(m.length <= 4096);
        const u = decodeUpdateMessage(m, CTX4);
        assert.equal(u.treatAsWithdraw, false, JSON.stringify(u.errors));
        assert.deepEqual(u.attrs, want);
        assert.deepEqual(u.nlri, []);
        assert.ok(u.mpReach);
        assert.equal(u.mpReach.family, IPV6_UNICAST);
        assert.deepEqual(u.mpReach.nextHop, Buffer.from(nh));
        assert.equal(rawAttr(m, AttrType.NextHop), undefined, 'no NEXT_HOP attribute outside IPv4 unicast');
        got.push(...u.mpReach.nlri);
      }
      assert.deepEqual(got, nlri);
    }),
    { numRuns: 150 },
  );
});

test('IPv4 with an IPv6 next hop (RFC 8950) travels in MP_REACH_NLRI', () => {
  const nh = Buffer.alloc(16, 0x20);
  const [m] = encodeAnnouncements(IPV4_UNICAST, BASE, [v4('10.0.0.0/8')], PACK, nh);
  const u = decodeUpdateMessage(m!, CTX4);
  assert.equal(u.treatAsWithdraw, false);
  assert.deepEqual(u.nlri, []);
  assert.deepEqual(u.mpReach, { family: IPV4_UNICAST, nextHop: nh, nlri: [v4('10.0.0.0/8')] });
});

test('property: IPv4 withdrawals decode to the same NLRI in order', () => {
  fc.assert(
    fc.property(fc.array(arbIpv4Prefix, { minLength: 1, maxLength: 2500, size: 'max' }), (nlri) => {
      const got: Nlri[] = [];
      for (const m of encodeWithdrawals(IPV4_UNICAST, nlri, PACK)) {
        assert.ok(m.length <= 4096);
        const u = decodeUpdateMessage(m, CTX4);
        assert.equal(u.treatAsWithdraw, false);
        assert.deepEqual(u.errors, []);
        assert.deepEqual(u.nlri, []);
        assert.deepEqual(rawAttributes(m), []);
        got.push(...u.withdrawn);
      }
      assert.deepEqual(got, nlri);
    }),
    { numRuns: 100 },
  );
});

test('property: IPv6 withdrawals go in MP_UNREACH_NLRI', () => {
  fc.assert(
    fc.property(fc.array(arbIpv6Prefix, { minLength: 1, maxLength: 1000, size: 'max' }), (nlri) => {
      const got: Nlri[] = [];
      for (const m of encodeWithdrawals(IPV6_UNICAST, nlri, PACK)) {
        assert.ok(m.length <= 4096);
        const u = decodeUpdateMessage(m, CTX4);
        assert.equal(u.treatAsWithdraw, false);
        assert.equal(u.endOfRib, undefined);
        assert.deepEqual(u.withdrawn, []);
        assert.ok(u.mpUnreach);
        assert.equal(u.mpUnreach.family, IPV6_UNICAST);
        got.push(...u.mpUnreach.withdrawn);
      }
      assert.deepEqual(got, nlri);
    }),
    { numRuns: 100 },
  );
});

test('ADD-PATH path identifiers round-trip when negotiated (RFC 7911)', () => {
  const nlri = [
    { ...v4('10.0.0.0/8'), pathId: 1 },
    { ...v4('10.0.0.0/8'), pathId: 0xffffffff },
  ];
  const opt = { ...PACK, addPath: true };
  const ctx = { fourOctetAs: true, addPathReceive: new Set([IPV4_UNICAST, IPV6_UNICAST]) };
  const [a] = encodeAnnouncements(IPV4_UNICAST, BASE, nlri, opt);
  assert.deepEqual(decodeUpdateMessage(a!, ctx).nlri, nlri);
  const [w] = encodeWithdrawals(IPV4_UNICAST, nlri, opt);
  assert.deepEqual(decodeUpdateMessage(w!, ctx).withdrawn, nlri);
  const six = [{ key: '\x00', pathId: 7 }];
  const [m] = encodeAnnouncements(IPV6_UNICAST, BASE, six, opt, Buffer.alloc(16, 1));
  assert.deepEqual(decodeUpdateMessage(m!, ctx).mpReach?.nlri, six);
});

test('End-of-RIB for IPv4 unicast is an empty UPDATE (RFC 4724 §2)', () => {
  const m = encodeEndOfRib(IPV4_UNICAST);
  assert.deepEqual(m.subarray(16), hex('0017 02 0000 0000'));
  const u = decodeUpdateMessage(m, CTX4);
  assert.equal(u.endOfRib, IPV4_UNICAST);
  assert.equal(u.treatAsWithdraw, false);
});

test('End-of-RIB for other families is an empty MP_UNREACH_NLRI', () => {
  for (const family of [IPV6_UNICAST, familyKey(1, 128), L2VPN_EVPN]) {
    const m = encodeEndOfRib(family);
    const fam = Buffer.alloc(3);
    fam.writeUInt16BE(family >>> 8);
    fam[2] = family & 0xff;
    assert.deepEqual(m.subarray(19), Buffer.concat([hex('0000 0006 80 0f 03'), fam]));
  }
  const u = decodeUpdateMessage(encodeEndOfRib(IPV6_UNICAST), CTX4);
  assert.equal(u.endOfRib, IPV6_UNICAST);
  assert.deepEqual(u.mpUnreach, { family: IPV6_UNICAST, withdrawn: [] });
});

test('an UPDATE that withdraws or announces something is not an End-of-RIB', () => {
  const [w] = encodeWithdrawals(IPV6_UNICAST, [{ key: '\x00', pathId: 0 }], PACK);
  assert.equal(decodeUpdateMessage(w!, CTX4).endOfRib, undefined);
  const [w4] = encodeWithdrawals(IPV4_UNICAST, [v4('10.0.0.0/8')], PACK);
  assert.equal(decodeUpdateMessage(w4!, CTX4).endOfRib, undefined);
  // An empty MP_UNREACH next to IPv4 withdrawals marks nothing.
  const body = hex('0002 0800  0006 800f03 000201');
  const r = decodeUpdate(body, CTX4);
  assert.ok(r.ok);
  assert.equal(r.value.endOfRib, undefined);
});

test('attributes are written in ascending type order, each with its RFC flags', () => {
  const attrs: PathAttributes = {
    ...BASE,
    med: 1,
    localPref: 2,
    atomicAggregate: true,
    aggregator: { asn: 65010, address: 0x0a000001 },
    communities: [0xfde90001],
    originatorId: 3,
    clusterList: [4, 5],
    extCommunities: Buffer.alloc(8, 1),
    largeCommunities: Buffer.alloc(12, 2),
    unknown: [{ flags: 0xc0, type: 99, value: hex('abcd') }],
  };
  const [m] = encodeAnnouncements(IPV4_UNICAST, attrs, [v4('10.0.0.0/8')], PACK);
  const got = rawAttributes(m!).map((a) => [a.type, a.flags]);
  assert.deepEqual(got, [
    [1, 0x40], [2, 0x40], [3, 0x40], [4, 0x80], [5, 0x40], [6, 0x40], [7, 0xc0], [8, 0xc0],
    [9, 0x80], [10, 0x80], [16, 0xc0], [32, 0xc0], [99, 0xe0],
  ]);
});

test('a long attribute switches to the extended length form only when it must', () => {
  for (const [count, ext] of [[63, false], [64, true]] as const) {
    const [m] = encodeAnnouncements(IPV4_UNICAST, { ...BASE, communities: Array.from({ length: count }, (_, i) => i) }, [v4('10.0.0.0/8')], PACK);
    const c = rawAttr(m!, AttrType.Communities);
    assert.ok(c);
    assert.equal((c.flags & 0x10) !== 0, ext);
    assert.equal(c.value.length, count * 4);
    assert.equal(decodeUpdateMessage(m!, CTX4).attrs.communities?.length, count);
  }
});

test('AS_PATH segments longer than 255 ASNs are split (RFC 4271 §4.3)', () => {
  const asns = Array.from({ length: 600 }, (_, i) => 64512 + i);
  const [m] = encodeAnnouncements(IPV4_UNICAST, { ...BASE, asPath: [{ type: AsPathSegmentType.AsSequence, asns }] }, [v4('10.0.0.0/8')], PACK);
  const path = decodeUpdateMessage(m!, CTX4).attrs.asPath ?? [];
  assert.deepEqual(path.map((s) => s.asns.length), [255, 255, 90]);
  assert.deepEqual(path.flatMap((s) => s.asns), asns);
});

test('no NLRI gives no UPDATE', () => {
  assert.deepEqual(encodeAnnouncements(IPV4_UNICAST, BASE, [], PACK), []);
  assert.deepEqual(encodeWithdrawals(IPV6_UNICAST, [], PACK), []);
});

test('an unregistered family is a programming error', () => {
  assert.throws(() => encodeWithdrawals(familyKey(99, 99), [v4('10.0.0.0/8')], PACK), /no NLRI codec/);
});
