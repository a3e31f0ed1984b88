import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IPV4_VPN, IPV6_VPN } from '../../src/bgp/wire/family.js';
import { nlriCodec } from '../../src/bgp/wire/nlri.js';
import { type RouteDistinguisher, decodeRd } from '../../src/bgp/wire/rd.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import {
  MAX_LABEL,
  MAX_NLRI_BITS,
  type VpnRoute,
  formatVpnRoute,
  ipv4VpnCodec,
  ipv6VpnCodec,
  labelStackProblem,
  makeVpnRoute,
  parseVpnRoute,
  vpnFamily,
  vpnNextHop,
  vpnNextHopAddress,
  vpnRoute,
  vpnRouteOrThrow,
  vpnRouteWireLength,
  vpnWithdrawal,
} from '../../src/vpn/index.js';
import { codecFor, decodeField, encodeRoute } from './support.js';

/** RFC 4364 §4.2 types 0, 1 and 2, plus a type nobody defined, kept raw. */
const arbRd: fc.Arbitrary<RouteDistinguisher> = fc
  .oneof(
    fc.tuple(fc.constant(0), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff })),
    fc.tuple(fc.constant(1), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff })),
    fc.tuple(fc.constant(2), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff })),
    fc.tuple(fc.integer({ min: 3, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff })),
  )
  .map(([type, admin, assigned]) => {
    const raw = Buffer.alloc(8);
    raw.writeUInt16BE(type, 0);
    if (type === 0) {
      raw.writeUInt16BE(admin, 2);
      raw.writeUInt32BE(assigned, 4);
    } else {
      raw.writeUInt32BE(admin, 2);
      raw.writeUInt16BE(assigned, 6);
    }
    return decodeRd(raw, 0);
  });

const arbLabels = fc
  .array(fc.integer({ min: 0, max: MAX_LABEL }), { minLength: 1, maxLength: 3 })
  .filter((l) => labelStackProblem(l) === undefined);

/** Any prefix length of either family that still fits the 1-octet NLRI length with its stack. */
function arbRoute(addressBytes?: 4 | 16): fc.Arbitrary<VpnRoute> {
  const size = addressBytes === undefined ? fc.constantFrom(4, 16) : fc.constant(addressBytes);
  return size.chain((bytes) =>
    fc
      .record({
        rd: arbRd,
        labels: arbLabels,
        plen: fc.integer({ min: 0, max: bytes * 8 }),
        addr: fc.uint8Array({ minLength: bytes, maxLength: bytes }),
        pathId: fc.integer({ min: 0, max: 0xffffffff }),
      })
      .filter((x) => x.labels.length * 24 + 64 + x.plen <= MAX_NLRI_BITS)
      .map((x) => makeVpnRoute(x.rd, x.plen, Buffer.from(x.addr), x.labels, x.pathId)),
  );
}

function same(a: VpnRoute, b: VpnRoute): void {
  assert.equal(a.key, b.key);
  assert.equal(a.pathId, b.pathId);
  assert.deepEqual(a.labels, b.labels);
  assert.equal(a.rd.raw.toString('hex'), b.rd.raw.toString('hex'));
  assert.equal(a.rd.type, b.rd.type);
  assert.equal(a.rd.admin, b.rd.admin);
  assert.equal(a.rd.assigned, b.rd.assigned);
  assert.equal(a.prefixLength, b.prefixLength);
  assert.equal(a.prefix.toString('hex'), b.prefix.toString('hex'));
}

test('importing src/vpn registers both codecs', () => {
  assert.equal(nlriCodec(IPV4_VPN), ipv4VpnCodec);
  assert.equal(nlriCodec(IPV6_VPN), ipv6VpnCodec);
  assert.deepEqual([ipv4VpnCodec.afi, ipv4VpnCodec.safi, ipv6VpnCodec.afi, ipv6VpnCodec.safi], [1, 128, 2, 128]);
});

test('next hop lengths: 12/24/48 for VPNv4 (RFC 8950), 24/48 for VPNv6', () => {
  const ok4 = [...Array(64).keys()].filter((l) => ipv4VpnCodec.validNextHopLength(l));
  const ok6 = [...Array(64).keys()].filter((l) => ipv6VpnCodec.validNextHopLength(l));
  assert.deepEqual(ok4, [12, 24, 48]);
  assert.deepEqual(ok6, [24, 48]);
});

