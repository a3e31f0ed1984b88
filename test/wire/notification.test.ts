import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CeaseSubcode, ErrorCode, MessageType, RouteRefreshSubtype } from '../../src/bgp/wire/constants.js';
import type { Notify } from '../../src/bgp/wire/errors.js';
import { Framer } from '../../src/bgp/wire/framer.js';
import { decodeMessage, encodeMessage } from '../../src/bgp/wire/message.js';
import { decodeNotification, describeNotification, shutdownData, shutdownMessage } from '../../src/bgp/wire/notification.js';
import { decodeRouteRefresh } from '../../src/bgp/wire/route-refresh.js';
import { CTX4, assertNotify, fatalOf, frameOf, hex, isFatal, message, okValue } from './helpers.js';

function n(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Notify {
  return { code, subcode, data };
}

/** Every code and subcode named by RFC 4271 §4.5 and its updates, as notification.ts must describe them. */
const NAMES: readonly [number, string, Readonly<Record<number, string>>][] = [
  [1, 'Message Header Error', { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' }],
  [
    2,
    'OPEN Message Error',
    {
      0: 'Unspecific',
      1: 'Unsupported Version Number',
      2: 'Bad Peer AS',
      3: 'Bad BGP Identifier',
      4: 'Unsupported Optional Parameter',
      6: 'Unacceptable Hold Time',
      7: 'Unsupported Capability',
      11: 'Role Mismatch',
    },
  ],
  [
    3,
    'UPDATE Message Error',
    {
      0: 'Unspecific',
      1: 'Malformed Attribute List',
      2: 'Unrecognized Well-known Attribute',
      3: 'Missing Well-known Attribute',
      4: 'Attribute Flags Error',
      5: 'Attribute Length Error',
      6: 'Invalid ORIGIN Attribute',
      8: 'Invalid NEXT_HOP Attribute',
      9: 'Optional Attribute Error',
      10: 'Invalid Network Field',
      11: 'Malformed AS_PATH',
    },
  ],
  [
    5,
    'Finite State Machine Error',
    {
      0: 'Unspecified Error',
      1: 'Receive Unexpected Message in OpenSent State',
      2: 'Receive Unexpected Message in OpenConfirm State',
      3: 'Receive Unexpected Message in Established State',
    },
  ],
  [
    6,
    'Cease',
    {
      1: 'Maximum Number of Prefixes Reached',
      2: 'Administrative Shutdown',
      3: 'Peer De-configured',
      4: 'Administrative Reset',
      5: 'Connection Rejected',
      6: 'Other Configuration Change',
      7: 'Connection Collision Resolution',
      8: 'Out of Resources',
      9: 'Hard Reset',
      10: 'BFD Down',
    },
  ],
  [7, 'ROUTE-REFRESH Message Error', { 1: 'Invalid Message Length' }],
];

test('describeNotification names every code and subcode in the tables', () => {
  for (const [code, name, subs] of NAMES) {
    for (const [sub, subName] of Object.entries(subs)) {
      assert.equal(describeNotification(n(code, Number(sub))), `${name} / ${subName}`);
    }
  }
});

test('Role Mismatch is OPEN subcode 11 (RFC 9234 §4.2), not 10', () => {
  assert.equal(describeNotification(n(2, 11)), 'OPEN Message Error / Role Mismatch');
  assert.equal(describeNotification(n(2, 10)), 'OPEN Message Error / subcode 10');
});

test('Hold Timer Expired has no subcode; unknown codes and subcodes are shown as numbers', () => {
  assert.equal(describeNotification(n(4, 0)), 'Hold Timer Expired');
  assert.equal(describeNotification(n(4, 9)), 'Hold Timer Expired');
  assert.equal(describeNotification(n(9, 1)), 'code 9 / subcode 1');
  assert.equal(describeNotification(n(6, 99)), 'Cease / subcode 99');
  assert.equal(describeNotification(n(3, 7)), 'UPDATE Message Error / subcode 7');
});

test('a shutdown communication is shown with the description (RFC 9003)', () => {
  const shut = n(ErrorCode.Cease, CeaseSubcode.AdministrativeShutdown, shutdownData('maintenance until 14:00'));
  assert.equal(describeNotification(shut), 'Cease / Administrative Shutdown: "maintenance until 14:00"');
  const reset = n(ErrorCode.Cease, CeaseSubcode.AdministrativeReset, shutdownData('ticket #42'));
  assert.equal(describeNotification(reset), 'Cease / Administrative Reset: "ticket #42"');
  // Only Administrative Shutdown and Reset carry one.
  assert.equal(shutdownMessage(n(ErrorCode.Cease, CeaseSubcode.PeerDeconfigured, shutdownData('x'))), undefined);
  assert.equal(describeNotification(n(ErrorCode.Cease, CeaseSubcode.PeerDeconfigured, shutdownData('x'))), 'Cease / Peer De-configured');
});

test('shutdownData is Length(1) + UTF-8 and shutdownMessage reads it back', () => {
  assert.deepEqual(shutdownData('bye'), hex('03 627965'));
  assert.deepEqual(shutdownData(''), hex('00'));
  for (const text of ['bye', 'überholt – später', '维护', '🛠 maintenance 🛠', 'x'.repeat(255)]) {
    const data = shutdownData(text);
    assert.equal(data[0], data.length - 1);
    assert.equal(shutdownMessage(n(6, 2, data)), text);
  }
});

test('shutdownData cuts at 255 bytes on a UTF-8 character boundary', () => {
  const cases: [string, number][] = [
    ['x'.repeat(300), 255],
    ['é'.repeat(200), 254], // 2-byte characters: 127 fit
    ['€'.repeat(100), 255], // 3-byte characters: 85 fit exactly
    ['€'.repeat(85) + 'é', 255],
    ['x' + '€'.repeat(100), 253], // 1 + 84 * 3
    ['🛠'.repeat(70), 252], // 4-byte characters: 63 fit
    ['xyz' + '🛠'.repeat(70), 255],
    ['xy' + '🛠'.repeat(70), 254],
  ];
  for (const [text, bytes] of cases) {
    const data = shutdownData(text);
    assert.equal(data[0], bytes, text.slice(0, 8));
    assert.equal(data.length, bytes + 1);
    const back = shutdownMessage(n(6, 2, data));
    assert.ok(back !== undefined && !back.includes('\ufffd'), 'valid UTF-8');
    assert.ok(text.startsWith(back));
    assert.equal(Buffer.byteLength(back), bytes);
  }
});

test('property: shutdownData always gives a valid prefix of the text of at most 255 bytes', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 300, size: 'max' }), (text) => {
      const data = shutdownData(text);
      assert.ok(data[0]! <= 255 && data.length === data[0]! + 1);
      const back = data.subarray(1).toString('utf8');
      assert.ok(text.startsWith(back));
      assert.deepEqual(Buffer.from(back, 'utf8'), data.subarray(1));
      if (Buffer.byteLength(text) <= 255) assert.equal(back, text);
    }),
  );
});

