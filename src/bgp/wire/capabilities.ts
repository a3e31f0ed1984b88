import { CapabilityCode } from './constants.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** RFC 4724 §3 per-family entry; `forwarding` is the F bit. */
export interface GracefulRestartFamily {
  readonly afi: number;
  readonly safi: number;
  readonly forwarding: boolean;
}

/** RFC 7911 §4: 1 receive, 2 send, 3 both. */
export interface AddPathFamily {
  readonly afi: number;
  readonly safi: number;
  readonly sendReceive: number;
}

/** One capability of an OPEN (RFC 5492). Unknown ones are kept byte for byte. */
export type Capability =
  | { readonly code: CapabilityCode.Multiprotocol; readonly afi: number; readonly safi: number }
  | { readonly code: CapabilityCode.RouteRefresh }
  | { readonly code: CapabilityCode.EnhancedRouteRefresh }
  | { readonly code: CapabilityCode.ExtendedMessage }
  | { readonly code: CapabilityCode.FourOctetAs; readonly asn: number }
  | {
      readonly code: CapabilityCode.GracefulRestart;
      /** R bit: the sender has restarted. */
      readonly restarting: boolean;
      /** N bit (RFC 8538): notification messages are handled gracefully. */
      readonly notification: boolean;
      readonly restartTime: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  | { readonly code: CapabilityCode.AddPath; readonly families: readonly AddPathFamily[] }
  | { readonly code: CapabilityCode.Fqdn; readonly hostname: string; readonly domain: string }
  | { readonly code: 'unknown'; readonly type: number; readonly value: Buffer };

export type CapabilityError = { readonly reason: string };

/** Decodes one capability value (after code and length). */
function decodeValue(code: number, r: Reader): Capability | CapabilityError {
  const len = r.left();
  switch (code) {
    case CapabilityCode.Multiprotocol: {
      // RFC 4760 §8: AFI(2) Reserved(1) SAFI(1)
      if (len !== 4) return { reason: `multiprotocol capability length ${len}, expected 4` };
      const afi = r.u16();
      r.skip(1);
      return { code, afi, safi: r.u8() };
    }
    case CapabilityCode.RouteRefresh:
    case CapabilityCode.EnhancedRouteRefresh:
    case CapabilityCode.ExtendedMessage:
      if (len !== 0) return { reason: `capability ${code} length ${len}, expected 0` };
      return { code };
    case CapabilityCode.FourOctetAs:
      if (len !== 4) return { reason: `4-octet AS capability length ${len}, expected 4` };
      return { code, asn: r.u32() };
    case CapabilityCode.GracefulRestart: {
      // RFC 4724 §3: Flags(4 bits) Time(12 bits), then AFI(2) SAFI(1) Flags(1) per family
      if (len < 2 || (len - 2) % 4 !== 0) return { reason: `graceful restart capability length ${len}` };
      const head = r.u16();
      const families: GracefulRestartFamily[] = [];
      while (r.left() >= 4) families.push({ afi: r.u16(), safi: r.u8(), forwarding: (r.u8() & 0x80) !== 0 });
      return {
        code,
        restarting: (head & 0x8000) !== 0,
        notification: (head & 0x4000) !== 0,
        restartTime: head & 0x0fff,
        families,
      };
    }
    case CapabilityCode.AddPath: {
      // RFC 7911 §4: AFI(2) SAFI(1) Send/Receive(1), repeated
      if (len === 0 || len % 4 !== 0) return { reason: `add-path capability length ${len}` };
      const families: AddPathFamily[] = [];
      while (r.left() >= 4) families.push({ afi: r.u16(), safi: r.u8(), sendReceive: r.u8() });
      return { code, families };
    }
    case CapabilityCode.Fqdn: {
      // draft-walton-bgp-hostname-capability: HostLen(1) Host DomainLen(1) Domain
      if (len < 1) return { reason: 'fqdn capability is empty' };
      const hl = r.u8();
      if (r.left() < hl + 1) return { reason: 'fqdn hostname overruns the capability' };
      const hostname = r.bytes(hl).toString('utf8');
      const dl = r.u8();
      if (r.left() < dl) return { reason: 'fqdn domain overruns the capability' };
      return { code, hostname, domain: r.bytes(dl).toString('utf8') };
    }
    default:
      return { code: 'unknown', type: code, value: Buffer.from(r.bytes(len)) };
  }
}

/** Decodes the capabilities inside one Capabilities optional parameter. */
export function decodeCapabilities(r: Reader, out: Capability[]): CapabilityError | undefined {
  while (r.left() > 0) {
    if (r.left() < 2) return { reason: 'truncated capability header' };
    const code = r.u8();
    const len = r.u8();
    if (r.left() < len) return { reason: `capability ${code} length ${len} overruns the parameter` };
    const cap = decodeValue(code, r.sub(len));
    if ('reason' in cap) return cap;
    out.push(cap);
  }
  return undefined;
}

export function encodeCapability(w: Writer, c: Capability): void {
  const codeByte = c.code === 'unknown' ? c.type : c.code;
  w.u8(codeByte);
  const lenAt = w.reserve(1);
  const start = w.pos;
  switch (c.code) {
    case CapabilityCode.Multiprotocol:
      w.u16(c.afi).u8(0).u8(c.safi);
      break;
    case CapabilityCode.RouteRefresh:
    case CapabilityCode.EnhancedRouteRefresh:
    case CapabilityCode.ExtendedMessage:
      break;
    case CapabilityCode.FourOctetAs:
      w.u32(c.asn);
      break;
    case CapabilityCode.GracefulRestart:
      w.u16((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | (c.restartTime & 0x0fff));
      for (const f of c.families) w.u16(f.afi).u8(f.safi).u8(f.forwarding ? 0x80 : 0);
      break;
    case CapabilityCode.AddPath:
      for (const f of c.families) w.u16(f.afi).u8(f.safi).u8(f.sendReceive);
      break;
    case CapabilityCode.Fqdn: {
      // Both strings and their two length octets must fit the 1-octet capability length.
      const h = utf8Head(c.hostname, 126);
      const d = utf8Head(c.domain, 126);
      w.u8(h.length).bytes(h).u8(d.length).bytes(d);
      break;
    }
    case 'unknown':
      w.bytes(c.value);
      break;
  }
  const len = w.pos - start;
  // RFC 5492 §4: Capability Length is one octet; wrapping would corrupt the whole OPEN.
  if (len > 255) throw new RangeError(`capability ${codeByte} value of ${len} bytes exceeds 255`);
  w.patchU8(lenAt, len);
}

/** At most `max` bytes of `s` as UTF-8, cut before a character rather than inside one. */
function utf8Head(s: string, max: number): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}