test('round trip: random RDs, 1-3 labels, any prefix length, with and without ADD-PATH', () => {
  const arbCase = fc
    .tuple(fc.constantFrom<4 | 16>(4, 16), fc.boolean())
    .chain(([bytes, addPath]) => fc.tuple(fc.constant(bytes), fc.constant(addPath), fc.array(arbRoute(bytes), { maxLength: 5 })));
  fc.assert(
    fc.property(arbCase, ([bytes, addPath, routes]) => {
      const w = new Writer(64);
      for (const r of routes) codecFor(bytes).encode(w, r, addPath);
      const field = w.toBuffer();
      assert.equal(field.length, routes.reduce((n, r) => n + vpnRouteWireLength(r, addPath), 0));
      const back = decodeField(field, bytes, addPath);
      assert.ok(back.ok, back.ok ? '' : back.error);
      assert.equal(back.routes.length, routes.length);
      routes.forEach((r, i) => {
        const b = back.routes[i]!;
        same(b, addPath ? r : { ...r, pathId: 0 });
        assert.equal(formatVpnRoute(b), formatVpnRoute(r));
      });
    }),
    { numRuns: 500 },
  );
});

test('decode then encode gives the same bytes', () => {
  fc.assert(
    fc.property(arbRoute(), (r) => {
      const wire = encodeRoute(r);
      const back = decodeField(wire, r.prefix.length);
      assert.ok(back.ok);
      assert.equal(encodeRoute(back.routes[0]!).toString('hex'), wire.toString('hex'));
    }),
    { numRuns: 300 },
  );
});

test('keys: labels and path id do not count; RD, prefix length and prefix do', () => {
  fc.assert(
    fc.property(arbRoute(), arbLabels, (r, labels) => {
      const relabelled = makeVpnRoute(r.rd, r.prefixLength, Buffer.from(r.prefix), labels, r.pathId + 1);
      assert.equal(relabelled.key, r.key);
      assert.equal(vpnWithdrawal(r).key, r.key);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(arbRoute(4), arbRoute(4), (a, b) => {
      const sameDestination =
        a.rd.raw.equals(b.rd.raw) && a.prefixLength === b.prefixLength && a.prefix.equals(b.prefix);
      assert.equal(a.key === b.key, sameDestination);
    }),
    { numRuns: 300 },
  );
  const base = vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', label: 100 });
  const keyOf = (rd: string, prefix: string, label: number): string => vpnRouteOrThrow({ rd, prefix, label }).key;
  assert.equal(keyOf('65000:10', '192.168.10.0/24', 200), base.key);
  assert.notEqual(keyOf('65000:11', '192.168.10.0/24', 100), base.key);
  assert.notEqual(keyOf('0.0.253.232:10', '192.168.10.0/24', 100), base.key, 'an RD of another type');
  assert.notEqual(keyOf('65000:10', '192.168.11.0/24', 100), base.key);
  assert.notEqual(keyOf('65000:10', '192.168.10.0/25', 100), base.key);
  assert.notEqual(keyOf('65000:10', '192.168.0.0/16', 100), base.key);
});

test('format and parse', () => {
  assert.equal(formatVpnRoute(vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', label: 100 })), '65000:10:192.168.10.0/24 label 100');
  const cases: ReadonlyArray<readonly [string, number]> = [
    ['65000:10:192.168.10.0/24 label 100', 4],
    ['192.0.2.1:7:2001:db8::/32 label 16,100', 16],
    ['4200000000:5:0.0.0.0/0 label 3', 4],
    ['65000:10:::/0 label 1048575', 16],
    ['0003000000000001:10.0.0.0/8 label 5', 4],
  ];
  for (const [text, bytes] of cases) {
    const r = parseVpnRoute(text);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.value.prefix.length, bytes);
    assert.equal(formatVpnRoute(r.value), text);
  }
  fc.assert(
    fc.property(arbRoute(), (r) => {
      const back = parseVpnRoute(formatVpnRoute(r), r.pathId);
      assert.ok(back.ok, back.ok ? '' : back.error);
      assert.equal(formatVpnRoute(back.value), formatVpnRoute(r));
      // parseRd picks type 0 for an AS that fits 2 octets, so only such type 2 RDs change type.
      if (!(r.rd.type === 2 && r.rd.admin <= 0xffff)) same(back.value, r);
    }),
    { numRuns: 300 },
  );
  for (const bad of ['65000:10:192.168.10.0/24', '65000:10:192.168.10.0/24 label', '192.168.10.0/24 label 1', '65000:10:192.168.10.0/24 label x']) {
    assert.equal(parseVpnRoute(bad).ok, false, bad);
  }
});

test('vpnRoute checks what it is given', () => {
  const bad = (spec: Parameters<typeof vpnRoute>[0], why: RegExp): void => {
    const r = vpnRoute(spec);
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok) assert.match(r.error, why);
  };
  bad({ rd: '65000', prefix: '10.0.0.0/8', label: 1 }, /ADMIN:NUMBER/);
  bad({ rd: '65000:10', prefix: '10.0.0.1/8', label: 1 }, /host bits/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/33', label: 1 }, /0\.\.32/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', label: MAX_LABEL + 1 }, /not 0\.\.1048575/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', label: -1 }, /not 0\.\.1048575/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', label: 1.5 }, /not 0\.\.1048575/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8' }, /needs a label/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', label: 1, labels: [1] }, /not both/);
  bad({ rd: '65000:10', prefix: '2001:db8::1/128', labels: [1, 2, 3] }, /264 bits/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', labels: [0, 16] }, /Compatibility/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', labels: [0x80000, 16] }, /Compatibility/);
  bad({ rd: '65000:10', prefix: '10.0.0.0/8', label: 1, pathId: -1 }, /path id/);
  // The largest that fit: 2 labels with a /128, 3 labels with a /119.
  assert.ok(vpnRoute({ rd: '65000:10', prefix: '2001:db8::1/128', labels: [1, 2] }).ok);
  assert.ok(vpnRoute({ rd: '65000:10', prefix: '2001:db8::/119', labels: [1, 2, 3] }).ok);
  // Alone, with bottom of stack set, labels 0 and 0x80000 are 00 00 01 and 80 00 01: ordinary labels.
  for (const label of [0, 0x80000]) {
    const r = vpnRouteOrThrow({ rd: '65000:10', prefix: '10.0.0.0/8', label });
    const back = decodeField(encodeRoute(r), 4);
    assert.ok(back.ok);
    assert.deepEqual(back.routes[0]!.labels, [label]);
  }
});

