import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type AsPath, mergeAs4Path } from '../../src/bgp/wire/aspath.js';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AS_TRANS, AsPathSegmentType, AttrType, Origin } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { type Update, decodeUpdate } from '../../src/bgp/wire/update.js';
import { type PackOptions, encodeAnnouncements } from '../../src/bgp/wire/update-encode.js';
import {
  ATTR, CTX2, CTX4, arbAttributes, decodeUpdateMessage, expectedAfterRoundTrip, hex, okValue, rawAttr, updateBody, v4,
} from './helpers.js';

const SEQ = AsPathSegmentType.AsSequence;
const SET = AsPathSegmentType.AsSet;
const CSEQ = AsPathSegmentType.ConfedSequence;
const TWO: PackOptions = { maxLength: 4096, fourOctetAs: false, addPath: false };
const NLRI = [v4('10.1.0.0/16')];

function attrs(asPath: AsPath, extra: Partial<PathAttributes> = {}): PathAttributes {
  return { origin: Origin.Igp, asPath, nextHop: Buffer.from([192, 0, 2, 1]), ...extra };
}

function viaTwoOctetPeer(a: PathAttributes): { raw: Buffer; update: Update } {
  const [raw, ...rest] = encodeAnnouncements(IPV4_UNICAST, a, NLRI, TWO);
  assert.equal(rest.length, 0);
  return { raw: raw!, update: decodeUpdateMessage(raw!, CTX2) };
}

/** An IPv4 UPDATE body whose attributes follow ORIGIN and NEXT_HOP. */
function body(attrHex: string): Buffer {
  return updateBody(Buffer.alloc(0), hex(`${ATTR.originIgp} ${ATTR.nextHop10001} ${attrHex}`), hex('10 0a01'));
}

test('a path with 4-octet ASNs goes to a 2-octet peer as AS_TRANS plus AS4_PATH (RFC 6793 §4.2.2)', () => {
  const path: AsPath = [
    { type: SEQ, asns: [65001, 4200000000, 65002] },
    { type: SET, asns: [4200000001, 100] },
  ];
  const { raw, update } = viaTwoOctetPeer(attrs(path));
  assert.deepEqual(rawAttr(raw, AttrType.AsPath)?.value, hex('02 03 fde9 5ba0 fdea  01 02 5ba0 0064'));
  const as4 = rawAttr(raw, AttrType.As4Path);
  assert.ok(as4);
  assert.equal(as4.flags, 0xc0);
  assert.deepEqual(as4.value, hex('02 03 0000fde9 fa56ea00 0000fdea  01 02 fa56ea01 00000064'));
  assert.deepEqual(update.attrs.asPath, path);
  assert.deepEqual(update.errors, []);
});

test('a path of 2-octet ASNs gets no AS4_PATH', () => {
  const { raw, update } = viaTwoOctetPeer(attrs([{ type: SEQ, asns: [65001, AS_TRANS, 1] }]));
  assert.equal(rawAttr(raw, AttrType.As4Path), undefined);
  assert.deepEqual(update.attrs.asPath, [{ type: SEQ, asns: [65001, AS_TRANS, 1] }]);
});

test('an AGGREGATOR with a 4-octet ASN becomes AS_TRANS plus AS4_AGGREGATOR', () => {
  const aggregator = { asn: 4200000005, address: 0x0a000009 };
  const { raw, update } = viaTwoOctetPeer(attrs([{ type: SEQ, asns: [65001] }], { aggregator }));
  assert.deepEqual(rawAttr(raw, AttrType.Aggregator)?.value, hex('5ba0 0a000009'));
  const as4 = rawAttr(raw, AttrType.As4Aggregator);
  assert.ok(as4);
  assert.equal(as4.flags, 0xc0);
  assert.deepEqual(as4.value, hex('fa56ea05 0a000009'));
  assert.deepEqual(update.attrs.aggregator, aggregator);
});