test('a shutdown data field that lies about its length yields no text', () => {
  assert.equal(shutdownMessage(n(6, 2, hex('05 6162'))), undefined);
  assert.equal(shutdownMessage(n(6, 2, hex(''))), undefined);
  assert.equal(shutdownMessage(n(6, 2, hex('00'))), undefined);
  assert.equal(describeNotification(n(6, 2, hex('05 6162'))), 'Cease / Administrative Shutdown');
});

test('NOTIFICATION round-trips through encodeMessage, Framer and decodeMessage', () => {
  for (const notify of [n(6, 2, shutdownData('maintenance')), n(3, 2, hex('40 63 02 abcd')), n(4, 0), n(1, 2, hex('1000'))]) {
    const raw = encodeMessage({ type: MessageType.Notification, notification: notify });
    assert.deepEqual(raw.subarray(19), Buffer.concat([Buffer.from([notify.code, notify.subcode]), notify.data]));
    const m = okValue(decodeMessage(frameOf(raw), CTX4));
    assert.deepEqual(m, { type: MessageType.Notification, notification: notify });
  }
});

test('a decoded NOTIFICATION does not alias the input buffer', () => {
  const body = hex('06 02 02 6869');
  const d = okValue(decodeNotification(body));
  body.fill(0);
  assert.deepEqual(d.data, hex('02 6869'));
  assertNotify(fatalOf(decodeNotification(hex('06'))), 1, 2);
});

test('ROUTE-REFRESH round-trips, including the RFC 7313 subtypes', () => {
  for (const subtype of [RouteRefreshSubtype.Normal, RouteRefreshSubtype.BeginningOfRouteRefresh, RouteRefreshSubtype.EndOfRouteRefresh]) {
    const refresh = { afi: 25, subtype, safi: 70 };
    const raw = encodeMessage({ type: MessageType.RouteRefresh, refresh });
    assert.deepEqual(raw.subarray(16), Buffer.from([0, 23, 5, 0, 25, subtype, 70]));
    assert.deepEqual(okValue(decodeMessage(frameOf(raw), CTX4)), { type: MessageType.RouteRefresh, refresh });
  }
});

test('a ROUTE-REFRESH with a bad length is 7/1 with the whole message as data (RFC 7313 §5)', () => {
  for (const extra of [1, 4, 100]) {
    const raw = message(MessageType.RouteRefresh, Buffer.alloc(4 + extra, 1));
    const e = fatalOf(decodeMessage(frameOf(raw), CTX4));
    assertNotify(e, 7, 1, Buffer.from(raw));
    // The data is a copy: the frame's buffer may be reused.
    const copy = Buffer.from(raw);
    raw.fill(0);
    assert.deepEqual(e.notify.data, copy);
  }
  const body = hex('0001 00');
  assertNotify(fatalOf(decodeRouteRefresh(body, message(5, body))), 7, 1, message(5, body));
});

test('a ROUTE-REFRESH shorter than 23 bytes is stopped by the framer with 1/2', () => {
  const framer = new Framer();
  framer.push(message(MessageType.RouteRefresh, hex('0001 00')));
  const f = framer.next();
  assert.ok(isFatal(f));
  assertNotify(f, 1, 2, hex('0016'));
});
