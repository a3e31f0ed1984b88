import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CapabilityCode, MessageType, RouteRefreshSubtype } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { Framer } from '../../src/bgp/wire/framer.js';
import { KEEPALIVE, encodeMessage } from '../../src/bgp/wire/message.js';
import { encodeAnnouncements } from '../../src/bgp/wire/update-encode.js';
import { assertNotify, drain, isFatal, isFrame, message, v4 } from './helpers.js';

const OPEN = encodeMessage({
  type: MessageType.Open,
  open: {
    version: 4,
    myAs: 65001,
    holdTime: 90,
    bgpId: 0x0a000001,
    capabilities: [{ code: CapabilityCode.Multiprotocol, afi: 1, safi: 1 }, { code: CapabilityCode.FourOctetAs, asn: 65001 }],
  },
});
const UPDATES = encodeAnnouncements(
  IPV4_UNICAST,
  { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: Buffer.from([10, 0, 0, 1]) },
  [v4('10.1.0.0/16'), v4('10.2.3.0/24'), v4('0.0.0.0/0')],
  { maxLength: 4096, fourOctetAs: true, addPath: false },
);
const NOTIFICATION = encodeMessage({
  type: MessageType.Notification,
  notification: { code: 6, subcode: 2, data: Buffer.from([3, 0x61, 0x62, 0x63]) },
});
const REFRESH = encodeMessage({
  type: MessageType.RouteRefresh,
  refresh: { afi: 1, subtype: RouteRefreshSubtype.Normal, safi: 1 },
});
const MESSAGES: readonly Buffer[] = [OPEN, KEEPALIVE, ...UPDATES, NOTIFICATION, KEEPALIVE, REFRESH];
const STREAM = Buffer.concat(MESSAGES);

/** Feeds `chunks` one at a time, draining after each, and returns every message's raw bytes. */
function frameAll(chunks: readonly Buffer[]): Buffer[] {
  const framer = new Framer();
  const out: Buffer[] = [];
  for (const c of chunks) {
    framer.push(c);
    for (const f of drain(framer)) {
      if (!isFrame(f)) assert.fail(`unexpected error ${f.reason}`);
      assert.deepEqual(f.body, f.raw.subarray(19));
      assert.equal(f.type, f.raw[18]);
      out.push(Buffer.from(f.raw));
    }
  }
  assert.equal(framer.buffered(), 0);
  return out;
}

test('a stream in one chunk yields every message', () => {
  assert.deepEqual(frameAll([STREAM]), MESSAGES);
});

test('a stream split at every byte boundary yields the same frames', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(frameAll([STREAM.subarray(0, i), STREAM.subarray(i)]), MESSAGES, `split at ${i}`);
  }
});

test('a stream fed one byte at a time yields the same frames', () => {
  const bytes = Array.from(STREAM, (b) => Buffer.from([b]));
  assert.deepEqual(frameAll(bytes), MESSAGES);
});

test('random chunkings yield the same frames', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 40 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
      const chunks = points.slice(1).map((end, i) => STREAM.subarray(points[i], end));
      assert.deepEqual(frameAll(chunks), MESSAGES);
    }),
  );
});

test('frames stay intact after later chunks arrive', () => {
  // A decoder may hold views into a frame's body; later pushes must not overwrite them.
  const framer = new Framer();
  const held: { copy: Buffer; body: Buffer }[] = [];
  for (let i = 0; i < STREAM.length; i += 7) {
    framer.push(Buffer.from(STREAM.subarray(i, i + 7)));
    for (const f of drain(framer)) {
      if (!isFrame(f)) assert.fail(f.reason);
      held.push({ copy: Buffer.from(f.body), body: f.body });
    }
  }
  assert.equal(held.length, MESSAGES.length);
  for (const h of held) assert.deepEqual(h.body, h.copy);
});

test('nothing is returned until a whole header and then a whole message is buffered', () => {
  const framer = new Framer();
  framer.push(OPEN.subarray(0, 18));
  assert.equal(framer.next(), undefined);
  framer.push(OPEN.subarray(18, OPEN.length - 1));
  assert.equal(framer.next(), undefined);
  assert.equal(framer.buffered(), OPEN.length - 1);
  framer.push(Buffer.alloc(0));
  assert.equal(framer.next(), undefined);
  framer.push(OPEN.subarray(OPEN.length - 1));
  const f = framer.next();
  assert.ok(isFrame(f));
  assert.deepEqual(f.raw, OPEN);
  assert.equal(framer.next(), undefined);
});

function firstResult(raw: Buffer, maxLength?: number) {
  const framer = new Framer();
  if (maxLength !== undefined) framer.maxLength = maxLength;
  framer.push(raw);
  return framer.next();
}

function headerErrorOf(raw: Buffer, maxLength?: number) {
  const r = firstResult(raw, maxLength);
  if (!isFatal(r)) assert.fail(`expected a header error, got ${JSON.stringify(r)}`);
  return r;
}

test('a marker that is not all ones is 1/1 (RFC 4271 §6.1)', () => {
  for (let i = 0; i < 16; i++) {
    const bad = Buffer.from(KEEPALIVE);
    bad[i] = 0xfe;
    assertNotify(headerErrorOf(bad), 1, 1);
  }
});

