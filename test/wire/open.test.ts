import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Capability } from '../../src/bgp/wire/capabilities.js';
import { AS_TRANS, CapabilityCode, MessageType } from '../../src/bgp/wire/constants.js';
import { decodeMessage, encodeMessage } from '../../src/bgp/wire/message.js';
import { type Open, decodeOpen, encodeOpen, openAsn, validateOpen } from '../../src/bgp/wire/open.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import { CTX4, assertNotify, rec, fatalOf, frameOf, hex, okValue } from './helpers.js';

function openBody(m: Open): Buffer {
  const w = new Writer(64);
  encodeOpen(w, m);
  return w.toBuffer();
}

/** Through the whole path a session uses: encodeMessage, Framer, decodeMessage. */
function roundTrip(m: Open): Open {
  const raw = encodeMessage({ type: MessageType.Open, open: m });
  const msg = okValue(decodeMessage(frameOf(raw), CTX4));
  assert.equal(msg.type, MessageType.Open);
  return msg.open;
}

function open(capabilities: Capability[], over: Partial<Open> = {}): Open {
  return { version: 4, myAs: 65001, holdTime: 180, bgpId: 0xc0000201, capabilities, ...over };
}

const EVERY_KIND: Capability[] = [
  { code: CapabilityCode.Multiprotocol, afi: 1, safi: 1 },
  { code: CapabilityCode.Multiprotocol, afi: 25, safi: 70 },
  { code: CapabilityCode.RouteRefresh },
  { code: CapabilityCode.EnhancedRouteRefresh },
  { code: CapabilityCode.FourOctetAs, asn: 4200000000 },
  {
    code: CapabilityCode.GracefulRestart,
    restarting: true,
    notification: true,
    restartTime: 4095,
    families: [
      { afi: 1, safi: 1, forwarding: true },
      { afi: 25, safi: 70, forwarding: false },
    ],
  },
  { code: CapabilityCode.GracefulRestart, restarting: false, notification: false, restartTime: 120, families: [] },
  { code: CapabilityCode.AddPath, families: [{ afi: 1, safi: 1, sendReceive: 3 }, { afi: 2, safi: 1, sendReceive: 1 }] },
  { code: CapabilityCode.ExtendedMessage },
  { code: CapabilityCode.Fqdn, hostname: 'leaf-1', domain: 'dc1.example.net' },
  { code: CapabilityCode.Fqdn, hostname: 'ürün', domain: '' },
  { code: 'unknown', type: 128, value: Buffer.alloc(0) },
  { code: 'unknown', type: 73 + 1, value: hex('0102 0304 05') },
];

test('every capability kind round-trips', () => {
  assert.deepEqual(roundTrip(open(EVERY_KIND)), open(EVERY_KIND));
  for (const c of EVERY_KIND) assert.deepEqual(roundTrip(open([c])), open([c]), JSON.stringify(c));
});

test('capabilities are laid out as RFC 5492 TLVs', () => {
  const body = openBody(open([{ code: CapabilityCode.Multiprotocol, afi: 2, safi: 1 }, { code: CapabilityCode.RouteRefresh }]));
  // Version, My AS, Hold Time, BGP Identifier, Opt Parm Len, then one Capabilities parameter.
  assert.deepEqual(body, hex('04 fde9 00b4 c0000201 0a  02 08  01 04 0002 00 01  02 00'));
});

test('graceful restart carries the R and N bits, the 12-bit time and the F bits (RFC 4724, RFC 8538)', () => {
  const gr: Capability = {
    code: CapabilityCode.GracefulRestart,
    restarting: true,
    notification: false,
    restartTime: 300,
    families: [{ afi: 1, safi: 1, forwarding: true }],
  };
  const body = openBody(open([gr]));
  assert.deepEqual(body.subarray(10), hex('02 08  40 06 812c 0001 01 80'));
  const n = openBody(open([{ ...gr, restarting: false, notification: true, families: [] }]));
  assert.deepEqual(n.subarray(10), hex('02 04  40 02 412c'));
  // Reserved flag bits and reserved family flag bits are ignored on receipt.
  const decoded = okValue(decodeOpen(hex('04 fde9 00b4 c0000201 0a  02 08  40 06 b12c 0001 01 ff')));
  assert.deepEqual(decoded.capabilities, [{ ...gr, families: [{ afi: 1, safi: 1, forwarding: true }] }]);
});

test('an unknown capability is kept and re-encoded byte for byte', () => {
  const caps = hex('02 0e  fe 03 aabbcc  01 04 0001 00 01  99 01 00');
  const body = Buffer.concat([hex('04 fde9 00b4 c0000201 10'), caps]);
  const m = okValue(decodeOpen(body));
  assert.deepEqual(m.capabilities[0], { code: 'unknown', type: 0xfe, value: hex('aabbcc') });
  assert.deepEqual(m.capabilities[2], { code: 'unknown', type: 0x99, value: hex('00') });
  assert.deepEqual(openBody(m), body);
});