test('a small AGGREGATOR ASN is written as is, with no AS4_AGGREGATOR', () => {
  const { raw, update } = viaTwoOctetPeer(attrs([{ type: SEQ, asns: [65001] }], { aggregator: { asn: 65010, address: 1 } }));
  assert.deepEqual(rawAttr(raw, AttrType.Aggregator)?.value, hex('fdf2 00000001'));
  assert.equal(rawAttr(raw, AttrType.As4Aggregator), undefined);
  assert.deepEqual(update.attrs.aggregator, { asn: 65010, address: 1 });
});

test('a 4-octet peer gets 4-octet AS_PATH and AGGREGATOR and no AS4 attributes', () => {
  const a = attrs([{ type: SEQ, asns: [4200000000] }], { aggregator: { asn: 4200000005, address: 1 } });
  const [raw] = encodeAnnouncements(IPV4_UNICAST, a, NLRI, { ...TWO, fourOctetAs: true });
  assert.deepEqual(rawAttr(raw!, AttrType.AsPath)?.value, hex('02 01 fa56ea00'));
  assert.deepEqual(rawAttr(raw!, AttrType.Aggregator)?.value, hex('fa56ea05 00000001'));
  assert.equal(rawAttr(raw!, AttrType.As4Path), undefined);
  assert.equal(rawAttr(raw!, AttrType.As4Aggregator), undefined);
});

test('property: any SEQUENCE/SET path and big AGGREGATOR round-trip through a 2-octet peer', () => {
  const a = arbAttributes({ segmentTypes: [SEQ, SET], aggregatorAsn: fc.integer({ min: 65536, max: 0xffffffff }) });
  fc.assert(
    fc.property(a, (attributes) => {
      const { update } = viaTwoOctetPeer(attributes);
      assert.equal(update.treatAsWithdraw, false);
      assert.deepEqual(update.errors, []);
      assert.deepEqual(update.attrs, expectedAfterRoundTrip(attributes, true));
    }),
    { numRuns: 300 },
  );
});

test('merge: an AS_PATH shorter than AS4_PATH means AS4_PATH is ignored (RFC 6793 §4.2.3)', () => {
  const u = okValue(decodeUpdate(body('40 02 04 02 01 5ba0   c0 11 0a 02 02 fa56ea00 fa56ea01'), CTX2));
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [AS_TRANS] }]);
  assert.equal(u.treatAsWithdraw, false);
});

test('merge: leading ASNs not covered by AS4_PATH come from AS_PATH, as one sequence', () => {
  const u = okValue(decodeUpdate(body('40 02 0a 02 04 0064 00c8 5ba0 5ba0   c0 11 0a 02 02 fa56ea00 fa56ea01'), CTX2));
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [100, 200, 4200000000, 4200000001] }]);
});

test('merge: AS_SETs count as one ASN', () => {
  const asPath: AsPath = [
    { type: SEQ, asns: [1, AS_TRANS] },
    { type: SET, asns: [2, 3, 4] },
  ];
  const as4: AsPath = [{ type: SEQ, asns: [4200000000] }, { type: SET, asns: [5, 6] }];
  assert.deepEqual(mergeAs4Path(asPath, as4), [{ type: SEQ, asns: [1, 4200000000] }, { type: SET, asns: [5, 6] }]);
});

test('merge: a leading confederation segment of AS_PATH is kept', () => {
  const asPath: AsPath = [
    { type: CSEQ, asns: [65100] },
    { type: SEQ, asns: [AS_TRANS, 100] },
  ];
  const as4: AsPath = [{ type: SEQ, asns: [4200000000, 100] }];
  assert.deepEqual(mergeAs4Path(asPath, as4), [{ type: CSEQ, asns: [65100] }, { type: SEQ, asns: [4200000000, 100] }]);
  const longer: AsPath = [{ type: CSEQ, asns: [65100] }, { type: SEQ, asns: [7, AS_TRANS, 100] }];
  assert.deepEqual(mergeAs4Path(longer, as4), [{ type: CSEQ, asns: [65100] }, { type: SEQ, asns: [7, 4200000000, 100] }]);
});

