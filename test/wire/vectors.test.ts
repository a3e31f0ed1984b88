/**
 * Real FRR 8.4.4 and GoBGP 3.10 messages (test/vectors/bgp-messages.json), one
 * test per vector:
 *   1. frame and decode it as the receiving end of its lab session would, and
 *      check it against the hand-written expectations in vectors-expected.ts;
 *   2. encode the decoded message again, in the sender's layout (AttrLayout
 *      'frr' or 'gobgp'; Open.paramLayout as decoded), and compare the bytes
 *      with the capture;
 *   3. decode what was encoded and compare with step 1.
 *
 * 48 of the 50 vectors come back byte for byte. For the two below, step 2
 * checks instead that the encoded UPDATE holds exactly the captured attributes,
 * byte for byte, only in another order; step 3 is unchanged.
 *
 * | vector                                                      | why the bytes differ                                      |
 * |-------------------------------------------------------------|-----------------------------------------------------------|
 * | gobgp-ibgp-update-ipv4-unicast-10.66.0.0/24                 | GoBGP sent types 1,2,4,5,8,32,3: NEXT_HOP last            |
 * | gobgp-ebgp-update-ipv4-unicast-addpath-10.88.0.0/24-path1   | GoBGP sent types 1,2,8,3: NEXT_HOP last                   |
 *
 * GoBGP keeps a route's attributes in the order they were created, and
 * `gobgp global rib add` appends NEXT_HOP last; it sorts them
 * (table.Path.GetPathAttrs) only when its export processing adds one, such as
 * LOCAL_PREF 100 on iBGP when none was given. Here nothing was added (the
 * local-pref was given; on eBGP it only rewrote AS_PATH in place), so the
 * order is the CLI's. PathAttributes carries no order, and nothing in these
 * two UPDATEs tells them from the sorted GoBGP ones, which are byte-exact.
 */
