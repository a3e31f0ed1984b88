import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Result } from '../../src/core/result.js';
import type { DecodeContext } from '../../src/bgp/wire/attributes-decode.js';
import { MessageType } from '../../src/bgp/wire/constants.js';
import type { FatalError } from '../../src/bgp/wire/errors.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import { Framer } from '../../src/bgp/wire/framer.js';
import { decodeMessage } from '../../src/bgp/wire/message.js';
import { type Update, decodeUpdate } from '../../src/bgp/wire/update.js';
import { ATTR, CTX4, assertNotify, fatalOf, frameOf, hex, okValue, updateBody, updateMessage, v4 } from './helpers.js';
import { arbMutatedMessage, arbNoise, checkOutcome } from './fuzz-support.js';

const ORIGIN = ATTR.originIgp;
const AS_PATH = ATTR.asPath65001;
const NEXT_HOP = ATTR.nextHop10001;
const MANDATORY = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
const NLRI = '10 0a01';
const PREFIX = v4('10.1.0.0/16');
/** MP_REACH_NLRI for IPv6 unicast: next hop 2001:db8::1, NLRI 2001:db8::/32. */
const MP_REACH_V6 = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
const MP_UNREACH_V6 = '80 0f 08 0002 01 20 20010db8';

/** Frames and decodes a whole UPDATE message as a session would. */
function run(body: Buffer, ctx: DecodeContext = CTX4): Result<Update, FatalError> {
  const r = decodeMessage(frameOf(updateMessage(body)), ctx);
  if (!r.ok) return r;
  assert.equal(r.value.type, MessageType.Update);
  if (r.value.type !== MessageType.Update) assert.fail('not an UPDATE');
  return { ok: true, value: r.value.update };
}

function ipv4(attrs: string, nlri = NLRI): Buffer {
  return updateBody(Buffer.alloc(0), hex(attrs), hex(nlri));
}

function withdrawn(body: Buffer, ctx?: DecodeContext, attrType?: number): Update {
  const u = okValue(run(body, ctx));
  assert.equal(u.treatAsWithdraw, true, 'treat-as-withdraw');
  if (attrType !== undefined) assert.ok(u.errors.some((e) => e.action === 'treat-as-withdraw' && e.attrType === attrType), JSON.stringify(u.errors));
  return u;
}

function installed(body: Buffer, ctx?: DecodeContext): Update {
  const u = okValue(run(body, ctx));
  assert.equal(u.treatAsWithdraw, false, JSON.stringify(u.errors));
  return u;
}

test('a truncated withdrawn routes length or field is 3/1', () => {
  for (const b of ['00', '0000 00', '0005 0a01', '0003 10 0a']) assertNotify(fatalOf(decodeUpdate(hex(b), CTX4)), 3, 1);
  assertNotify(fatalOf(run(hex('0005 0a01'))), 3, 1);
});

test('a total path attribute length past the end of the UPDATE is 3/1', () => {
  assertNotify(fatalOf(run(hex('0000 0010 40010100'))), 3, 1);
  assertNotify(fatalOf(run(hex('0000 0001'))), 3, 1);
});

test('an attribute length past the end of the attribute list is treat-as-withdraw; the NLRI is still withdrawn', () => {
  const u = withdrawn(ipv4(`${MANDATORY} 80 04 08 00000000`), CTX4, 4);
  assert.deepEqual(u.nlri, [PREFIX]);
  // Too few bytes left for an attribute header (RFC 7606 §4), plain and extended.
  assert.deepEqual(withdrawn(ipv4(`${MANDATORY} 40`)).nlri, [PREFIX]);
  assert.deepEqual(withdrawn(ipv4(`${MANDATORY} 50 01 00`)).nlri, [PREFIX]);
  assert.deepEqual(withdrawn(ipv4(`${MANDATORY} 50 08 0005 0000`)).nlri, [PREFIX]);
});

test('bad flags on a well-known attribute are treat-as-withdraw (RFC 7606 §3.c)', () => {
  withdrawn(ipv4(`c0 01 01 00 ${AS_PATH} ${NEXT_HOP}`), CTX4, 1);
  withdrawn(ipv4(`${ORIGIN} ${AS_PATH} 80 03 04 0a000001`), CTX4, 3);
  withdrawn(ipv4(`${MANDATORY} c0 04 04 00000001`), CTX4, 4);
  // Partial and Extended Length are not part of the check.
  const u = installed(ipv4(`${MANDATORY} b0 04 0004 00000001`));
  assert.equal(u.attrs.med, 1);
});