test('several Capabilities parameters are merged in order', () => {
  const body = hex('04 fde9 00b4 c0000201 0c  02 02 02 00  02 06 01 04 0001 00 01');
  assert.deepEqual(okValue(decodeOpen(body)).capabilities, [
    { code: CapabilityCode.RouteRefresh },
    { code: CapabilityCode.Multiprotocol, afi: 1, safi: 1 },
  ]);
});

test('RFC 9072 extended optional parameters decode', () => {
  const body = hex('04 5ba0 005a c0000201  ff ff 0009  02 0006  41 04 fa56ea00');
  const m = okValue(decodeOpen(body));
  assert.deepEqual(m, open([{ code: CapabilityCode.FourOctetAs, asn: 4200000000 }], { myAs: AS_TRANS, holdTime: 90 }));
  assert.equal(openAsn(m), 4200000000);
});

test('capabilities over 255 bytes are sent in the RFC 9072 form and round-trip', () => {
  const caps: Capability[] = Array.from({ length: 50 }, (_, i) => ({ code: CapabilityCode.Multiprotocol, afi: 1, safi: i }));
  const body = openBody(open(caps));
  assert.deepEqual(body.subarray(9, 13), hex('ff ff 012f'));
  assert.deepEqual(body.subarray(13, 16), hex('02 012c'));
  assert.equal(body.length, 16 + 300);
  assert.deepEqual(roundTrip(open(caps)), open(caps));
});

test('the one-octet form is used exactly while Opt Parm Len fits in 255', () => {
  for (let capBytes = 250; capBytes <= 260; capBytes++) {
    const m = open([
      { code: 'unknown', type: 200, value: Buffer.alloc(100, 7) },
      { code: 'unknown', type: 201, value: Buffer.alloc(capBytes - 104, 8) },
    ]);
    const body = openBody(m);
    const extended = body[9] === 255 && body[10] === 255;
    assert.equal(extended, capBytes + 2 > 255, `${capBytes} bytes of capabilities`);
    if (!extended) assert.equal(body[9], capBytes + 2);
    assert.deepEqual(roundTrip(m), m, `${capBytes} bytes of capabilities`);
  }
});

test('a capability value over 255 bytes is refused rather than mis-encoded', () => {
  assert.throws(() => openBody(open([{ code: 'unknown', type: 200, value: Buffer.alloc(256) }])), RangeError);
  const many = Array.from({ length: 64 }, () => ({ afi: 1, safi: 1, sendReceive: 3 }));
  assert.throws(() => openBody(open([{ code: CapabilityCode.AddPath, families: many }])), RangeError);
});

test('FQDN names are cut to 126 bytes on a character boundary', () => {
  // 'x' then 2-byte characters: byte 126 falls inside one, which must not be split.
  const m = roundTrip(open([{ code: CapabilityCode.Fqdn, hostname: 'x' + 'é'.repeat(100), domain: 'x'.repeat(200) }]));
  const c = m.capabilities[0];
  assert.ok(c && c.code === CapabilityCode.Fqdn);
  assert.equal(c.hostname, 'x' + 'é'.repeat(62));
  assert.equal(c.domain, 'x'.repeat(126));
});

test('version 3 is 2/1 with the supported version as data', () => {
  assertNotify(fatalOf(decodeOpen(hex('03 fde9 00b4 c0000201 00'))), 2, 1, hex('0004'));
});

test('an unknown optional parameter type is 2/4', () => {
  assertNotify(fatalOf(decodeOpen(hex('04 fde9 00b4 c0000201 04  01 02 abcd'))), 2, 4);
  assertNotify(fatalOf(decodeOpen(hex('04 fde9 00b4 c0000201 ff ff 0005 01 0002 abcd'))), 2, 4);
});

test('truncated or inconsistent parameters and capabilities are 2/0', () => {
  const cases = [
    '04 fde9 00b4 c0000201', // no Opt Parm Len
    '04 fde9 00b4 c0000201 06  02 04 41 04 0000', // capability overruns its parameter
    '04 fde9 00b4 c0000201 03  02 01 41', // capability header cut short
    '04 fde9 00b4 c0000201 04  02 06 41 04', // parameter overruns the OPEN
    '04 fde9 00b4 c0000201 01  02', // parameter header cut short
    '04 fde9 00b4 c0000201 05  02 02 41 00', // Opt Parm Len disagrees with what follows
    '04 fde9 00b4 c0000201 05  02 03 01 01 00', // multiprotocol capability of length 1
    '04 fde9 00b4 c0000201 05  02 03 02 01 00', // route refresh with a value
    '04 fde9 00b4 c0000201 05  02 03 40 01 00', // graceful restart of length 1
    '04 fde9 00b4 c0000201 07  02 05 45 03 0001 01', // add-path of length 3
    '04 fde9 00b4 c0000201 07  02 05 49 03 05 6162', // fqdn hostname overrun
    '04 fde9 00b4 c0000201 ff ff 0005 02 0006 41 04', // extended parameter overruns
  ];
  for (const c of cases) assertNotify(fatalOf(decodeOpen(hex(c))), 2, 0);
});

