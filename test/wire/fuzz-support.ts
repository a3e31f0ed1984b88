import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Result } from '../../src/core/result.js';
import { AttrFlag, AttrType, CapabilityCode, MessageType, RouteRefreshSubtype } from '../../src/bgp/wire/constants.js';
import type { FatalError } from '../../src/bgp/wire/errors.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import { encodeMessage } from '../../src/bgp/wire/message.js';
import { encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../../src/bgp/wire/update-encode.js';
import { arbAttributes, arbIpv4Prefix, arbIpv6Prefix, message } from './helpers.js';

/** Any decode outcome must be a value or a NOTIFICATION a session can send (RFC 4271 §4.5 codes 1..6, RFC 7313 code 7). */
export function checkOutcome(r: Result<unknown, FatalError>): void {
  if (r.ok) return;
  const e = r.error;
  assert.equal(e.kind, 'fatal');
  assert.ok(Number.isInteger(e.notify.code) && e.notify.code >= 1 && e.notify.code <= 7, `code ${e.notify.code}`);
  assert.ok(Number.isInteger(e.notify.subcode) && e.notify.subcode >= 0 && e.notify.subcode <= 255);
  assert.ok(Buffer.isBuffer(e.notify.data));
  assert.equal(typeof e.reason, 'string');
}

const arbHeaderish: fc.Arbitrary<Buffer> = fc
  .record({
    type: fc.integer({ min: 0, max: 7 }),
    length: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 19, max: 220 })),
    body: fc.uint8Array({ maxLength: 220 }),
    honest: fc.boolean(),
  })
  .map(({ type, length, body, honest }) => message(type, Buffer.from(body), honest ? 19 + body.length : length));

/** Random bytes, and runs of random messages behind a valid marker so the decoders get to see them. */
export const arbNoise: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.array(arbHeaderish, { minLength: 1, maxLength: 4 }).map((m) => Buffer.concat(m)),
);

const arbValidUpdate: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .tuple(arbAttributes(), fc.array(arbIpv4Prefix, { minLength: 1, maxLength: 20 }), fc.boolean())
    .map(([a, n, four]) => encodeAnnouncements(IPV4_UNICAST, a, n, { maxLength: 4096, fourOctetAs: four, addPath: false })[0]!),
  fc
    .tuple(arbAttributes(), fc.array(arbIpv6Prefix, { minLength: 1, maxLength: 20 }), fc.boolean())
    .map(([a, n, addPath]) =>
      encodeAnnouncements(IPV6_UNICAST, a, n, { maxLength: 4096, fourOctetAs: true, addPath }, Buffer.alloc(32, 0xfe))[0]!,
    ),
  fc.array(arbIpv4Prefix, { minLength: 1, maxLength: 20 }).map((n) => encodeWithdrawals(IPV4_UNICAST, n, { maxLength: 4096, fourOctetAs: true, addPath: false })[0]!),
  fc.array(arbIpv6Prefix, { minLength: 1, maxLength: 20 }).map((n) => encodeWithdrawals(IPV6_UNICAST, n, { maxLength: 4096, fourOctetAs: true, addPath: false })[0]!),
  fc.constantFrom(encodeEndOfRib(IPV4_UNICAST), encodeEndOfRib(IPV6_UNICAST)),
);

const OPEN = encodeMessage({
  type: MessageType.Open,
  open: {
    version: 4,
    myAs: 23456,
    holdTime: 90,
    bgpId: 0x0a000001,
    capabilities: [
      { code: CapabilityCode.Multiprotocol, afi: 2, safi: 1 },
      { code: CapabilityCode.RouteRefresh },
      { code: CapabilityCode.FourOctetAs, asn: 4200000000 },
      { code: CapabilityCode.GracefulRestart, restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }] },
      { code: CapabilityCode.AddPath, families: [{ afi: 1, safi: 1, sendReceive: 3 }] },
      { code: CapabilityCode.Fqdn, hostname: 'leaf', domain: 'example' },
      { code: 'unknown', type: 200, value: Buffer.from([1, 2, 3]) },
    ],
  },
});
const BIG_OPEN = encodeMessage({
  type: MessageType.Open,
  open: {
    version: 4,
    myAs: 65001,
    holdTime: 90,
    bgpId: 1,
    capabilities: Array.from({ length: 50 }, (_, i) => ({ code: CapabilityCode.Multiprotocol, afi: 1, safi: i }) as const),
  },
});
const OTHERS = [
  encodeMessage({ type: MessageType.Notification, notification: { code: 6, subcode: 2, data: Buffer.from([2, 0x68, 0x69]) } }),
  encodeMessage({ type: MessageType.RouteRefresh, refresh: { afi: 1, subtype: RouteRefreshSubtype.Normal, safi: 1 } }),
];