test('bad flags on MP_REACH_NLRI or MP_UNREACH_NLRI are 3/4 with the attribute as data', () => {
  const reach = MP_REACH_V6.replace(/^80/, '40');
  assertNotify(fatalOf(run(ipv4(`${ORIGIN} ${AS_PATH} ${reach}`, ''))), 3, 4, hex(reach));
  const unreach = MP_UNREACH_V6.replace(/^80/, 'c0');
  assertNotify(fatalOf(run(ipv4(unreach, ''))), 3, 4, hex(unreach));
});

test('a bad ORIGIN value or length is treat-as-withdraw', () => {
  withdrawn(ipv4(`40 01 01 03 ${AS_PATH} ${NEXT_HOP}`), CTX4, 1);
  withdrawn(ipv4(`40 01 02 0000 ${AS_PATH} ${NEXT_HOP}`), CTX4, 1);
  withdrawn(ipv4(`40 01 00 ${AS_PATH} ${NEXT_HOP}`), CTX4, 1);
});

test('a malformed AS_PATH is treat-as-withdraw (RFC 7606 §7.2)', () => {
  const bad = [
    '40 02 02 02 00', // zero-length segment
    '40 02 06 05 01 0000fde9', // segment type 5
    '40 02 06 00 01 0000fde9', // segment type 0
    '40 02 06 02 02 0000fde9', // segment overruns the attribute
    '40 02 07 02 01 0000fde9 02', // a lone octet after the last segment
  ];
  for (const p of bad) withdrawn(ipv4(`${ORIGIN} ${p} ${NEXT_HOP}`), CTX4, 2);
  withdrawn(ipv4(`${ORIGIN} 40 02 04 02 01 fde9 ${NEXT_HOP}`), CTX4, 2);
});

test('a bad NEXT_HOP, MED, LOCAL_PREF or community-like length is treat-as-withdraw', () => {
  withdrawn(ipv4(`${ORIGIN} ${AS_PATH} 40 03 05 0a00000100`), CTX4, 3);
  withdrawn(ipv4(`${ORIGIN} ${AS_PATH} 40 03 04 00000000`), CTX4, 3);
  withdrawn(ipv4(`${ORIGIN} ${AS_PATH} 40 03 04 e0000001`), CTX4, 3);
  const cases: [string, number][] = [
    ['80 04 03 000001', 4],
    ['40 05 03 000064', 5],
    ['c0 08 05 0000000100', 8],
    ['c0 08 00', 8],
    ['80 09 05 0a00000100', 9],
    ['80 0a 03 0a0000', 10],
    ['c0 10 07 00000000000000', 16],
    ['c0 20 0b 0000000000000000000000', 32],
  ];
  for (const [attr, type] of cases) withdrawn(ipv4(`${MANDATORY} ${attr}`), CTX4, type);
});

test('a bad ATOMIC_AGGREGATE or AGGREGATOR is discarded and the route still installed', () => {
  for (const [attr, type] of [['40 06 01 00', 6], ['c0 07 07 0000fdea 0a0000', 7], ['c0 07 06 fdea 0a000001', 7], ['80 07 08 0000fdea 0a000001', 7]] as const) {
    const u = installed(ipv4(`${MANDATORY} ${attr}`));
    assert.deepEqual(u.nlri, [PREFIX]);
    assert.equal(u.attrs.atomicAggregate, undefined);
    assert.equal(u.attrs.aggregator, undefined);
    assert.deepEqual(u.errors.map((e) => [e.action, e.attrType]), [['attribute-discard', type]]);
  }
});

