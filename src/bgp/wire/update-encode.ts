import { type AttrLayout, type PathAttributes, beginAttr, encodeAttributes, endAttr } from './attributes.js';
import { AttrFlag, AttrType, HEADER_LENGTH, MessageType } from './constants.js';
import { type FamilyKey, IPV4_UNICAST, familyAfi, familyName, familySafi } from './family.js';
import { type Nlri, type NlriCodec, nlriCodec } from './nlri.js';
import { Writer } from './writer.js';

export interface PackOptions {
  /** 4096, or 65535 after RFC 8654 extended messages were negotiated. */
  readonly maxLength: number;
  readonly fourOctetAs: boolean;
  /** RFC 7911: send a path identifier before each NLRI. */
  readonly addPath: boolean;
  /** Attribute order and length forms; undefined is 'default' (see AttrLayout). */
  readonly layout?: AttrLayout;
}

const MP_FLAGS = AttrFlag.Optional | AttrFlag.ExtendedLength;

/**
 * Opens MP_REACH/MP_UNREACH_NLRI before its NLRI are packed, so before its
 * length is known: the 'gobgp' layout starts with a 1-octet length and widens
 * it afterwards if needed, which costs the packing one byte of headroom.
 */
function beginMp(w: Writer, type: AttrType, layout: AttrLayout | undefined): { readonly at: number; readonly headroom: number } {
  if (layout === 'gobgp') return { at: beginAttr(w, AttrFlag.Optional, type), headroom: 1 };
  w.u8(MP_FLAGS).u8(type);
  return { at: w.reserve(2) + 2, headroom: 0 };
}

function endMp(w: Writer, at: number, layout: AttrLayout | undefined): void {
  if (layout === 'gobgp') endAttr(w, at);
  else w.patchU16(at - 2, w.pos - at);
}

/** Where the first attribute of a type above `type` starts in an attribute block written in ascending order. */
function offsetAfterType(block: Buffer, type: number): number {
  let p = 0;
  while (p < block.length && block[p + 1]! <= type) {
    p += block[p]! & AttrFlag.ExtendedLength ? 4 + block.readUInt16BE(p + 2) : 3 + block[p + 2]!;
  }
  return p;
}

function codecOf(family: FamilyKey): NlriCodec {
  const c = nlriCodec(family);
  if (!c) throw new Error(`no NLRI codec for ${familyName(family)}`);
  return c;
}

function startMessage(w: Writer): number {
  w.reset();
  w.fill(0xff, 16);
  const lenAt = w.reserve(2);
  w.u8(MessageType.Update);
  return lenAt;
}

/**
 * Writes NLRI from `from` until the message reaches maxLength; returns the
 * index of the first NLRI that did not fit.
 */
function packNlri(
  w: Writer,
  codec: NlriCodec,
  nlri: readonly Nlri[],
  from: number,
  limit: number,
  addPath: boolean,
  withdrawn = false,
): number {
  let i = from;
  const encode = withdrawn && codec.encodeWithdrawn ? codec.encodeWithdrawn.bind(codec) : codec.encode.bind(codec);
  for (; i < nlri.length; i++) {
    const mark = w.pos;
    encode(w, nlri[i]!, addPath);
    if (w.pos > limit) {
      w.truncate(mark);
      break;
    }
  }
  if (i === from && from < nlri.length) throw new Error(`one ${codec.afi}/${codec.safi} NLRI does not fit in ${limit} bytes`);
  return i;
}

/**
 * Encoded attribute blocks, per attribute object and encoding options. The
 * export policy hands every peer of an update group the same attribute
 * object, so a block is encoded once per group, not once per peer.
 */
const blocks = new WeakMap<PathAttributes, Map<string, Buffer>>();

function attributeBlock(attrs: PathAttributes, opt: PackOptions, withNextHop: boolean): Buffer {
  const key = `${opt.fourOctetAs ? 4 : 2}${withNextHop ? 'n' : ''}${opt.layout ?? ''}`;
  let byOpt = blocks.get(attrs);
  if (!byOpt) {
    byOpt = new Map();
    // Only frozen (interned) sets are safe to remember: nothing can change them afterwards.
    if (Object.isFrozen(attrs)) blocks.set(attrs, byOpt);
  }
  let block = byOpt.get(key);
  if (!block) {
    const w = new Writer(512);
    encodeAttributes(w, attrs, { fourOctetAs: opt.fourOctetAs, withNextHop, layout: opt.layout });
    block = w.toBuffer();
    byOpt.set(key, block);
  }
  return block;
}