test('encodeWithdrawn and vpnWithdrawal write the Compatibility field 0x800000', () => {
  fc.assert(
    fc.property(arbRoute(), fc.boolean(), (r, addPath) => {
      const codec = codecFor(r.prefix.length);
      const a = new Writer(64);
      codec.encodeWithdrawn(a, r, addPath);
      const b = new Writer(64);
      codec.encode(b, vpnWithdrawal(r), addPath);
      assert.equal(a.toBuffer().toString('hex'), b.toBuffer().toString('hex'));
      const at = addPath ? 5 : 1;
      assert.equal(a.toBuffer().subarray(at, at + 3).toString('hex'), '800000');
      const back = decodeField(a.toBuffer(), r.prefix.length, addPath);
      assert.ok(back.ok);
      assert.deepEqual(back.routes[0]!.labels, []);
      assert.equal(back.routes[0]!.key, r.key);
    }),
    { numRuns: 200 },
  );
});

test('encode refuses a route of the other family', () => {
  const v6 = vpnRouteOrThrow({ rd: '65000:10', prefix: '2001:db8::/32', label: 1 });
  assert.throws(() => ipv4VpnCodec.encode(new Writer(64), v6, false), /16-octet prefix/);
  assert.equal(vpnFamily(v6), IPV6_VPN);
  assert.equal(vpnFamily(vpnRouteOrThrow({ rd: '65000:10', prefix: '10.0.0.0/8', label: 1 })), IPV4_VPN);
});

test('vpnNextHop / vpnNextHopAddress', () => {
  fc.assert(
    fc.property(fc.constantFrom(4, 16, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (bytes) => {
      const address = Buffer.from(bytes);
      const field = vpnNextHop(address);
      assert.equal(field.length, { 4: 12, 16: 24, 32: 48 }[address.length]);
      assert.ok(field.subarray(0, 8).equals(Buffer.alloc(8)));
      if (address.length === 32) assert.ok(field.subarray(24, 32).equals(Buffer.alloc(8)));
      assert.equal(vpnNextHopAddress(field)?.toString('hex'), address.toString('hex'));
      assert.ok(ipv6VpnCodec.validNextHopLength(field.length) || address.length === 4);
      assert.ok(ipv4VpnCodec.validNextHopLength(field.length));
    }),
  );
  // RFC 4659 §3.2.1.2's 48-octet form: RD, global, RD, link-local.
  const g = Buffer.from('20010db8000000000000000000000002', 'hex');
  const ll = Buffer.from('fe800000000000000000000000000001', 'hex');
  assert.equal(vpnNextHop(Buffer.concat([g, ll])).toString('hex'), `${'00'.repeat(8)}${g.toString('hex')}${'00'.repeat(8)}${ll.toString('hex')}`);
  assert.throws(() => vpnNextHop(Buffer.alloc(5)), RangeError);
  for (const n of [0, 4, 8, 16, 20, 32, 47]) assert.equal(vpnNextHopAddress(Buffer.alloc(n)), undefined, `${n}`);
});