test('a repeated attribute keeps the first; repeated MP attributes are 3/1 (RFC 7606 §3.g)', () => {
  const u = installed(ipv4(`${MANDATORY} 40 01 01 01`));
  assert.equal(u.attrs.origin, 0);
  assert.deepEqual(u.errors.map((e) => [e.action, e.attrType]), [['attribute-discard', 1]]);
  const c = installed(ipv4(`${MANDATORY} c0 08 04 00000001 c0 08 04 00000002`));
  assert.deepEqual(c.attrs.communities, [1]);
  assertNotify(fatalOf(run(ipv4(`${ORIGIN} ${AS_PATH} ${MP_REACH_V6} ${MP_REACH_V6}`, ''))), 3, 1);
  assertNotify(fatalOf(run(ipv4(`${MP_UNREACH_V6} ${MP_UNREACH_V6}`, ''))), 3, 1);
});

test('an unknown well-known attribute is 3/2 with the attribute as data', () => {
  assertNotify(fatalOf(run(ipv4(`${MANDATORY} 40 63 02 abcd`))), 3, 2, hex('40 63 02 abcd'));
  assertNotify(fatalOf(run(ipv4(`${MANDATORY} 50 63 0002 abcd`))), 3, 2, hex('50 63 0002 abcd'));
});

test('unknown optional attributes: non-transitive dropped silently, transitive kept', () => {
  const u = installed(ipv4(`${MANDATORY} 80 63 02 abcd`));
  assert.equal(u.attrs.unknown, undefined);
  assert.deepEqual(u.errors, []);
  const t = installed(ipv4(`${MANDATORY} c0 63 02 abcd`));
  assert.deepEqual(t.attrs.unknown, [{ flags: 0xc0, type: 0x63, value: hex('abcd') }]);
});

test('a missing ORIGIN, AS_PATH or NEXT_HOP with NLRI is treat-as-withdraw (RFC 7606 §3.d)', () => {
  for (const attrs of [`${AS_PATH} ${NEXT_HOP}`, `${ORIGIN} ${NEXT_HOP}`, `${ORIGIN} ${AS_PATH}`, '']) {
    const u = withdrawn(ipv4(attrs), CTX4, 0);
    assert.deepEqual(u.nlri, [PREFIX]);
  }
  withdrawn(ipv4(`${AS_PATH} ${MP_REACH_V6}`, ''), CTX4, 0);
  // MP_REACH_NLRI carries its own next hop.
  assert.equal(installed(ipv4(`${ORIGIN} ${AS_PATH} ${MP_REACH_V6}`, '')).mpReach?.nlri.length, 1);
});

test('missing mandatory attributes are fine when the UPDATE only withdraws', () => {
  const u = installed(updateBody(hex(NLRI), Buffer.alloc(0)));
  assert.deepEqual(u.withdrawn, [PREFIX]);
  assert.deepEqual(u.errors, []);
  const m = installed(ipv4(MP_UNREACH_V6, ''));
  assert.equal(m.mpUnreach?.withdrawn.length, 1);
});

test('an unparseable NLRI or withdrawn field is 3/10 (RFC 7606 §5.3)', () => {
  assertNotify(fatalOf(run(ipv4(MANDATORY, '21 0a00000000'))), 3, 10);
  assertNotify(fatalOf(run(ipv4(MANDATORY, '18 0a01'))), 3, 10);
  assertNotify(fatalOf(run(updateBody(hex('21 0a00000000'), Buffer.alloc(0)))), 3, 10);
  const addPath = { fourOctetAs: true, addPathReceive: new Set([IPV4_UNICAST]) };
  assertNotify(fatalOf(run(ipv4(MANDATORY, '000000'), addPath)), 3, 10);
});

test('a malformed MP_REACH_NLRI or MP_UNREACH_NLRI is 3/9 with the attribute as data', () => {
  const bad = [
    '80 0e 0c 0002 01 07 20010db8000000 00', // IPv6 next hop of 7 bytes
    '80 0e 14 0002 01 20 20010db8000000000000000000000001', // next hop overruns
    '80 0e 04 0002 01 00', // shorter than 5
    '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 81 20010db8', // prefix length 129
  ];
  for (const b of bad) assertNotify(fatalOf(run(ipv4(`${ORIGIN} ${AS_PATH} ${b}`, ''))), 3, 9, hex(b));
  for (const b of ['80 0f 02 0002', '80 0f 05 0002 01 40 20']) assertNotify(fatalOf(run(ipv4(b, ''))), 3, 9, hex(b));
});

