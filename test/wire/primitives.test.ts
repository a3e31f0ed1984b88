import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type AsPath, asPathLength, decodeAsPath, encodeAsPath, firstAs, formatAsPath, needsAs4, prependAs,
} from '../../src/bgp/wire/aspath.js';
import { beginAttr, endAttr } from '../../src/bgp/wire/attributes.js';
import { AsPathSegmentType } from '../../src/bgp/wire/constants.js';
import {
  IPV4_UNICAST, IPV6_UNICAST, L2VPN_EVPN, familyAfi, familyByName, familyKey, familyName, familySafi,
} from '../../src/bgp/wire/family.js';
import { nlriCodec, registerNlriCodec } from '../../src/bgp/wire/nlri.js';
import {
  decodePrefixes, formatPrefix, ipv4UnicastCodec, ipv6UnicastCodec, parsePrefix, prefixAddress, prefixLength, type Prefix,
} from '../../src/bgp/wire/prefix.js';
import { Reader } from '../../src/bgp/wire/reader.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import { arbAsPath, arbIpv4Prefix, arbIpv6Prefix, hex } from './helpers.js';

const SEQ = AsPathSegmentType.AsSequence;
const SET = AsPathSegmentType.AsSet;

test('Writer grows from any initial size, even 0', () => {
  for (const initial of [0, 1, 3, 64]) {
    const w = new Writer(initial);
    for (let i = 0; i < 300; i++) w.u8(i & 0xff).u16(i).u32(0xdead0000 + i);
    assert.equal(w.pos, 300 * 7);
    const b = w.toBuffer();
    assert.equal(b.readUInt32BE(3), 0xdead0000);
    assert.equal(b.readUInt16BE(7 * 299 + 1), 299);
  }
});

test('Writer: reserve and patch, fill, truncate, insertGap, view and reset', () => {
  const w = new Writer(4);
  const at = w.reserve(2);
  w.fill(0xaa, 3).bytes(hex('0102'));
  w.patchU16(at, 0xbeef);
  assert.deepEqual(w.toBuffer(), hex('beef aaaaaa 0102'));
  w.insertGap(2, 2);
  w.patchU8(2, 1);
  w.patchU8(3, 2);
  assert.deepEqual(w.view(), hex('beef 0102 aaaaaa 0102'));
  assert.deepEqual(w.view(2, 4), hex('0102'));
  w.truncate(3);
  w.u8(9);
  assert.deepEqual(w.toBuffer(), hex('beef01 09'));
  w.u32(-1);
  assert.deepEqual(w.toBuffer(1), hex('ef01 09 ffffffff'));
  w.reset();
  assert.equal(w.toBuffer().length, 0);
});

test('Reader reads in place and sub-readers are bounded', () => {
  const r = new Reader(hex('01 0203 04050607 0809 0a0b'));
  assert.equal(r.u8(), 1);
  assert.equal(r.u16(), 0x0203);
  assert.equal(r.u32(), 0x04050607);
  const s = r.sub(2);
  assert.equal(s.left(), 2);
  assert.deepEqual(s.bytes(2), hex('0809'));
  assert.equal(s.left(), 0);
  assert.equal(r.left(), 2);
  r.skip(1);
  assert.equal(r.u8(), 0x0b);
  assert.equal(r.left(), 0);
});

test('endAttr uses the one-octet length up to 255 and the extended form above', () => {
  for (const len of [0, 1, 255, 256, 1000]) {
    const w = new Writer(8);
    w.u8(0x77);
    const at = beginAttr(w, 0xc0 | 0x10, 99);
    w.fill(0x5a, len);
    endAttr(w, at);
    w.u8(0x88);
    const b = w.toBuffer();
    const ext = len > 255;
    assert.equal(b[1], ext ? 0xd0 : 0xc0, `flags for ${len}`);
    assert.equal(b[2], 99);
    assert.equal(ext ? b.readUInt16BE(3) : b[3], len);
    const value = b.subarray(ext ? 5 : 4, b.length - 1);
    assert.deepEqual(value, Buffer.alloc(len, 0x5a));
    assert.equal(b[b.length - 1], 0x88);
  }
});

test('property: AS paths encode and decode to themselves with 4-octet and 2-octet ASNs', () => {
  fc.assert(
    fc.property(arbAsPath(), arbAsPath(undefined, fc.integer({ min: 0, max: 0xffff })), (p4, p2) => {
      const w = new Writer(8);
      encodeAsPath(w, p4, 4);
      assert.deepEqual(decodeAsPath(new Reader(w.toBuffer()), 4), p4);
      const w2 = new Writer(8);
      encodeAsPath(w2, p2, 2);
      assert.deepEqual(decodeAsPath(new Reader(w2.toBuffer()), 2), p2);
      assert.equal(needsAs4(p2), false);
    }),
  );
});

test('AS path helpers: length, first AS, prepend and text form', () => {
  const path: AsPath = [
    { type: AsPathSegmentType.ConfedSequence, asns: [65100, 65101] },
    { type: SEQ, asns: [1, 2, 3] },
    { type: SET, asns: [4, 5] },
    { type: AsPathSegmentType.ConfedSet, asns: [6] },
  ];
  assert.equal(asPathLength(path), 4);
  assert.equal(firstAs(path), undefined);
  assert.equal(firstAs(path.slice(1)), 1);
  assert.equal(firstAs([]), undefined);
  assert.equal(formatAsPath(path), '(65100 65101) 1 2 3 {4 5} [6]');
  assert.deepEqual(prependAs(path.slice(1), 9), [{ type: SEQ, asns: [9, 1, 2, 3] }, { type: SET, asns: [4, 5] }, path[3]]);
  assert.deepEqual(prependAs([], 9), [{ type: SEQ, asns: [9] }]);
  assert.deepEqual(prependAs([{ type: SET, asns: [1] }], 9), [{ type: SEQ, asns: [9] }, { type: SET, asns: [1] }]);
  const full: AsPath = [{ type: SEQ, asns: Array.from({ length: 255 }, (_, i) => i) }];
  assert.deepEqual(prependAs(full, 9).map((s) => s.asns.length), [1, 255]);
  assert.equal(needsAs4([{ type: SET, asns: [65535] }]), false);
  assert.equal(needsAs4([{ type: SET, asns: [65536] }]), true);
});

