import { numberToIpv4 } from '../core/ip.js';
import { type Result, err, ok } from '../core/result.js';
import { MAC_LENGTH, formatMac } from './mac.js';

/** RFC 7432 §5: Type(1) Value(9). */
export const ESI_LENGTH = 10;

interface EsiCommon {
  /** The ESI Type octet. */
  readonly type: number;
  /** All 10 octets as on the wire: keys and encoding use these, never the fields. */
  readonly raw: Buffer;
}

/** Type 0x00: Value(9), operator-configured; all zero means single-homed. */
export interface EsiArbitrary extends EsiCommon {
  readonly kind: 'arbitrary';
  readonly value: Buffer;
}
/** Type 0x01: CE LACP System MAC(6) Port Key(2) 0x00(1). */
export interface EsiLacp extends EsiCommon {
  readonly kind: 'lacp';
  readonly systemMac: Buffer;
  readonly portKey: number;
}
/** Type 0x02: Root Bridge MAC(6) Root Bridge Priority(2) 0x00(1). */
export interface EsiBridge extends EsiCommon {
  readonly kind: 'bridge';
  readonly rootBridgeMac: Buffer;
  readonly priority: number;
}
/** Type 0x03: System MAC(6) Local Discriminator(3). */
export interface EsiMac extends EsiCommon {
  readonly kind: 'mac';
  readonly systemMac: Buffer;
  readonly discriminator: number;
}
/** Type 0x04: Router ID(4) Local Discriminator(4) 0x00(1). */
export interface EsiRouterId extends EsiCommon {
  readonly kind: 'router-id';
  readonly routerId: number;
  readonly discriminator: number;
}
/** Type 0x05: AS(4) Local Discriminator(4) 0x00(1). */
export interface EsiAs extends EsiCommon {
  readonly kind: 'as';
  readonly asn: number;
  readonly discriminator: number;
}
/** Types 0x06-0xff are unassigned: only the raw octets mean anything. */
export interface EsiUnknown extends EsiCommon {
  readonly kind: 'unknown';
}

export type Esi = EsiArbitrary | EsiLacp | EsiBridge | EsiMac | EsiRouterId | EsiAs | EsiUnknown;

/**
 * The typed view of 10 ESI octets. `raw` is kept as given (not copied) and the
 * MAC/value fields are views into it, so pass a buffer that is yours to keep.
 * Any 10 octets decode: a non-zero trailing octet in types 1, 2, 4 and 5 is
 * only "should be zero" (RFC 7432 §5) and survives in `raw`.
 */
export function decodeEsi(raw: Buffer): Esi {
  // Single-homed routes (all of them in most fabrics) share one object instead of three each.
  for (let i = 0; i < raw.length; i++) if (raw[i] !== 0) return readEsi(raw);
  return ESI_ZERO;
}

/**
 * The ESI at `buf[at, at + 10)`, shared with every other route of the same
 * Ethernet Segment (a multi-homed segment's MACs all carry its ESI); a copy
 * is made only for a segment not seen before, so `buf` may be a message's.
 * The table is cleared when it grows past a bound, as decodeRd's is.
 */
export function decodeSharedEsi(buf: Buffer, at: number): Esi {
  let zero = true;
  for (let i = at; i < at + ESI_LENGTH; i++) if (buf[i] !== 0) zero = false;
  if (zero) return ESI_ZERO;
  const id = buf.toString('latin1', at, at + ESI_LENGTH);
  let esi = knownEsis.get(id);
  if (esi === undefined) {
    if (knownEsis.size >= KNOWN_ESIS_MAX) knownEsis.clear();
    esi = Object.freeze(readEsi(Buffer.from(buf.subarray(at, at + ESI_LENGTH))));
    knownEsis.set(id, esi);
  }
  return esi;
}

const knownEsis = new Map<string, Esi>();
const KNOWN_ESIS_MAX = 65_536;

function readEsi(raw: Buffer): Esi {
  const type = raw[0]!;
  switch (type) {
    case 0:
      return { kind: 'arbitrary', type, raw, value: raw.subarray(1, 10) };
    case 1:
      return { kind: 'lacp', type, raw, systemMac: raw.subarray(1, 7), portKey: raw.readUInt16BE(7) };
    case 2:
      return { kind: 'bridge', type, raw, rootBridgeMac: raw.subarray(1, 7), priority: raw.readUInt16BE(7) };
    case 3:
      return { kind: 'mac', type, raw, systemMac: raw.subarray(1, 7), discriminator: raw.readUIntBE(7, 3) };
    case 4:
      return { kind: 'router-id', type, raw, routerId: raw.readUInt32BE(1), discriminator: raw.readUInt32BE(5) };
    case 5:
      return { kind: 'as', type, raw, asn: raw.readUInt32BE(1), discriminator: raw.readUInt32BE(5) };
    default:
      return { kind: 'unknown', type, raw };
  }
}