/**
 * UPDATEs that announce `nlri` with one attribute set, as many NLRI per
 * message as fit: the attribute block is encoded once and copied into each.
 * For families other than IPv4 unicast `mpNextHop` is the MP_REACH next hop field.
 */
export function encodeAnnouncements(
  family: FamilyKey,
  attrs: PathAttributes,
  nlri: readonly Nlri[],
  opt: PackOptions,
  mpNextHop?: Buffer,
): Buffer[] {
  const codec = codecOf(family);
  const v4 = family === IPV4_UNICAST && mpNextHop === undefined;
  const attrBlock = attributeBlock(attrs, opt, v4);
  // The attributes written before MP_REACH_NLRI: none, except in the 'gobgp' layout, which keeps type order.
  const split = opt.layout === 'gobgp' ? offsetAfterType(attrBlock, AttrType.MpReachNlri) : 0;
  const head = attrBlock.subarray(0, split);
  const tail = attrBlock.subarray(split);
  const w = new Writer(opt.maxLength + 64);
  const out: Buffer[] = [];
  let i = 0;
  while (i < nlri.length) {
    const lenAt = startMessage(w);
    w.u16(0);
    const alenAt = w.reserve(2);
    if (v4) {
      w.bytes(attrBlock);
      w.patchU16(alenAt, attrBlock.length);
      i = packNlri(w, codec, nlri, i, opt.maxLength, opt.addPath);
    } else {
      // MP_REACH_NLRI first, as FRR does (after the lower types in the 'gobgp' layout), then the shared attributes.
      w.bytes(head);
      const mp = beginMp(w, AttrType.MpReachNlri, opt.layout);
      const nh = mpNextHop ?? Buffer.alloc(0);
      w.u16(familyAfi(family)).u8(familySafi(family)).u8(nh.length).bytes(nh).u8(0);
      i = packNlri(w, codec, nlri, i, opt.maxLength - tail.length - mp.headroom, opt.addPath);
      endMp(w, mp.at, opt.layout);
      w.bytes(tail);
      w.patchU16(alenAt, w.pos - alenAt - 2);
    }
    w.patchU16(lenAt, w.pos);
    out.push(w.toBuffer());
  }
  return out;
}

/** UPDATEs that withdraw `nlri`, packed like announcements. */
export function encodeWithdrawals(family: FamilyKey, nlri: readonly Nlri[], opt: PackOptions): Buffer[] {
  const codec = codecOf(family);
  const w = new Writer(opt.maxLength + 64);
  const out: Buffer[] = [];
  let i = 0;
  while (i < nlri.length) {
    const lenAt = startMessage(w);
    if (family === IPV4_UNICAST) {
      const wlenAt = w.reserve(2);
      i = packNlri(w, codec, nlri, i, opt.maxLength - 2, opt.addPath);
      w.patchU16(wlenAt, w.pos - wlenAt - 2);
      w.u16(0);
    } else {
      w.u16(0);
      const alenAt = w.reserve(2);
      const mp = beginMp(w, AttrType.MpUnreachNlri, opt.layout);
      w.u16(familyAfi(family)).u8(familySafi(family));
      i = packNlri(w, codec, nlri, i, opt.maxLength - mp.headroom, opt.addPath, true);
      endMp(w, mp.at, opt.layout);
      w.patchU16(alenAt, w.pos - alenAt - 2);
    }
    w.patchU16(lenAt, w.pos);
    out.push(w.toBuffer());
  }
  return out;
}

/** RFC 4724 §2: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH_NLRI otherwise. */
export function encodeEndOfRib(family: FamilyKey): Buffer {
  const w = new Writer(32);
  const lenAt = startMessage(w);
  if (family === IPV4_UNICAST) {
    w.u16(0).u16(0);
  } else {
    w.u16(0).u16(6);
    w.u8(AttrFlag.Optional).u8(AttrType.MpUnreachNlri).u8(3).u16(familyAfi(family)).u8(familySafi(family));
  }
  w.patchU16(lenAt, w.pos);
  return w.toBuffer();
}

export const UPDATE_OVERHEAD = HEADER_LENGTH + 4;