function decodeAll(bytes: Buffer, maxBits: number, addPath = false): Prefix[] {
  const out: Prefix[] = [];
  const r = decodePrefixes(new Reader(bytes), maxBits, addPath, out);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return out;
}

test('prefixes: parse, format and wire form agree', () => {
  const cases: [string, string][] = [
    ['10.0.0.0/8', '08 0a'],
    ['0.0.0.0/0', '00'],
    ['192.0.2.128/25', '19 c00002 80'],
    ['192.0.2.1/32', '20 c0000201'],
    ['2001:db8::/32', '20 20010db8'],
    ['::/0', '00'],
    ['2001:db8:0:1::/64', '40 20010db800000001'],
  ];
  for (const [text, wire] of cases) {
    const p = parsePrefix(text);
    assert.ok(p.ok, text);
    assert.equal(p.value.key, hex(wire).toString('latin1'));
    const six = text.includes(':');
    assert.equal(formatPrefix(p.value, six ? 16 : 4), text);
    assert.equal(prefixLength(p.value), hex(wire)[0]);
    assert.deepEqual(decodeAll(hex(wire), six ? 128 : 32), [p.value]);
  }
  assert.deepEqual(prefixAddress({ key: '\x10\x0a\x01', pathId: 0 }, 4), hex('0a010000'));
  assert.deepEqual(prefixAddress({ key: '\x00', pathId: 0 }, 16), Buffer.alloc(16));
});

test('prefixes: bad text is refused with a reason', () => {
  for (const bad of ['10.0.0.0', '10.0.0.1/24', '10.0.0.0/33', '10.0.0.0/x', 'host/8', '2001:db8::1/64', '10.0.0.0/-1', '10.0.0.0/']) {
    const r = parsePrefix(bad);
    assert.equal(r.ok, false, bad);
  }
});

test('prefixes: bits past the length are ignored so equal prefixes share a key (RFC 4271 §4.3)', () => {
  assert.deepEqual(decodeAll(hex('19 c00002 ff'), 32), decodeAll(hex('19 c00002 80'), 32));
  assert.deepEqual(decodeAll(hex('01 ff'), 32), [{ key: '\x01\x80', pathId: 0 }]);
});

test('prefixes: overruns and lengths past the family maximum are errors', () => {
  for (const [b, bits] of [['21 0a000000 00', 32], ['18 0a01', 32], ['81 00', 128], ['40 2001', 128]] as const) {
    const r = decodePrefixes(new Reader(hex(b)), bits, false, []);
    assert.equal(r.ok, false, b);
  }
  assert.equal(decodePrefixes(new Reader(hex('00000001')), 32, true, []).ok, false);
  assert.deepEqual(decodeAll(hex('00000007 08 0a'), 32, true), [{ key: '\x08\x0a', pathId: 7 }]);
});

test('property: prefix NLRI round-trip through the registered codecs', () => {
  fc.assert(
    fc.property(fc.array(arbIpv4Prefix), fc.array(arbIpv6Prefix), fc.boolean(), (a, b, addPath) => {
      for (const [codec, list] of [[ipv4UnicastCodec, a], [ipv6UnicastCodec, b]] as const) {
        const w = new Writer(16);
        const withIds = list.map((p, i) => ({ ...p, pathId: addPath ? i * 7919 : 0 }));
        for (const p of withIds) codec.encode(w, p, addPath);
        const out: Prefix[] = [];
        assert.ok(codec.decode(new Reader(w.toBuffer()), addPath, out).ok);
        assert.deepEqual(out, withIds);
      }
    }),
  );
});

test('NLRI registry: unicast codecs are registered once, with their next-hop lengths', () => {
  assert.equal(nlriCodec(IPV4_UNICAST), ipv4UnicastCodec);
  assert.equal(nlriCodec(IPV6_UNICAST), ipv6UnicastCodec);
  assert.equal(nlriCodec(familyKey(99, 1)), undefined);
  assert.throws(() => registerNlriCodec(ipv4UnicastCodec), /registered twice/);
  assert.deepEqual([4, 16, 32, 7, 0].map((l) => ipv4UnicastCodec.validNextHopLength(l)), [true, true, true, false, false]);
  assert.deepEqual([4, 16, 32, 7].map((l) => ipv6UnicastCodec.validNextHopLength(l)), [false, true, true, false]);
  assert.equal(ipv6UnicastCodec.format({ key: '\x20\x20\x01\x0d\xb8', pathId: 0 }), '2001:db8::/32');
});

test('family keys and names', () => {
  assert.equal(familyAfi(L2VPN_EVPN), 25);
  assert.equal(familySafi(L2VPN_EVPN), 70);
  assert.equal(familyName(IPV6_UNICAST), 'ipv6-unicast');
  assert.equal(familyName(familyKey(3, 4)), 'afi3-safi4');
  assert.equal(familyByName('l2vpn-evpn'), L2VPN_EVPN);
  assert.equal(familyByName('nope'), undefined);
});