import assert from 'node:assert/strict';
import { loadVectors } from '../support/vectors.js';
import { test } from 'node:test';
import { decodeAsPath } from '../../src/bgp/wire/aspath.js';
import type { DecodeContext } from '../../src/bgp/wire/attributes-decode.js';
import type { Capability } from '../../src/bgp/wire/capabilities.js';
import {
  AsPathSegmentType,
  AttrFlag,
  AttrType,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  Origin,
} from '../../src/bgp/wire/constants.js';
import { type FamilyKey, IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import { type Message, decodeMessage, encodeMessage } from '../../src/bgp/wire/message.js';
import { shutdownMessage } from '../../src/bgp/wire/notification.js';
import type { Open } from '../../src/bgp/wire/open.js';
import { Reader } from '../../src/bgp/wire/reader.js';
import type { Update } from '../../src/bgp/wire/update.js';
import { type PackOptions, encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../../src/bgp/wire/update-encode.js';
import { decodeUpdateMessage, frameOf, okValue, prefixNlri, rawAttr, rawAttributes } from './helpers.js';
import { EXPECTED, type Expected, type ExpectedUpdate, type Session } from './vectors-expected.js';

const SEMANTIC_ONLY: ReadonlyMap<string, string> = new Map([
  ['gobgp-ibgp-update-ipv4-unicast-10.66.0.0/24', 'GoBGP kept its CLI attribute order, NEXT_HOP last'],
  ['gobgp-ebgp-update-ipv4-unicast-addpath-10.88.0.0/24-path1', 'GoBGP kept its CLI attribute order, NEXT_HOP last'],
]);

const VECTORS = loadVectors('bgp-messages.json');

const TYPE_NAMES: Record<Expected['type'], MessageType> = {
  open: MessageType.Open,
  update: MessageType.Update,
  keepalive: MessageType.Keepalive,
  notification: MessageType.Notification,
  'route-refresh': MessageType.RouteRefresh,
};

function contextOf(s: Session): DecodeContext {
  const ctx: DecodeContext = { fourOctetAs: s.fourOctetAs, addPathReceive: new Set(s.addPath), families: new Set(s.families) };
  return s.ebgpPeerAs === undefined ? ctx : { ...ctx, ebgpPeerAs: s.ebgpPeerAs };
}

function maxLengthOf(s: Session): number {
  return s.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

function decode(raw: Buffer, s: Session): Message {
  return okValue(decodeMessage(frameOf(raw, maxLengthOf(s)), contextOf(s)));
}

function wirePath(raw: Buffer, type: AttrType, asnBytes: 2 | 4): unknown {
  const a = rawAttr(raw, type);
  return a === undefined ? undefined : decodeAsPath(new Reader(a.value), asnBytes);
}

function checkUpdate(u: Update, e: ExpectedUpdate, raw: Buffer, s: Session): void {
  assert.deepEqual(u.errors, [], 'no RFC 7606 errors');
  assert.equal(u.treatAsWithdraw, false);
  assert.deepEqual(u.attrs, e.attrs);
  assert.deepEqual(u.nlri, e.nlri ?? []);
  assert.deepEqual(u.withdrawn, e.withdrawn ?? []);
  assert.deepEqual(u.mpReach, e.mpReach);
  assert.deepEqual(u.mpUnreach, e.mpUnreach);
  assert.equal(u.endOfRib, e.endOfRib);
  if (!s.fourOctetAs) {
    assert.deepEqual(wirePath(raw, AttrType.AsPath, 2), e.wireAsPath, 'AS_PATH as sent');
    assert.deepEqual(wirePath(raw, AttrType.As4Path, 4), e.wireAs4Path, 'AS4_PATH as sent');
  }
}

function checkExpected(m: Message, e: Expected, raw: Buffer, s: Session): void {
  assert.equal(m.type, TYPE_NAMES[e.type]);
  switch (e.type) {
    case 'open':
      assert.ok(m.type === MessageType.Open);
      assert.deepEqual(m.open, e.open);
      return;
    case 'keepalive':
      return;
    case 'notification': {
      assert.ok(m.type === MessageType.Notification);
      const n = m.notification;
      assert.deepEqual([n.code, n.subcode], [e.code, e.subcode]);
      if (e.shutdownText === undefined) {
        assert.deepEqual(n.data, Buffer.alloc(0));
      } else {
        // RFC 9003 §2: Length(1) then that many octets of UTF-8, nothing after.
        const text = Buffer.from(e.shutdownText, 'utf8');
        assert.deepEqual(n.data, Buffer.concat([Buffer.from([text.length]), text]));
        assert.equal(shutdownMessage(n), e.shutdownText);
      }
      return;
    }
    case 'route-refresh':
      assert.ok(m.type === MessageType.RouteRefresh);
      assert.deepEqual(m.refresh, e.refresh);
      return;
    case 'update':
      assert.ok(m.type === MessageType.Update);
      checkUpdate(m.update, e.update, raw, s);
      return;
  }
}

function encodeUpdate(u: Update, s: Session): Buffer {
  const kinds = [u.withdrawn.length > 0, u.nlri.length > 0, u.mpReach !== undefined, u.mpUnreach !== undefined && u.endOfRib === undefined];
  assert.ok(kinds.filter(Boolean).length <= 1, 'each vector carries one kind of route change');
  const opt = (family: FamilyKey): PackOptions => ({
    maxLength: maxLengthOf(s),
    fourOctetAs: s.fourOctetAs,
    addPath: s.addPath.includes(family),
    layout: s.layout,
  });
  let out: Buffer[];
  if (u.endOfRib !== undefined) out = [encodeEndOfRib(u.endOfRib)];
  else if (u.withdrawn.length > 0) out = encodeWithdrawals(IPV4_UNICAST, u.withdrawn, opt(IPV4_UNICAST));
  else if (u.mpUnreach !== undefined) out = encodeWithdrawals(u.mpUnreach.family, u.mpUnreach.withdrawn, opt(u.mpUnreach.family));
  else if (u.nlri.length > 0) out = encodeAnnouncements(IPV4_UNICAST, u.attrs, u.nlri, opt(IPV4_UNICAST));
  else if (u.mpReach !== undefined) {
    const f = u.mpReach.family;
    out = encodeAnnouncements(f, u.attrs, u.mpReach.nlri, opt(f), u.mpReach.nextHop);
  } else assert.fail('an UPDATE with nothing to encode');
  assert.equal(out.length, 1, 'one UPDATE, as captured');
  return out[0]!;
}

function encodeAgain(m: Message, s: Session): Buffer {
  return m.type === MessageType.Update ? encodeUpdate(m.update, s) : encodeMessage(m);
}

function attributesByType(raw: Buffer): { flags: number; type: number; value: string }[] {
  return rawAttributes(raw)
    .map((a) => ({ flags: a.flags, type: a.type, value: a.value.toString('hex') }))
    .sort((x, y) => x.type - y.type);
}

for (const v of VECTORS) {
  test(v.name, () => {
    const e = EXPECTED.get(v.name);
    if (e === undefined) assert.fail(`no expectation written for ${v.name}`);
    assert.equal(v.source, e.session.source, 'the session in the expectations is the sender of the vector');
    assert.equal(TYPE_NAMES[e.expect.type], TYPE_NAMES[v.type as Expected['type']], 'vector type');
    const raw = Buffer.from(v.hex, 'hex');

    const first = decode(raw, e.session);
    checkExpected(first, e.expect, raw, e.session);

    const again = encodeAgain(first, e.session);
    const reason = SEMANTIC_ONLY.get(v.name);
    if (reason === undefined) {
      assert.equal(again.toString('hex'), v.hex, 'byte-exact re-encoding');
    } else {
      assert.notEqual(again.toString('hex'), v.hex, `now byte-exact: remove it from SEMANTIC_ONLY (${reason})`);
      assert.deepEqual(attributesByType(again), attributesByType(raw), `same attributes in another order: ${reason}`);
    }

    assert.deepEqual(decode(again, e.session), first, 'decoding the re-encoded message gives the first decoding');
  });
}

test('every vector has an expectation, and every expectation and exception a vector', () => {
  const names = new Set(VECTORS.map((v) => v.name));
  assert.equal(names.size, VECTORS.length, 'vector names are unique');
  assert.equal(VECTORS.length, 50);
  assert.deepEqual([...EXPECTED.keys()].filter((n) => !names.has(n)), []);
  assert.deepEqual([...SEMANTIC_ONLY.keys()].filter((n) => !names.has(n)), []);
  assert.deepEqual(VECTORS.filter((v) => !EXPECTED.has(v.name)).map((v) => v.name), []);
});

// The layouts the vectors need, beyond the sizes the captures happen to have.

const many6 = Array.from({ length: 200 }, (_, i) => prefixNlri(48, [0x20, 0x01, 0x0d, 0xb8, i >> 8, i & 0xff]));
const ATTRS = { origin: Origin.Igp, asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65001] }], med: 0 };
const NH6 = Buffer.alloc(16, 0x20);

