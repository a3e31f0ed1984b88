import { ipOctetsForBits } from '../core/ip.js';
import { type Result, err, ok } from '../core/result.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { RD_LENGTH, type RouteDistinguisher, decodeRd } from '../bgp/wire/rd.js';
import type { Writer } from '../bgp/wire/writer.js';
import { ESI_LENGTH, type Esi, decodeEsi } from './esi.js';
import { LABEL_LENGTH, type Label } from './label.js';
import { MAC_LENGTH } from './mac.js';
import { PackedMacIpRoute } from './mac-ip-route.js';

/** RFC 7432 §7 and RFC 9136 §3 route types this codec decodes field by field. */
export const EvpnRouteType = {
  EthernetAd: 1,
  MacIp: 2,
  InclusiveMulticast: 3,
  EthernetSegment: 4,
  IpPrefix: 5,
} as const;

interface RouteCommon extends Nlri {
  readonly rd: RouteDistinguisher;
}

/** RFC 7432 §7.1: RD(8) ESI(10) Tag(4) Label(3). Key: RD ESI Tag. */
export interface EthernetAdRoute extends RouteCommon {
  readonly kind: 'ethernet-ad';
  readonly routeType: 1;
  readonly esi: Esi;
  readonly tag: number;
  readonly label: Label;
}

/**
 * RFC 7432 §7.2: RD(8) ESI(10) Tag(4) MACLen(1) MAC(6) IPLen(1) IP(0|4|16) Label1(3) [Label2(3)].
 * Key: RD Tag MACLen MAC IPLen IP (ESI and labels are attributes of the path, not the route).
 * Label2 is RFC 9135 §5's L3 VNI/label for symmetric IRB.
 */
export interface MacIpRoute extends RouteCommon {
  readonly kind: 'mac-ip';
  readonly routeType: 2;
  readonly esi: Esi;
  readonly tag: number;
  readonly mac: Buffer;
  /** 4 or 16 octets; absent for a MAC-only route (IP length 0). */
  readonly ip?: Buffer;
  readonly label1: Label;
  readonly label2?: Label;
}

/** RFC 7432 §7.3: RD(8) Tag(4) IPLen(1) IP(4|16). Key: all of it. */
export interface InclusiveMulticastRoute extends RouteCommon {
  readonly kind: 'inclusive-multicast';
  readonly routeType: 3;
  readonly tag: number;
  /** Originating router's IP address, 4 or 16 octets. */
  readonly originator: Buffer;
}

/** RFC 7432 §7.4: RD(8) ESI(10) IPLen(1) IP(4|16). Key: all of it. */
export interface EthernetSegmentRoute extends RouteCommon {
  readonly kind: 'ethernet-segment';
  readonly routeType: 4;
  readonly esi: Esi;
  readonly originator: Buffer;
}

/**
 * RFC 9136 §3.1: RD(8) ESI(10) Tag(4) PrefixLen(1) Prefix(4|16) GW(4|16) Label(3); 34 or 58 octets.
 * Key (§3.2): RD Tag PrefixLen Prefix; ESI, gateway and label are not part of it.
 */
export interface IpPrefixRoute extends RouteCommon {
  readonly kind: 'ip-prefix';
  readonly routeType: 5;
  readonly esi: Esi;
  readonly tag: number;
  readonly prefixLength: number;
  /** 4 or 16 octets as sent (bits past prefixLength included). */
  readonly prefix: Buffer;
  /** Same size as `prefix`; all zero when there is no overlay gateway. */
  readonly gateway: Buffer;
  readonly label: Label;
}

/**
 * RFC 7432 §7: RouteType(1) Length(1) Value(Length) for types this codec does not know
 * (RFC 9251 6-8, RFC 9572 9-11, ...). Kept whole: RFC 7606 §5.4 has a speaker discard
 * them, and whoever decides that (or to pass them on) needs the octets.
 */
export interface UnknownEvpnRoute extends Nlri {
  readonly kind: 'unknown';
  readonly routeType: number;
  readonly value: Buffer;
}

export type EvpnRoute = EthernetAdRoute | MacIpRoute | InclusiveMulticastRoute | EthernetSegmentRoute | IpPrefixRoute | UnknownEvpnRoute;

/**
 * The typed route of one NLRI body (what follows RouteType and Length). The
 * result's buffers (but the RD's, which decodeRd copies) are views into
 * `body`, so pass a copy you own. The key is one latin1 string of the key
 * octets with the route type as its first character: cheap to build, and
 * routes of different types never share one.
 */