test('AS4_PATH never carries confederation segments: left out on send, dropped on receipt (RFC 6793 §3)', () => {
  const path: AsPath = [
    { type: CSEQ, asns: [65100, 65101] },
    { type: SEQ, asns: [4200000000, 100] },
  ];
  const { raw, update } = viaTwoOctetPeer(attrs(path));
  assert.deepEqual(rawAttr(raw, AttrType.As4Path)?.value, hex('02 02 fa56ea00 00000064'));
  assert.deepEqual(update.attrs.asPath, path);

  const u = okValue(decodeUpdate(body('40 02 06 02 02 5ba0 0064   c0 11 10 03 01 0000fe4c 02 02 fa56ea00 00000064'), CTX2));
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [4200000000, 100] }]);
  assert.equal(u.treatAsWithdraw, false);
  assert.deepEqual(u.errors.map((e) => [e.action, e.attrType]), [['attribute-discard', AttrType.As4Path]]);
});

test('merge: an AGGREGATOR that is not AS_TRANS means AS4_PATH and AS4_AGGREGATOR are ignored', () => {
  const u = okValue(
    decodeUpdate(
      body('40 02 04 02 01 5ba0  c0 07 06 fdf2 0a000001  c0 11 06 02 01 fa56ea00  c0 12 08 fa56ea05 0a000002'),
      CTX2,
    ),
  );
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [AS_TRANS] }]);
  assert.deepEqual(u.attrs.aggregator, { asn: 65010, address: 0x0a000001 });
  assert.equal(u.treatAsWithdraw, false);
});

test('merge: AGGREGATOR of AS_TRANS takes AS4_AGGREGATOR and AS4_PATH', () => {
  const u = okValue(
    decodeUpdate(
      body('40 02 04 02 01 5ba0  c0 07 06 5ba0 0a000001  c0 11 06 02 01 fa56ea00  c0 12 08 fa56ea05 0a000002'),
      CTX2,
    ),
  );
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [4200000000] }]);
  assert.deepEqual(u.attrs.aggregator, { asn: 4200000005, address: 0x0a000002 });
});

test('AS4_AGGREGATOR without AGGREGATOR is ignored', () => {
  const u = okValue(decodeUpdate(body('40 02 04 02 01 0064  c0 12 08 fa56ea05 0a000002'), CTX2));
  assert.equal(u.attrs.aggregator, undefined);
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [100] }]);
});

test('AS4_PATH and AS4_AGGREGATOR from a 4-octet peer are discarded (RFC 6793 §4.1)', () => {
  const u = okValue(
    decodeUpdate(body('40 02 06 02 01 0000fde9  c0 11 06 02 01 fa56ea00  c0 12 08 fa56ea05 0a000002'), CTX4),
  );
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [65001] }]);
  assert.equal(u.treatAsWithdraw, false);
  assert.deepEqual(
    u.errors.map((e) => [e.action, e.attrType]),
    [['attribute-discard', AttrType.As4Path], ['attribute-discard', AttrType.As4Aggregator]],
  );
});

test('a malformed AS4_PATH or AS4_AGGREGATOR is discarded, not withdrawn (RFC 7606 §7.x, RFC 6793 §6)', () => {
  const bad = ['c0 11 02 02 00', 'c0 11 06 02 02 fa56ea00', 'c0 12 06 fa56ea05 0a00', '40 11 06 02 01 fa56ea00'];
  for (const b of bad) {
    const u = okValue(decodeUpdate(body(`40 02 04 02 01 5ba0  ${b}`), CTX2));
    assert.equal(u.treatAsWithdraw, false, b);
    assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [AS_TRANS] }], b);
    assert.deepEqual(u.errors.map((e) => e.action), ['attribute-discard'], b);
  }
});

test('the eBGP first-AS check sees the merged path', () => {
  const ctx = { fourOctetAs: false, ebgpPeerAs: 4200000000 };
  const u = okValue(decodeUpdate(body('40 02 06 02 02 5ba0 0064   c0 11 0a 02 02 fa56ea00 00000064'), ctx));
  assert.equal(u.treatAsWithdraw, false);
  assert.deepEqual(u.attrs.asPath, [{ type: SEQ, asns: [4200000000, 100] }]);
});