const arbValidMessage: fc.Arbitrary<Buffer> = fc.oneof(
  { arbitrary: arbValidUpdate, weight: 6 },
  { arbitrary: fc.constantFrom(OPEN, BIG_OPEN), weight: 3 },
  { arbitrary: fc.constantFrom(...OTHERS), weight: 1 },
);

interface Field {
  readonly at: number;
  readonly size: 1 | 2;
}

/** Where the length fields of a valid UPDATE or OPEN are, so mutations can aim at them. */
function lengthFields(raw: Buffer): Field[] {
  const out: Field[] = [{ at: 16, size: 2 }];
  if (raw[18] === MessageType.Update) {
    const wlen = raw.readUInt16BE(19);
    out.push({ at: 19, size: 2 }, { at: 21 + wlen, size: 2 });
    let p = 23 + wlen;
    const end = p + raw.readUInt16BE(21 + wlen);
    while (p < end) {
      const ext = (raw[p]! & AttrFlag.ExtendedLength) !== 0;
      out.push({ at: p + 2, size: ext ? 2 : 1 });
      const len = ext ? raw.readUInt16BE(p + 2) : raw[p + 2]!;
      const value = p + (ext ? 4 : 3);
      if (raw[p + 1] === AttrType.MpReachNlri) out.push({ at: value + 3, size: 1 });
      p = value + len;
    }
    // The first NLRI's prefix length octet.
    if (p < raw.length) out.push({ at: p, size: 1 });
  } else if (raw[18] === MessageType.Open) {
    out.push({ at: 28, size: 1 });
    const extended = raw[28] === 255 && raw[29] === 255;
    let p = extended ? 32 : 29;
    if (extended) out.push({ at: 30, size: 2 });
    while (p < raw.length) {
      out.push({ at: p + 1, size: extended ? 2 : 1 });
      const len = extended ? raw.readUInt16BE(p + 1) : raw[p + 1]!;
      let c = p + (extended ? 3 : 2);
      const end = c + len;
      while (c < end) {
        out.push({ at: c + 1, size: 1 });
        c += 2 + raw[c + 1]!;
      }
      p = end;
    }
  }
  return out;
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'length'; readonly field: number; readonly value: number; readonly delta: boolean }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly n: number };

const nat = fc.nat({ max: 100_000 });
const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: nat, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: nat, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: nat }),
  fc.record({
    kind: fc.constant('length' as const),
    field: nat,
    value: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 0xffff })),
    delta: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: nat, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: nat, n: fc.integer({ min: 1, max: 8 }) }),
);

/** Damage lands after the marker: a broken marker is one case, and arbNoise covers it. */
function mutate(raw: Buffer, fields: readonly Field[], m: Mutation): Buffer {
  const b = Buffer.from(raw);
  if (b.length <= 16) return b;
  const pos = (at: number): number => 16 + (at % (b.length - 16));
  switch (m.kind) {
    case 'flip':
      b[pos(m.at)]! ^= 1 << m.bit;
      return b;
    case 'byte':
      b[pos(m.at)] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, m.at % b.length);
    case 'length': {
      const f = fields[m.field % fields.length]!;
      if (f.at + f.size > b.length) return b;
      const old = f.size === 1 ? b[f.at]! : b.readUInt16BE(f.at);
      const max = f.size === 1 ? 0xff : 0xffff;
      const v = (((m.delta ? old + m.value : m.value) % (max + 1)) + max + 1) % (max + 1);
      if (f.size === 1) b[f.at] = v;
      else b.writeUInt16BE(v, f.at);
      return b;
    }
    case 'insert': {
      const at = 16 + (m.at % (b.length - 15));
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    }
    case 'delete': {
      const at = pos(m.at);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
    }
  }
}

/**
 * A valid UPDATE, OPEN, NOTIFICATION or ROUTE-REFRESH with a few mutations.
 * Often the header length is set back to the real length afterwards, so the
 * damage reaches the body decoders instead of stopping at the framer.
 */
export const arbMutatedMessage: fc.Arbitrary<Buffer> = fc
  .tuple(arbValidMessage, fc.array(arbMutation, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([raw, mutations, fixHeader]) => {
    const fields = lengthFields(raw);
    let b = raw;
    for (const m of mutations) b = mutate(b, fields, m);
    if (fixHeader && b.length >= 19 && b.length <= 0xffff) {
      b = Buffer.from(b);
      b.writeUInt16BE(b.length, 16);
    }
    return b;
  });
