import { type PathAttributes, encodeAttributes } from './attributes.js';
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
}

const MP_FLAGS = AttrFlag.Optional | AttrFlag.ExtendedLength;

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
function packNlri(w: Writer, codec: NlriCodec, nlri: readonly Nlri[], from: number, limit: number, addPath: boolean): number {
  let i = from;
  for (; i < nlri.length; i++) {
    const mark = w.pos;
    codec.encode(w, nlri[i]!, addPath);
    if (w.pos > limit) {
      w.truncate(mark);
      break;
    }
  }
  if (i === from && from < nlri.length) throw new Error(`one ${codec.afi}/${codec.safi} NLRI does not fit in ${limit} bytes`);
  return i;
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
  const scratch = new Writer(512);
  encodeAttributes(scratch, attrs, { fourOctetAs: opt.fourOctetAs, withNextHop: v4 });
  const attrBlock = scratch.view();
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
      // MP_REACH_NLRI first, as FRR does, then the shared attributes.
      w.u8(MP_FLAGS).u8(AttrType.MpReachNlri);
      const mpLenAt = w.reserve(2);
      const nh = mpNextHop ?? Buffer.alloc(0);
      w.u16(familyAfi(family)).u8(familySafi(family)).u8(nh.length).bytes(nh).u8(0);
      i = packNlri(w, codec, nlri, i, opt.maxLength - attrBlock.length, opt.addPath);
      w.patchU16(mpLenAt, w.pos - mpLenAt - 2);
      w.bytes(attrBlock);
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
      w.u8(MP_FLAGS).u8(AttrType.MpUnreachNlri);
      const mpLenAt = w.reserve(2);
      w.u16(familyAfi(family)).u8(familySafi(family));
      i = packNlri(w, codec, nlri, i, opt.maxLength, opt.addPath);
      w.patchU16(mpLenAt, w.pos - mpLenAt - 2);
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