export function decodeEvpnRoute(routeType: number, body: Buffer, pathId = 0): Result<EvpnRoute, string> {
  const len = body.length;
  const t = String.fromCharCode(routeType);
  switch (routeType) {
    case EvpnRouteType.EthernetAd: {
      if (len !== 25) return err(`Ethernet A-D route length ${len}, expected 25`);
      return ok({
        kind: 'ethernet-ad',
        routeType: 1,
        key: t + body.toString('latin1', 0, 22),
        pathId,
        rd: decodeRd(body, 0),
        esi: decodeEsi(body.subarray(8, 18)),
        tag: body.readUInt32BE(18),
        label: body.subarray(22, 25),
      });
    }
    case EvpnRouteType.MacIp: {
      const route = PackedMacIpRoute.decode(body, 0, len, pathId);
      return typeof route === 'string' ? err(route) : ok(route);
    }
    case EvpnRouteType.InclusiveMulticast: {
      if (len < 13) return err(`Inclusive Multicast route length ${len} is too short (17 or 29)`);
      const ipLen = ipOctetsForBits(body[12]!);
      if (ipLen === undefined) return err(`Inclusive Multicast route IP address length ${body[12]}, expected 32 or 128`);
      if (len !== 13 + ipLen) return err(`Inclusive Multicast route length ${len}, expected ${13 + ipLen}`);
      return ok({
        kind: 'inclusive-multicast',
        routeType: 3,
        key: t + body.toString('latin1'),
        pathId,
        rd: decodeRd(body, 0),
        tag: body.readUInt32BE(8),
        originator: body.subarray(13),
      });
    }
    case EvpnRouteType.EthernetSegment: {
      if (len < 19) return err(`Ethernet Segment route length ${len} is too short (23 or 35)`);
      const ipLen = ipOctetsForBits(body[18]!);
      if (ipLen === undefined) return err(`Ethernet Segment route IP address length ${body[18]}, expected 32 or 128`);
      if (len !== 19 + ipLen) return err(`Ethernet Segment route length ${len}, expected ${19 + ipLen}`);
      return ok({
        kind: 'ethernet-segment',
        routeType: 4,
        key: t + body.toString('latin1'),
        pathId,
        rd: decodeRd(body, 0),
        esi: decodeEsi(body.subarray(8, 18)),
        originator: body.subarray(19),
      });
    }
    case EvpnRouteType.IpPrefix: {
      // RFC 9136 §3.1: the length alone tells IPv4 from IPv6.
      if (len !== 34 && len !== 58) return err(`IP Prefix route length ${len}, expected 34 (IPv4) or 58 (IPv6)`);
      const size = len === 34 ? 4 : 16;
      const plen = body[22]!;
      if (plen > size * 8) return err(`IP Prefix route prefix length ${plen} exceeds ${size * 8}`);
      return ok({
        kind: 'ip-prefix',
        routeType: 5,
        key: t + body.toString('latin1', 0, 8) + body.toString('latin1', 18, 23 + size),
        pathId,
        rd: decodeRd(body, 0),
        esi: decodeEsi(body.subarray(8, 18)),
        tag: body.readUInt32BE(18),
        prefixLength: plen,
        prefix: body.subarray(23, 23 + size),
        gateway: body.subarray(23 + size, 23 + 2 * size),
        label: body.subarray(23 + 2 * size, len),
      });
    }
    default:
      return ok({ kind: 'unknown', routeType, key: t + body.toString('latin1'), pathId, value: body });
  }
}

/** Writes the route-type-specific octets (no RouteType/Length header) from the typed fields. */
export function writeEvpnRouteBody(w: Writer, r: EvpnRoute): void {
  switch (r.kind) {
    case 'ethernet-ad':
      w.bytes(r.rd.raw).bytes(r.esi.raw).u32(r.tag).bytes(r.label);
      return;
    case 'mac-ip':
      if (r instanceof PackedMacIpRoute) return r.writeBody(w);
      w.bytes(r.rd.raw).bytes(r.esi.raw).u32(r.tag).u8(MAC_LENGTH * 8).bytes(r.mac);
      w.u8(r.ip === undefined ? 0 : r.ip.length * 8);
      if (r.ip !== undefined) w.bytes(r.ip);
      w.bytes(r.label1);
      if (r.label2 !== undefined) w.bytes(r.label2);
      return;
    case 'inclusive-multicast':
      w.bytes(r.rd.raw).u32(r.tag).u8(r.originator.length * 8).bytes(r.originator);
      return;
    case 'ethernet-segment':
      w.bytes(r.rd.raw).bytes(r.esi.raw).u8(r.originator.length * 8).bytes(r.originator);
      return;
    case 'ip-prefix':
      w.bytes(r.rd.raw).bytes(r.esi.raw).u32(r.tag).u8(r.prefixLength).bytes(r.prefix).bytes(r.gateway).bytes(r.label);
      return;
    case 'unknown':
      w.bytes(r.value);
      return;
  }
}

/** Octets writeEvpnRouteBody writes, for sizing without writing. */
export function evpnRouteBodyLength(r: EvpnRoute): number {
  switch (r.kind) {
    case 'ethernet-ad':
      return RD_LENGTH + ESI_LENGTH + 4 + LABEL_LENGTH;
    case 'mac-ip':
      if (r instanceof PackedMacIpRoute) return r.bodyLength;
      return RD_LENGTH + ESI_LENGTH + 4 + 1 + MAC_LENGTH + 1 + (r.ip?.length ?? 0) + LABEL_LENGTH * (r.label2 ? 2 : 1);
    case 'inclusive-multicast':
      return RD_LENGTH + 4 + 1 + r.originator.length;
    case 'ethernet-segment':
      return RD_LENGTH + ESI_LENGTH + 1 + r.originator.length;
    case 'ip-prefix':
      return RD_LENGTH + ESI_LENGTH + 4 + 1 + r.prefix.length * 2 + LABEL_LENGTH;
    case 'unknown':
      return r.value.length;
  }
}
