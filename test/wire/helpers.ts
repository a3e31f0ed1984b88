import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Result } from '../../src/core/result.js';
import type { AsPath, AsPathSegment } from '../../src/bgp/wire/aspath.js';
import type { PathAttributes, RawAttribute } from '../../src/bgp/wire/attributes.js';
import type { DecodeContext } from '../../src/bgp/wire/attributes-decode.js';
import { AttrFlag, AttrType, AsPathSegmentType, MessageType, Origin } from '../../src/bgp/wire/constants.js';
import type { FatalError } from '../../src/bgp/wire/errors.js';
import { type Frame, Framer } from '../../src/bgp/wire/framer.js';
import type { Nlri } from '../../src/bgp/wire/nlri.js';
import { type Update, decodeUpdate } from '../../src/bgp/wire/update.js';
import '../../src/bgp/wire/prefix.js';

/** Hex with any whitespace, so hand-built messages can be laid out field by field. */
export function hex(text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  assert.equal(clean.length % 2, 0, `odd hex: ${text}`);
  return Buffer.from(clean, 'hex');
}

/** A whole message: marker, the length the header should carry (default: the real one), type, body. */
export function message(type: number, body: Buffer, length = 19 + body.length): Buffer {
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

export function updateMessage(body: Buffer): Buffer {
  return message(MessageType.Update, body);
}

/** An UPDATE body from its three fields, with correct length fields. */
export function updateBody(withdrawn: Buffer, attrs: Buffer, nlri: Buffer = Buffer.alloc(0)): Buffer {
  const w = Buffer.alloc(2);
  w.writeUInt16BE(withdrawn.length);
  const a = Buffer.alloc(2);
  a.writeUInt16BE(attrs.length);
  return Buffer.concat([w, withdrawn, a, attrs, nlri]);
}

export function isFrame(x: Frame | FatalError | undefined): x is Frame {
  return x !== undefined && !('kind' in x);
}

export function isFatal(x: Frame | FatalError | undefined): x is FatalError {
  return x !== undefined && 'kind' in x;
}

/** Every frame the framer yields until it needs more bytes; an error ends the list. */
export function drain(framer: Framer): (Frame | FatalError)[] {
  const out: (Frame | FatalError)[] = [];
  for (;;) {
    const f = framer.next();
    if (f === undefined) return out;
    out.push(f);
    if (isFatal(f)) return out;
  }
}

/** The one frame in `raw`, which must be a whole, valid message. */
export function frameOf(raw: Buffer, maxLength?: number): Frame {
  const framer = new Framer();
  if (maxLength !== undefined) framer.maxLength = maxLength;
  framer.push(raw);
  const f = framer.next();
  if (!isFrame(f)) assert.fail(`not a frame: ${JSON.stringify(f)}`);
  assert.equal(framer.buffered(), 0);
  return f;
}

export function okValue<T>(r: Result<T, FatalError>): T {
  if (!r.ok) assert.fail(`unexpected ${r.error.notify.code}/${r.error.notify.subcode}: ${r.error.reason}`);
  return r.value;
}

export function fatalOf<T>(r: Result<T, FatalError>): FatalError {
  if (r.ok) assert.fail(`expected a FatalError, got ${JSON.stringify(r.value)}`);
  return r.error;
}

export function assertNotify(e: FatalError, code: number, subcode: number, data?: Buffer): void {
  assert.equal(e.kind, 'fatal');
  assert.deepEqual([e.notify.code, e.notify.subcode], [code, subcode], e.reason);
  if (data !== undefined) assert.deepEqual(e.notify.data, data, e.reason);
}

/** Decodes a whole UPDATE message (header included) as a session would. */
export function decodeUpdateMessage(raw: Buffer, ctx: DecodeContext, maxLength?: number): Update {
  const f = frameOf(raw, maxLength);
  assert.equal(f.type, MessageType.Update);
  return okValue(decodeUpdate(f.body, ctx));
}

/** Walks the attribute list of an UPDATE message without interpreting it, to check what an encoder wrote. */
export function rawAttributes(raw: Buffer): RawAttribute[] {
  let p = 19;
  const wlen = raw.readUInt16BE(p);
  p += 2 + wlen;
  const alen = raw.readUInt16BE(p);
  p += 2;
  const end = p + alen;
  const out: RawAttribute[] = [];
  while (p < end) {
    const flags = raw[p]!;
    const type = raw[p + 1]!;
    const ext = (flags & AttrFlag.ExtendedLength) !== 0;
    const len = ext ? raw.readUInt16BE(p + 2) : raw[p + 2]!;
    p += ext ? 4 : 3;
    out.push({ flags, type, value: raw.subarray(p, p + len) });
    p += len;
  }
  assert.equal(p, end, 'attributes fill the attribute list exactly');
  return out;
}

export function rawAttr(raw: Buffer, type: number): RawAttribute | undefined {
  return rawAttributes(raw).find((a) => a.type === type);
}

/** A prefix NLRI from a length and address bytes; bits past the length are cleared as the decoder does. */
export function prefixNlri(len: number, addr: ArrayLike<number>, pathId = 0): Nlri {
  const n = (len + 7) >> 3;
  const b = Buffer.alloc(1 + n);
  b[0] = len;
  for (let i = 0; i < n; i++) b[1 + i] = addr[i] ?? 0;
  if (len & 7) b[n] = b[n]! & (0xff << (8 - (len & 7)));
  return { key: b.toString('latin1'), pathId };
}

export function v4(text: string): Nlri {
  const [addr, len] = text.split('/');
  return prefixNlri(Number(len), Buffer.from(addr!.split('.').map(Number)));
}

export const arbIpv4Prefix: fc.Arbitrary<Nlri> = fc
  .tuple(fc.integer({ min: 0, max: 32 }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
  .map(([len, addr]) => prefixNlri(len, addr));

export const arbIpv6Prefix: fc.Arbitrary<Nlri> = fc
  .tuple(fc.integer({ min: 0, max: 128 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
  .map(([len, addr]) => prefixNlri(len, addr));

/** fc.record with ordinary prototypes, so results deepEqual what a decoder builds. */
export function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

export function arbSegment(types: readonly AsPathSegmentType[], asn: fc.Arbitrary<number> = u32): fc.Arbitrary<AsPathSegment> {
  return rec({
    type: fc.constantFrom(...types),
    asns: fc.array(asn, { minLength: 1, maxLength: 12 }),
  });
}

export const ALL_SEGMENT_TYPES = [
  AsPathSegmentType.AsSequence,
  AsPathSegmentType.AsSet,
  AsPathSegmentType.ConfedSequence,
  AsPathSegmentType.ConfedSet,
] as const;

export function arbAsPath(types: readonly AsPathSegmentType[] = ALL_SEGMENT_TYPES, asn?: fc.Arbitrary<number>): fc.Arbitrary<AsPath> {
  return fc.array(arbSegment(types, asn), { maxLength: 5 });
}

/** A unicast IPv4 next hop: not 0.0.0.0, not multicast or class E (RFC 4271 §6.3). */
export const arbNextHop: fc.Arbitrary<Buffer> = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.uint8Array({ minLength: 3, maxLength: 3 }))
  .map(([first, rest]) => Buffer.from([first, ...rest]));

function arbMultipleOf(size: number, maxCount: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: 1, maxLength: maxCount }).chain((n) =>
    fc.uint8Array({ minLength: n.length * size, maxLength: n.length * size }).map((b) => Buffer.from(b)),
  );
}

const KNOWN_TYPES = new Set<number>([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 22, 32]);

/** Unknown optional transitive attributes of distinct types; some long enough for the extended length form. */
export const arbUnknownAttrs: fc.Arbitrary<RawAttribute[]> = fc.uniqueArray(
  rec({
    flags: fc.constantFrom(0xc0, 0xe0, 0xc0 | 0x0f),
    type: fc.integer({ min: 11, max: 254 }).filter((t) => !KNOWN_TYPES.has(t)),
    value: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 250, maxLength: 300 })).map((b) => Buffer.from(b)),
  }),
  { selector: (a) => a.type, minLength: 1, maxLength: 3 },
);

