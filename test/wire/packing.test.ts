import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AsPathSegmentType, Origin } from '../../src/bgp/wire/constants.js';
import { type FamilyKey, IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import type { Nlri } from '../../src/bgp/wire/nlri.js';
import type { Update } from '../../src/bgp/wire/update.js';
import { type PackOptions, encodeAnnouncements, encodeWithdrawals } from '../../src/bgp/wire/update-encode.js';
import { CTX4, arbIpv4Prefix, arbIpv6Prefix, decodeUpdateMessage, prefixNlri } from './helpers.js';

const ATTRS: PathAttributes = {
  origin: Origin.Igp,
  asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65001, 65002, 65003] }],
  nextHop: Buffer.from([192, 0, 2, 1]),
  med: 0,
  communities: [0xfde90001, 0xfde90002],
};
const NH6 = Buffer.alloc(16, 0x20);

function pack(max: number, addPath = false): PackOptions {
  return { maxLength: max, fourOctetAs: true, addPath };
}

/** 10.0.0.0/24, 10.0.1.0/24, ...: n distinct /24s. */
function slash24s(n: number): Nlri[] {
  return Array.from({ length: n }, (_, i) => prefixNlri(24, [10 + (i >> 16), (i >> 8) & 255, i & 255]));
}

function slash64s(n: number): Nlri[] {
  return Array.from({ length: n }, (_, i) => prefixNlri(64, [0x20, 0x01, 0x0d, 0xb8, 0, 0, i >> 8, i & 255]));
}

type Kind = 'announce' | 'withdraw';

function nlriOf(u: Update, family: FamilyKey, kind: Kind): readonly Nlri[] {
  if (family === IPV4_UNICAST) return kind === 'announce' ? u.nlri : u.withdrawn;
  return (kind === 'announce' ? u.mpReach?.nlri : u.mpUnreach?.withdrawn) ?? [];
}

function encode(family: FamilyKey, kind: Kind, nlri: readonly Nlri[], opt: PackOptions): Buffer[] {
  if (kind === 'withdraw') return encodeWithdrawals(family, nlri, opt);
  return encodeAnnouncements(family, ATTRS, nlri, opt, family === IPV4_UNICAST ? undefined : NH6);
}

/**
 * Checks that packing is greedy, hence minimal in messages: every message
 * fits, gives back its share of the NLRI in order, and every message but the
 * last has no room for the NLRI that opens the next one.
 */
function checkPacking(family: FamilyKey, kind: Kind, nlri: readonly Nlri[], opt: PackOptions): Buffer[] {
  const msgs = encode(family, kind, nlri, opt);
  const ctx = opt.addPath ? { ...CTX4, addPathReceive: new Set([family]) } : CTX4;
  const wire = (n: Nlri): number => n.key.length + (opt.addPath ? 4 : 0);
  let next = 0;
  msgs.forEach((m, i) => {
    assert.ok(m.length <= opt.maxLength, `message ${i} is ${m.length} bytes`);
    const u = decodeUpdateMessage(m, ctx, opt.maxLength);
    assert.equal(u.treatAsWithdraw, false);
    const got = nlriOf(u, family, kind);
    assert.ok(got.length > 0);
    assert.deepEqual(got, nlri.slice(next, next + got.length));
    next += got.length;
    if (i < msgs.length - 1) {
      const fit = m.length + wire(nlri[next]!);
      assert.ok(fit > opt.maxLength, `message ${i} (${m.length} bytes) had room for the next NLRI`);
    }
  });
  assert.equal(next, nlri.length);
  return msgs;
}

test('10,000 /24 announcements pack into the fewest 4096-byte UPDATEs', () => {
  const nlri = slash24s(10_000);
  const msgs = checkPacking(IPV4_UNICAST, 'announce', nlri, pack(4096));
  // 23 bytes of header and length fields, 46 of attributes, then 4 bytes per /24.
  const perMessage = Math.floor((4096 - 23 - 46) / 4);
  assert.equal(decodeUpdateMessage(msgs[0]!, CTX4).nlri.length, perMessage);
  assert.equal(msgs.length, Math.ceil(10_000 / perMessage));
  assert.equal(msgs.length, 10);
  for (const m of msgs.slice(0, -1)) assert.ok(m.length > 4096 - 4);
});

test('extended messages (RFC 8654) need far fewer UPDATEs', () => {
  const nlri = slash24s(10_000);
  const small = encode(IPV4_UNICAST, 'announce', nlri, pack(4096));
  const big = checkPacking(IPV4_UNICAST, 'announce', nlri, pack(65535));
  assert.equal(big.length, 1);
  assert.ok(big[0]!.length > 4096);
  assert.ok(big.length * 10 <= small.length);
  const many = checkPacking(IPV4_UNICAST, 'announce', slash24s(40_000), pack(65535));
  assert.equal(many.length, 3);
});

test('withdrawals of 10,000 /24s pack into the fewest UPDATEs', () => {
  const msgs = checkPacking(IPV4_UNICAST, 'withdraw', slash24s(10_000), pack(4096));
  // Header, two length fields and 4 bytes per /24.
  assert.equal(msgs.length, Math.ceil(10_000 / Math.floor((4096 - 23) / 4)));
  checkPacking(IPV4_UNICAST, 'withdraw', slash24s(40_000), pack(65535));
});

test('IPv6 announcements and withdrawals in MP attributes pack into the fewest UPDATEs', () => {
  const nlri = slash64s(5_000);
  checkPacking(IPV6_UNICAST, 'announce', nlri, pack(4096));
  checkPacking(IPV6_UNICAST, 'withdraw', nlri, pack(4096));
  const big = checkPacking(IPV6_UNICAST, 'announce', nlri, pack(65535));
  assert.equal(big.length, 1);
});

test('ADD-PATH identifiers count towards the size', () => {
  const nlri = slash24s(3_000).map((n, i) => ({ ...n, pathId: i }));
  checkPacking(IPV4_UNICAST, 'announce', nlri, pack(4096, true));
  checkPacking(IPV4_UNICAST, 'withdraw', nlri, pack(4096, true));
});

test('property: packing of mixed prefix lengths is greedy in every mode', () => {
  const mode = fc.record({
    six: fc.boolean(),
    kind: fc.constantFrom<Kind>('announce', 'withdraw'),
    max: fc.constantFrom(4096, 65535, 200),
    addPath: fc.boolean(),
  });
  fc.assert(
    fc.property(mode, fc.array(fc.tuple(arbIpv4Prefix, arbIpv6Prefix), { minLength: 1, maxLength: 3000, size: 'max' }), (m, pairs) => {
      const nlri = pairs.map(([a, b]) => (m.six ? b : a));
      checkPacking(m.six ? IPV6_UNICAST : IPV4_UNICAST, m.kind, nlri, pack(m.max, m.addPath));
    }),
    { numRuns: 60 },
  );
});

test('attributes that leave no room for a single NLRI are an error, not an endless loop', () => {
  const huge: PathAttributes = { ...ATTRS, unknown: [{ flags: 0xc0, type: 99, value: Buffer.alloc(4080) }] };
  assert.throws(() => encodeAnnouncements(IPV4_UNICAST, huge, slash24s(1), pack(4096)), /does not fit/);
  assert.throws(() => encodeAnnouncements(IPV6_UNICAST, huge, slash64s(1), pack(4096), NH6), /does not fit/);
  assert.equal(encodeAnnouncements(IPV4_UNICAST, huge, slash24s(100), pack(65535)).length, 1);
});
