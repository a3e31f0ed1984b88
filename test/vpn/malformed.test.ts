import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, UpdateSubcode } from '../../src/bgp/wire/constants.js';
import { formatRd } from '../../src/bgp/wire/rd.js';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { bytesToIp } from '../../src/core/ip.js';
import { type VpnRoute, formatVpnRoute, vpnRouteOrThrow } from '../../src/vpn/index.js';
import { S1_CONTEXT, decodeField, encodeRoute } from './support.js';

const RD = '0000fde80000000a'; // 65000:10
const LABEL_100 = '000641';

function field(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

function fails(hex: string, addressBytes: number, why: RegExp, addPath = false): void {
  const r = decodeField(field(hex), addressBytes, addPath);
  assert.equal(r.ok, false, `${hex} decoded`);
  if (!r.ok) assert.match(r.error, why);
}

function only(hex: string, addressBytes: number): VpnRoute {
  const r = decodeField(field(hex), addressBytes);
  assert.ok(r.ok, r.ok ? '' : r.error);
  assert.equal(r.routes.length, 1);
  return r.routes[0]!;
}

test('length past the end of the field', () => {
  fails(`70 ${LABEL_100} ${RD} c0a8`, 4, /overruns/);
  fails(`70`, 4, /overruns/);
  fails(`ff ${LABEL_100}`, 16, /overruns/);
  // A good route followed by a truncated one fails the whole field (RFC 7606 §5.3).
  fails(`70 ${LABEL_100} ${RD} c0a80a 70 ${LABEL_100}`, 4, /overruns/);
});

test('length too short for one label and an RD', () => {
  fails(`00`, 4, /no room for a label/);
  fails(`18 ${LABEL_100}`, 4, /no room for a label/);
  fails(`57 ${LABEL_100} ${RD}`, 4, /NLRI length 87 leaves no room/);
  fails(`57 ${LABEL_100} ${RD}`, 16, /NLRI length 87 leaves no room/);
  // Exactly a label and an RD is the /0 route.
  const r = only(`58 ${LABEL_100} ${RD}`, 4);
  assert.equal(formatVpnRoute(r), '65000:10:0.0.0.0/0 label 100');
});

test('a label stack that runs into the RD', () => {
  // Two labels without bottom of stack, then only room for the RD: no third label can end it.
  fails(`70 000640 000640 ${RD}`, 4, /no bottom-of-stack/);
  fails(`88 000640 000640 000640 ${RD}`, 4, /no bottom-of-stack/);
});

test('prefix longer than 32 / 128 bits', () => {
  fails(`79 ${LABEL_100} ${RD} 0a000000 80`, 4, /prefix length 33 exceeds 32/);
  fails(`d9 ${LABEL_100} ${RD} ${'20'.repeat(16)} 80`, 16, /prefix length 129 exceeds 128/);
  // Under the other family's limit, still too long for VPNv4.
  fails(`a0 ${LABEL_100} ${RD} ${'0a'.repeat(9)}`, 4, /prefix length 72 exceeds 32/);
  assert.equal(formatVpnRoute(only(`78 ${LABEL_100} ${RD} 0a000001`, 4)), '65000:10:10.0.0.1/32 label 100');
  assert.equal(
    formatVpnRoute(only(`d8 ${LABEL_100} ${RD} 20010db8000000000000000000000001`, 16)),
    '65000:10:2001:db8::1/128 label 100',
  );
});

test('truncated ADD-PATH path identifier', () => {
  fails(`000000`, 4, /path identifier/, true);
  fails(`00000001`, 4, /path identifier/, true);
  const r = decodeField(field(`00000007 70 ${LABEL_100} ${RD} c0a80a`), 4, true);
  assert.ok(r.ok);
  assert.equal(r.routes[0]!.pathId, 7);
});

test('bits past the prefix length are ignored and cleared, so keys match', () => {
  const dirty = only(`6f ${LABEL_100} ${RD} c0a80b`, 4); // /23 with the 24th bit set
  const clean = vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/23', label: 100 });
  assert.equal(dirty.key, clean.key);
  assert.equal(bytesToIp(dirty.prefix), '192.168.10.0');
  assert.equal(encodeRoute(dirty).toString('hex'), encodeRoute(clean).toString('hex'));
});

test('withdraw Compatibility field 0x800000 and 0x000000: accepted, no labels', () => {
  const announced = vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', label: 100 });
  for (const compat of ['800000', '000000']) {
    const r = only(`70 ${compat} ${RD} c0a80a`, 4);
    assert.deepEqual(r.labels, []);
    assert.equal(formatRd(r.rd), '65000:10');
    assert.equal(r.prefixLength, 24);
    assert.equal(bytesToIp(r.prefix), '192.168.10.0');
    assert.equal(r.key, announced.key);
    // The field goes out as 0x800000 whatever came in.
    assert.equal(encodeRoute(r).toString('hex'), `70800000${RD}c0a80a`);
    const r6 = only(`88 ${compat} ${RD} 20010db80010`, 16);
    assert.deepEqual(r6.labels, []);
    assert.equal(formatVpnRoute(r6), '65000:10:2001:db8:10::/48');
  }
  // In a whole UPDATE: MP_UNREACH_NLRI (flags 0x80, length 18) AFI 1 SAFI 128 with the 0x800000 form.
  const body = field(`0000 0015 800f12 000180 70 800000 ${RD} c0a80a`);
  const u = decodeUpdate(body, S1_CONTEXT);
  assert.ok(u.ok);
  const w = u.value.mpUnreach?.withdrawn[0] as VpnRoute;
  assert.equal(w.key, announced.key);
  assert.deepEqual(w.labels, []);
});

test('a malformed VPN NLRI in MP_REACH resets the session (RFC 7606 §5.3), it does not throw', () => {
  // MP_REACH_NLRI AFI 1 SAFI 128, next hop 12, one NLRI claiming /33.
  const mp = `0001800c ${'00'.repeat(8)}0a000002 00 79 ${LABEL_100} ${RD} 0a00000080`;
  const mpLen = field(mp).length;
  const attrs = `400101 00 400200 800e${mpLen.toString(16).padStart(2, '0')} ${mp}`;
  const body = field(`0000 ${field(attrs).length.toString(16).padStart(4, '0')} ${attrs}`);
  const u = decodeUpdate(body, S1_CONTEXT);
  assert.equal(u.ok, false);
  if (!u.ok) {
    assert.equal(u.error.notify.code, ErrorCode.Update);
    assert.equal(u.error.notify.subcode, UpdateSubcode.OptionalAttributeError);
    assert.match(u.error.reason, /exceeds 32/);
  }
});

test('decode never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(4, 16), fc.boolean(), (bytes, addressBytes, addPath) => {
      const r = decodeField(Buffer.from(bytes), addressBytes, addPath);
      if (r.ok) for (const route of r.routes) assert.ok(route.prefixLength <= addressBytes * 8);
      else assert.equal(typeof r.error, 'string');
    }),
    { numRuns: 5000 },
  );
});

test('decode never throws on valid NLRI cut short or with a byte changed', () => {
  const routes = [
    vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', labels: [16, 100] }),
    vpnRouteOrThrow({ rd: '192.0.2.1:7', prefix: '2001:db8:10::/48', labels: [1, 2, 3] }),
  ];
  for (const route of routes) {
    const wire = encodeRoute(route);
    const bytes = route.prefix.length;
    for (let cut = 0; cut < wire.length; cut++) {
      const r = decodeField(wire.subarray(0, cut), bytes);
      assert.equal(r.ok, cut === 0, `cut at ${cut}`);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: wire.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
        const changed = Buffer.from(wire);
        changed[at] = v;
        decodeField(changed, bytes);
      }),
      { numRuns: 2000 },
    );
  }
});