test('a marker error is reported once the header is there, whatever follows', () => {
  const bad = Buffer.from(OPEN);
  bad[3] = 0;
  assertNotify(headerErrorOf(bad.subarray(0, 19)), 1, 1);
});

const BAD_LENGTHS: readonly [string, number, number][] = [
  ['length below the header size', MessageType.Keepalive, 18],
  ['length 0', MessageType.Update, 0],
  ['length above 4096', MessageType.Update, 4097],
  ['length 65535', MessageType.Update, 65535],
  ['OPEN shorter than 29', MessageType.Open, 28],
  ['OPEN of 19', MessageType.Open, 19],
  ['UPDATE shorter than 23', MessageType.Update, 22],
  ['KEEPALIVE of 20', MessageType.Keepalive, 20],
  ['KEEPALIVE of 18', MessageType.Keepalive, 18],
  ['NOTIFICATION shorter than 21', MessageType.Notification, 20],
  ['ROUTE-REFRESH shorter than 23', MessageType.RouteRefresh, 22],
  ['OPEN above 4096', MessageType.Open, 4097],
];

for (const [name, type, length] of BAD_LENGTHS) {
  test(`${name} is 1/2 with the length as data`, () => {
    const body = Buffer.alloc(Math.max(0, Math.min(length, 5000) - 19));
    const e = headerErrorOf(message(type, body, length));
    const data = Buffer.alloc(2);
    data.writeUInt16BE(length);
    assertNotify(e, 1, 2, data);
  });
}

test('a bad length is reported from the header alone, before the body arrives', () => {
  assertNotify(headerErrorOf(message(MessageType.Update, Buffer.alloc(0), 5000)), 1, 2, Buffer.from([0x13, 0x88]));
});

test('the smallest legal length of each type is accepted', () => {
  const minimal: [number, number][] = [
    [MessageType.Open, 29],
    [MessageType.Update, 23],
    [MessageType.Notification, 21],
    [MessageType.Keepalive, 19],
    [MessageType.RouteRefresh, 23],
  ];
  for (const [type, length] of minimal) {
    const r = firstResult(message(type, Buffer.alloc(length - 19)));
    assert.ok(isFrame(r), `type ${type}`);
    assert.equal(r.raw.length, length);
  }
  const r = firstResult(message(MessageType.Update, Buffer.alloc(4096 - 19)));
  assert.ok(isFrame(r));
});

test('an unknown message type is 1/3 with the type as data', () => {
  for (const type of [0, 6, 7, 128, 255]) {
    assertNotify(headerErrorOf(message(type, Buffer.alloc(4))), 1, 3, Buffer.from([type]));
  }
});

test('an error ends the stream: what came before it was framed', () => {
  const framer = new Framer();
  framer.push(Buffer.concat([KEEPALIVE, OPEN, message(9, Buffer.alloc(0))]));
  const out = drain(framer);
  assert.equal(out.length, 3);
  assert.ok(isFrame(out[0]) && isFrame(out[1]));
  assert.ok(isFatal(out[2]));
  assertNotify(out[2], 1, 3, Buffer.from([9]));
});

test('extended messages (RFC 8654): a 5000-byte UPDATE is accepted at maxLength 65535', () => {
  const big = message(MessageType.Update, Buffer.alloc(5000 - 19));
  const framer = new Framer();
  framer.maxLength = 65535;
  framer.push(big.subarray(0, 2500));
  assert.equal(framer.next(), undefined);
  framer.push(big.subarray(2500));
  const f = framer.next();
  assert.ok(isFrame(f));
  assert.equal(f.raw.length, 5000);
  assert.ok(isFrame(firstResult(message(MessageType.Update, Buffer.alloc(65535 - 19)), 65535)));
  assert.ok(isFrame(firstResult(message(MessageType.Notification, Buffer.alloc(5000 - 19)), 65535)));
  assert.ok(isFrame(firstResult(message(MessageType.RouteRefresh, Buffer.alloc(5000 - 19)), 65535)));
});

test('extended messages never make an OPEN above 4096 or a long KEEPALIVE acceptable', () => {
  assertNotify(headerErrorOf(message(MessageType.Open, Buffer.alloc(4097 - 19)), 65535), 1, 2, Buffer.from([0x10, 0x01]));
  assertNotify(headerErrorOf(message(MessageType.Open, Buffer.alloc(5000 - 19)), 65535), 1, 2, Buffer.from([0x13, 0x88]));
  assertNotify(headerErrorOf(message(MessageType.Keepalive, Buffer.alloc(1)), 65535), 1, 2, Buffer.from([0, 20]));
  assert.ok(isFrame(firstResult(message(MessageType.Open, Buffer.alloc(4096 - 19)), 65535)));
});

test('without extended messages a 5000-byte UPDATE is 1/2', () => {
  assertNotify(headerErrorOf(message(MessageType.Update, Buffer.alloc(5000 - 19))), 1, 2, Buffer.from([0x13, 0x88]));
});