export interface AttrArbOptions {
  readonly segmentTypes?: readonly AsPathSegmentType[];
  readonly aggregatorAsn?: fc.Arbitrary<number>;
}

/** Attributes the encoder can carry and the decoder gives back: ORIGIN and AS_PATH always, the rest maybe. */
export function arbAttributes(opt: AttrArbOptions = {}): fc.Arbitrary<PathAttributes> {
  return fc.record(
    {
      origin: fc.constantFrom(Origin.Igp, Origin.Egp, Origin.Incomplete),
      asPath: arbAsPath(opt.segmentTypes),
      nextHop: arbNextHop,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator: rec({ asn: opt.aggregatorAsn ?? u32, address: u32 }),
      communities: fc.array(u32, { minLength: 1, maxLength: 8 }),
      originatorId: u32,
      clusterList: fc.array(u32, { minLength: 1, maxLength: 4 }),
      extCommunities: arbMultipleOf(8, 4),
      largeCommunities: arbMultipleOf(12, 3),
      unknown: arbUnknownAttrs,
    },
    { requiredKeys: ['origin', 'asPath', 'nextHop'], noNullPrototype: true },
  );
}

/**
 * What decoding gives back for `a`: unknown attributes gain the Partial bit
 * (RFC 4271 §5) and the Extended Length bit when their value needs it;
 * NEXT_HOP is only written for IPv4 unicast in the UPDATE's own NLRI field.
 */
export function expectedAfterRoundTrip(a: PathAttributes, withNextHop: boolean): PathAttributes {
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = { ...a };
  if (!withNextHop) delete out.nextHop;
  if (a.unknown) {
    out.unknown = a.unknown.map((u) => ({
      flags: (u.flags | AttrFlag.Partial | (u.value.length > 255 ? AttrFlag.ExtendedLength : 0)) & 0xff,
      type: u.type,
      value: u.value,
    }));
  }
  return out;
}

export const CTX4: DecodeContext = { fourOctetAs: true };
export const CTX2: DecodeContext = { fourOctetAs: false };

export const ATTR = {
  originIgp: '40 01 01 00',
  asPath65001: '40 02 06 02 01 0000fde9',
  nextHop10001: '40 03 04 0a000001',
} as const;

export { AttrType };