test("'gobgp' layout: MP_REACH/MP_UNREACH_NLRI take a 2-octet length only past 255 bytes, and packing still fits", () => {
  for (const maxLength of [4096, 300, 120]) {
    const opt: PackOptions = { maxLength, fourOctetAs: true, addPath: false, layout: 'gobgp' };
    const ctx: DecodeContext = { fourOctetAs: true };
    const ann = encodeAnnouncements(IPV6_UNICAST, ATTRS, many6, opt, NH6);
    const wd = encodeWithdrawals(IPV6_UNICAST, many6, opt);
    for (const [msgs, type] of [[ann, AttrType.MpReachNlri], [wd, AttrType.MpUnreachNlri]] as const) {
      const back = msgs.flatMap((m) => {
        assert.ok(m.length <= maxLength, `${m.length} > ${maxLength}`);
        const a = rawAttr(m, type);
        assert.ok(a);
        assert.equal((a.flags & AttrFlag.ExtendedLength) !== 0, a.value.length > 255);
        const u = decodeUpdateMessage(m, ctx);
        return type === AttrType.MpReachNlri ? (u.mpReach?.nlri ?? []) : (u.mpUnreach?.withdrawn ?? []);
      });
      assert.deepEqual(back, many6);
    }
    // Type order: MP_REACH_NLRI (14) after MULTI_EXIT_DISC (4).
    assert.deepEqual(rawAttributes(ann[0]!).map((a) => a.type), [1, 2, 4, 14]);
  }
});

test("'frr' layout: AS_PATH and AS4_PATH always take a 2-octet length, LARGE_COMMUNITY follows COMMUNITIES", () => {
  const attrs = {
    ...ATTRS,
    asPath: [{ type: AsPathSegmentType.AsSequence, asns: [4200000001] }],
    nextHop: Buffer.from([10, 0, 0, 1]),
    communities: [1],
    largeCommunities: Buffer.alloc(12, 1),
    extCommunities: Buffer.alloc(8, 2),
  };
  const opt: PackOptions = { maxLength: 4096, fourOctetAs: false, addPath: false, layout: 'frr' };
  const [m] = encodeAnnouncements(IPV4_UNICAST, attrs, [prefixNlri(24, [10, 1, 2])], opt);
  const list = rawAttributes(m!);
  assert.deepEqual(list.map((a) => a.type), [1, 2, 3, 4, 8, 32, 16, 17]);
  assert.deepEqual(list.map((a) => a.flags), [0x40, 0x50, 0x40, 0x80, 0xc0, 0xc0, 0xc0, 0xd0]);
  assert.deepEqual(decodeUpdateMessage(m!, { fourOctetAs: false }).attrs, attrs);
});

test("Open.paramLayout 'per-capability' round-trips, in the RFC 9072 form past 255 bytes", () => {
  for (const n of [0, 1, 2, 60]) {
    const capabilities: Capability[] = Array.from({ length: n }, (_, i) => ({ code: 'unknown', type: 200, value: Buffer.alloc(2, i) }));
    const open: Open = { version: 4, myAs: 65001, holdTime: 90, bgpId: 1, capabilities, paramLayout: 'per-capability' };
    const raw = encodeMessage({ type: MessageType.Open, open });
    // Each capability is 4 bytes and its own parameter adds 2, or 3 in the RFC 9072 form.
    assert.equal(raw.length, 29 + (n * 6 <= 255 ? n * 6 : 3 + n * 7));
    const back = okValue(decodeMessage(frameOf(raw), { fourOctetAs: true }));
    assert.ok(back.type === MessageType.Open);
    // One parameter holding one capability is the default layout as well, and decodes as such.
    const { paramLayout, ...single } = open;
    assert.deepEqual(back.open, n === 1 ? single : { ...single, paramLayout });
  }
});