function checkUint(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} ${v} is not 0..${max}`);
}

function checkMac(mac: Uint8Array): void {
  if (mac.length !== MAC_LENGTH) throw new RangeError(`a MAC address is ${MAC_LENGTH} octets, not ${mac.length}`);
}

function withType(type: number, fill: (b: Buffer) => void): Esi {
  const b = Buffer.alloc(ESI_LENGTH);
  b[0] = type;
  fill(b);
  return decodeEsi(b);
}

/** The all-zero ESI: RFC 7432 §5 "single-homed". */
export const ESI_ZERO: Esi = readEsi(Buffer.alloc(ESI_LENGTH));

export function isZeroEsi(esi: Esi): boolean {
  return esi.raw.every((b) => b === 0);
}

/*
 * Builders for values already validated (config, API): they throw RangeError
 * on out-of-range input, which is a programming error there.
 */

export function esiArbitrary(value: Uint8Array): Esi {
  if (value.length !== ESI_LENGTH - 1) throw new RangeError(`a type 0 ESI value is 9 octets, not ${value.length}`);
  return withType(0, (b) => b.set(value, 1));
}

export function esiLacp(systemMac: Uint8Array, portKey: number): Esi {
  checkMac(systemMac);
  checkUint('LACP port key', portKey, 0xffff);
  return withType(1, (b) => {
    b.set(systemMac, 1);
    b.writeUInt16BE(portKey, 7);
  });
}

export function esiBridge(rootBridgeMac: Uint8Array, priority: number): Esi {
  checkMac(rootBridgeMac);
  checkUint('root bridge priority', priority, 0xffff);
  return withType(2, (b) => {
    b.set(rootBridgeMac, 1);
    b.writeUInt16BE(priority, 7);
  });
}

export function esiMac(systemMac: Uint8Array, discriminator: number): Esi {
  checkMac(systemMac);
  checkUint('local discriminator', discriminator, 0xffffff);
  return withType(3, (b) => {
    b.set(systemMac, 1);
    b.writeUIntBE(discriminator, 7, 3);
  });
}

export function esiRouterId(routerId: number, discriminator: number): Esi {
  checkUint('router ID', routerId, 0xffffffff);
  checkUint('local discriminator', discriminator, 0xffffffff);
  return withType(4, (b) => {
    b.writeUInt32BE(routerId, 1);
    b.writeUInt32BE(discriminator, 5);
  });
}

export function esiAs(asn: number, discriminator: number): Esi {
  checkUint('AS', asn, 0xffffffff);
  checkUint('local discriminator', discriminator, 0xffffffff);
  return withType(5, (b) => {
    b.writeUInt32BE(asn, 1);
    b.writeUInt32BE(discriminator, 5);
  });
}

/** FRR's form: the 10 octets in colon-separated hex ("00:00:00:00:00:00:00:00:00:00"). */
export function formatEsi(esi: Esi): string {
  return Array.from(esi.raw, (b) => (b < 16 ? '0' : '') + b.toString(16)).join(':');
}

/** A human description, as GoBGP shows it ("LACP system-mac aa:bb:cc:dd:ee:ff port-key 100"). */
export function describeEsi(esi: Esi): string {
  switch (esi.kind) {
    case 'arbitrary':
      return isZeroEsi(esi) ? 'single-homed' : `arbitrary ${formatEsi(esi).slice(3)}`;
    case 'lacp':
      return `LACP system-mac ${formatMac(esi.systemMac)} port-key ${esi.portKey}`;
    case 'bridge':
      return `bridge root-mac ${formatMac(esi.rootBridgeMac)} priority ${esi.priority}`;
    case 'mac':
      return `MAC system-mac ${formatMac(esi.systemMac)} discriminator ${esi.discriminator}`;
    case 'router-id':
      return `router-id ${numberToIpv4(esi.routerId)} discriminator ${esi.discriminator}`;
    case 'as':
      return `AS ${esi.asn} discriminator ${esi.discriminator}`;
    case 'unknown':
      return `type ${esi.type} ${formatEsi(esi)}`;
  }
}

/** "00:11:…:99" (10 hex octets, FRR's form) or "0" / "single-homed" for the zero ESI. */
export function parseEsi(text: string): Result<Esi, string> {
  const t = text.trim();
  if (t === '0' || t === 'single-homed') return ok(ESI_ZERO);
  const parts = t.split(':');
  if (parts.length !== ESI_LENGTH || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    return err(`"${text}" is not an ESI (10 colon-separated hex octets)`);
  }
  return ok(decodeEsi(Buffer.from(parts.join(''), 'hex')));
}
