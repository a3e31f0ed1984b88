import { ipv4ToNumber, numberToIpv4 } from '../../core/ip.js';
import { type Result, err, ok } from '../../core/result.js';
import type { Writer } from './writer.js';

/**
 * RFC 4364 §4.2 Route Distinguisher: Type(2) Value(6).
 *   type 0: Administrator = 2-octet AS,   Assigned Number 4 octets  ("65000:100")
 *   type 1: Administrator = IPv4 address, Assigned Number 2 octets  ("192.0.2.1:100")
 *   type 2: Administrator = 4-octet AS,   Assigned Number 2 octets  ("4200000000:100")
 * Other types are kept as their 8 raw bytes and printed as hex.
 */
export interface RouteDistinguisher {
  readonly type: number;
  readonly admin: number;
  readonly assigned: number;
  /** The 8 bytes as on the wire: what keys and encoding use. */
  readonly raw: Buffer;
}

export const RD_LENGTH = 8;

/**
 * Routes of one VRF or EVI share their RD: decoded RDs are shared too. The
 * table is cleared when it grows past a bound, so odd input cannot grow it
 * without limit.
 */
const known = new Map<string, RouteDistinguisher>();
const KNOWN_MAX = 65_536;

export function decodeRd(buf: Buffer, at: number): RouteDistinguisher {
  const id = buf.toString('latin1', at, at + RD_LENGTH);
  let rd = known.get(id);
  if (rd === undefined) {
    if (known.size >= KNOWN_MAX) known.clear();
    rd = Object.freeze(readRd(buf, at));
    known.set(id, rd);
  }
  return rd;
}

function readRd(buf: Buffer, at: number): RouteDistinguisher {
  const raw = Buffer.from(buf.subarray(at, at + RD_LENGTH));
  const type = raw.readUInt16BE(0);
  switch (type) {
    case 0:
      return { type, admin: raw.readUInt16BE(2), assigned: raw.readUInt32BE(4), raw };
    case 1:
    case 2:
      return { type, admin: raw.readUInt32BE(2), assigned: raw.readUInt16BE(6), raw };
    default:
      return { type, admin: 0, assigned: 0, raw };
  }
}

export function encodeRd(w: Writer, rd: RouteDistinguisher): void {
  w.bytes(rd.raw);
}

export function formatRd(rd: RouteDistinguisher): string {
  switch (rd.type) {
    case 0:
    case 2:
      return `${rd.admin}:${rd.assigned}`;
    case 1:
      return `${numberToIpv4(rd.admin)}:${rd.assigned}`;
    default:
      return rd.raw.toString('hex');
  }
}

function make(type: number, admin: number, assigned: number): RouteDistinguisher {
  const raw = Buffer.alloc(RD_LENGTH);
  raw.writeUInt16BE(type, 0);
  if (type === 0) {
    raw.writeUInt16BE(admin, 2);
    raw.writeUInt32BE(assigned, 4);
  } else {
    raw.writeUInt32BE(admin >>> 0, 2);
    raw.writeUInt16BE(assigned, 6);
  }
  return { type, admin, assigned, raw };
}

/**
 * "65000:100" (type 0), "192.0.2.1:100" (type 1), "4200000000:100" (type 2).
 * An AS that fits in 2 octets gives type 0, as FRR and GoBGP choose.
 */
export function parseRd(text: string): Result<RouteDistinguisher, string> {
  const i = text.lastIndexOf(':');
  if (i <= 0) return err(`route distinguisher "${text}" is not ADMIN:NUMBER`);
  const adminText = text.slice(0, i);
  const numText = text.slice(i + 1);
  if (!/^\d+$/.test(numText)) return err(`route distinguisher "${text}": "${numText}" is not a number`);
  const assigned = Number(numText);
  const ip = ipv4ToNumber(adminText);
  if (ip !== undefined) {
    if (assigned > 0xffff) return err(`route distinguisher "${text}": the number after an IPv4 address is 0..65535`);
    return ok(make(1, ip, assigned));
  }
  if (!/^\d+$/.test(adminText)) return err(`route distinguisher "${text}": "${adminText}" is neither an AS number nor an IPv4 address`);
  const admin = Number(adminText);
  if (admin <= 0xffff) {
    if (assigned > 0xffffffff) return err(`route distinguisher "${text}": the number after a 2-octet AS is 0..4294967295`);
    return ok(make(0, admin, assigned));
  }
  if (admin > 0xffffffff) return err(`route distinguisher "${text}": AS ${admin} is over 4294967295`);
  if (assigned > 0xffff) return err(`route distinguisher "${text}": the number after a 4-octet AS is 0..65535`);
  return ok(make(2, admin, assigned));
}