test('MP attributes of a family not negotiated, or not known, are ignored (RFC 4760 §6)', () => {
  const ctx = { fourOctetAs: true, families: new Set([IPV4_UNICAST]) };
  const u = installed(ipv4(`${MANDATORY} ${MP_REACH_V6}`), ctx);
  assert.equal(u.mpReach, undefined);
  assert.deepEqual(u.nlri, [PREFIX]);
  const badNextHop = '80 0e 0c 0002 01 07 20010db8000000 00';
  assert.equal(installed(ipv4(`${ORIGIN} ${AS_PATH} ${badNextHop}`, ''), ctx).mpReach, undefined);
  assert.equal(installed(ipv4(MP_UNREACH_V6, ''), ctx).mpUnreach, undefined);
  assert.equal(installed(ipv4(`${ORIGIN} ${AS_PATH} 80 0e 06 0063 63 00 00 ff`, '')).mpReach, undefined);
  const both = { fourOctetAs: true, families: new Set([IPV4_UNICAST, IPV6_UNICAST]) };
  assert.equal(installed(ipv4(`${ORIGIN} ${AS_PATH} ${MP_REACH_V6}`, ''), both).mpReach?.family, IPV6_UNICAST);
});

test('eBGP: an AS_PATH not starting with the peer AS is treat-as-withdraw (RFC 4271 §6.3, RFC 7606 §7.2)', () => {
  withdrawn(ipv4(MANDATORY), { fourOctetAs: true, ebgpPeerAs: 65002 }, 2);
  withdrawn(ipv4(`${ORIGIN} 40 02 06 01 01 0000fde9 ${NEXT_HOP}`), { fourOctetAs: true, ebgpPeerAs: 65001 }, 2);
  installed(ipv4(MANDATORY), { fourOctetAs: true, ebgpPeerAs: 65001 });
});

test('eBGP: LOCAL_PREF is dropped silently, even a malformed one (RFC 7606 §7.5)', () => {
  const ctx = { fourOctetAs: true, ebgpPeerAs: 65001 };
  for (const lp of ['40 05 04 00000064', '40 05 03 000064']) {
    const u = installed(ipv4(`${MANDATORY} ${lp}`), ctx);
    assert.equal(u.attrs.localPref, undefined);
    assert.deepEqual(u.errors, []);
  }
  assert.equal(installed(ipv4(`${MANDATORY} 40 05 04 00000064`)).attrs.localPref, 100);
});

test('the most severe error wins: a session reset after a treat-as-withdraw still resets', () => {
  assertNotify(fatalOf(run(ipv4(`40 01 01 07 ${AS_PATH} 40 0e 03 000201`, ''))), 3, 4);
});

/** Runs bytes through a Framer and decodeMessage; every outcome must be a frame decoded or a NOTIFICATION of code 1..7. */
function decodeStream(bytes: Buffer, ctx: DecodeContext, maxLength: number): void {
  const framer = new Framer();
  framer.maxLength = maxLength;
  framer.push(bytes);
  for (let f = framer.next(); f !== undefined; f = framer.next()) {
    if ('kind' in f) {
      checkOutcome({ ok: false, error: f });
      return;
    }
    checkOutcome(decodeMessage(f, ctx));
  }
}

const arbCtx: fc.Arbitrary<DecodeContext> = fc.record({
  fourOctetAs: fc.boolean(),
  ebgpPeerAs: fc.option(fc.constantFrom(65001, 4200000000), { nil: undefined }),
  addPathReceive: fc.option(fc.constant(new Set([IPV4_UNICAST, IPV6_UNICAST])), { nil: undefined }),
  families: fc.option(fc.constant(new Set([IPV4_UNICAST])), { nil: undefined }),
});

test('property: decodeMessage never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(arbNoise, arbCtx, fc.constantFrom(4096, 65535), (bytes, ctx, max) => {
      decodeStream(bytes, ctx, max);
    }),
    { numRuns: 3000 },
  );
});

test('property: decodeMessage never throws on mutated UPDATEs and OPENs', () => {
  fc.assert(
    fc.property(arbMutatedMessage, arbCtx, fc.constantFrom(4096, 65535), (bytes, ctx, max) => {
      decodeStream(bytes, ctx, max);
    }),
    { numRuns: 3000 },
  );
});