const LOCAL = { localBgpId: 0x0a000001, peerAs: 65002, ibgp: false };

function validate(over: Partial<Open>, caps: Capability[] = [], expect = LOCAL) {
  return validateOpen(open(caps, { myAs: 65002, holdTime: 90, bgpId: 0x0a000002, ...over }), expect);
}

test('validateOpen: the peer AS must be the configured one', () => {
  assert.equal(validate({}), undefined);
  const e = validate({ myAs: 65003 });
  assert.ok(e);
  assertNotify(e, 2, 2);
  const four = validate({ myAs: AS_TRANS }, [{ code: CapabilityCode.FourOctetAs, asn: 65003 }]);
  assert.ok(four);
  assertNotify(four, 2, 2);
});

test('validateOpen: AS_TRANS with the 4-octet AS capability is accepted', () => {
  const expect = { ...LOCAL, peerAs: 4200000000 };
  assert.equal(validate({ myAs: AS_TRANS }, [{ code: CapabilityCode.FourOctetAs, asn: 4200000000 }], expect), undefined);
  assert.equal(validate({ myAs: 65002 }, [{ code: CapabilityCode.FourOctetAs, asn: 65002 }]), undefined);
  const liar = validate({ myAs: 65010 }, [{ code: CapabilityCode.FourOctetAs, asn: 4200000000 }], expect);
  assert.ok(liar);
  assertNotify(liar, 2, 2);
});

test('validateOpen: hold time 1 and 2 are 2/6, 0 and 3 are accepted', () => {
  for (const holdTime of [1, 2]) {
    const e = validate({ holdTime });
    assert.ok(e);
    assertNotify(e, 2, 6);
  }
  for (const holdTime of [0, 3, 65535]) assert.equal(validate({ holdTime }), undefined);
});

test('validateOpen: BGP identifier 0, multicast or class E is 2/3', () => {
  for (const bgpId of [0, 0xe0000001, 0xefffffff, 0xf0000001, 0xffffffff]) {
    const e = validate({ bgpId });
    assert.ok(e, `id ${bgpId}`);
    assertNotify(e, 2, 3);
  }
  assert.equal(validate({ bgpId: 0xdfffffff }), undefined);
});

test('validateOpen: our own BGP identifier is 2/3 on iBGP but allowed on eBGP (RFC 6286 §2.1)', () => {
  const ibgp = { localBgpId: 0x0a000001, peerAs: 65002, ibgp: true };
  const e = validate({ bgpId: 0x0a000001 }, [], ibgp);
  assert.ok(e);
  assertNotify(e, 2, 3);
  assert.equal(validate({ bgpId: 0x0a000001 }, [], LOCAL), undefined);
});

const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => Buffer.byteLength(s) <= 60);
const arbCapability: fc.Arbitrary<Capability> = fc.oneof(
  rec({ code: fc.constant(CapabilityCode.Multiprotocol as const), afi: u16, safi: u8 }),
  fc.constantFrom<Capability>(
    { code: CapabilityCode.RouteRefresh },
    { code: CapabilityCode.EnhancedRouteRefresh },
    { code: CapabilityCode.ExtendedMessage },
  ),
  rec({ code: fc.constant(CapabilityCode.FourOctetAs as const), asn: fc.integer({ min: 0, max: 0xffffffff }) }),
  rec({
    code: fc.constant(CapabilityCode.GracefulRestart as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(rec({ afi: u16, safi: u8, forwarding: fc.boolean() }), { maxLength: 6 }),
  }),
  rec({
    code: fc.constant(CapabilityCode.AddPath as const),
    families: fc.array(rec({ afi: u16, safi: u8, sendReceive: u8 }), { minLength: 1, maxLength: 6 }),
  }),
  rec({ code: fc.constant(CapabilityCode.Fqdn as const), hostname: text, domain: text }),
  rec({
    code: fc.constant('unknown' as const),
    type: u8.filter((t) => ![1, 2, 6, 64, 65, 69, 70, 73].includes(t)),
    value: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  }),
);

test('property: any Open encodes and decodes to itself', () => {
  fc.assert(
    fc.property(
      rec({
        version: fc.constant(4),
        myAs: u16,
        holdTime: u16,
        bgpId: fc.integer({ min: 0, max: 0xffffffff }),
        capabilities: fc.array(arbCapability, { maxLength: 16 }),
      }),
      (m) => {
        assert.deepEqual(roundTrip(m), m);
      },
    ),
    { numRuns: 300 },
  );
});
