import { bytesToIp, ipToBytes } from '../core/ip.js';
import { type Result, err, ok } from '../core/result.js';
import { LABEL_LENGTH, type Label, labelToVni } from './label.js';

/**
 * RFC 6514 §5 PMSI_TUNNEL attribute (type 22) value:
 *   Flags(1) TunnelType(1) MPLSLabel(3) TunnelIdentifier(variable)
 * EVPN uses it on Inclusive Multicast routes (RFC 7432 §11.2); with VXLAN the
 * label field carries the VNI (RFC 8365 §5.1.3), so it stays 3 raw octets
 * like the NLRI labels (see label.ts).
 */
export type PmsiTunnel = IngressReplicationTunnel | OtherPmsiTunnel;

interface PmsiCommon {
  /** RFC 6514 §5: bit 0x01 = Leaf Information Required; others as received. */
  readonly flags: number;
  readonly label: Label;
}

/** Tunnel type 6: the identifier is the unicast tunnel endpoint, 4 or 16 octets (RFC 6514 §5). */
export interface IngressReplicationTunnel extends PmsiCommon {
  readonly kind: 'ingress-replication';
  readonly tunnelType: 6;
  readonly endpoint: Buffer;
}

/** Any other tunnel type (P2MP RSVP-TE, mLDP, PIM, ...): the identifier is kept as received. */
export interface OtherPmsiTunnel extends PmsiCommon {
  readonly kind: 'other';
  readonly tunnelType: number;
  readonly tunnelId: Buffer;
}

export const PmsiTunnelType = {
  NoTunnelInfo: 0,
  RsvpTeP2mp: 1,
  MldpP2mp: 2,
  PimSsm: 3,
  PimSm: 4,
  BidirPim: 5,
  IngressReplication: 6,
  MldpMp2mp: 7,
} as const;

export const PMSI_FLAG_LEAF_INFO_REQUIRED = 0x01;

/**
 * The attribute value (after the attribute header). Errors are for the
 * caller to turn into an RFC 7606 action; nothing here throws. The result owns
 * copies of its octets.
 */
export function decodePmsiTunnel(value: Buffer): Result<PmsiTunnel, string> {
  if (value.length < 5) return err(`PMSI_TUNNEL of ${value.length} octets, at least 5 expected`);
  const flags = value[0]!;
  const tunnelType = value[1]!;
  const label = Buffer.from(value.subarray(2, 5));
  const id = Buffer.from(value.subarray(5));
  if (tunnelType === PmsiTunnelType.IngressReplication) {
    if (id.length !== 4 && id.length !== 16) return err(`ingress replication tunnel endpoint of ${id.length} octets, expected 4 or 16`);
    return ok({ kind: 'ingress-replication', tunnelType, flags, label, endpoint: id });
  }
  return ok({ kind: 'other', tunnelType, flags, label, tunnelId: id });
}

export function encodePmsiTunnel(p: PmsiTunnel): Buffer {
  const id = p.kind === 'ingress-replication' ? p.endpoint : p.tunnelId;
  const out = Buffer.alloc(5 + id.length);
  out[0] = p.flags;
  out[1] = p.tunnelType;
  out.set(p.label.subarray(0, LABEL_LENGTH), 2);
  out.set(id, 5);
  return out;
}

export interface IngressReplicationInput {
  /** The tunnel endpoint (this VTEP), "10.0.0.1" or 4/16 octets. */
  readonly endpoint: string | Uint8Array;
  /** With VXLAN, labelFromVni(vni). */
  readonly label: Uint8Array;
  readonly leafInfoRequired?: boolean;
}

/** RFC 8365 §5.1.3 / RFC 7432 §11.2: what a VTEP attaches to its Inclusive Multicast route. Throws RangeError on bad input. */
export function ingressReplicationTunnel(i: IngressReplicationInput): IngressReplicationTunnel {
  const ep = typeof i.endpoint === 'string' ? ipToBytes(i.endpoint) : i.endpoint;
  if (ep === undefined || (ep.length !== 4 && ep.length !== 16)) throw new RangeError(`"${String(i.endpoint)}" is not an IPv4 or IPv6 address`);
  if (i.label.length !== LABEL_LENGTH) throw new RangeError(`a label field is ${LABEL_LENGTH} octets, not ${i.label.length}`);
  return {
    kind: 'ingress-replication',
    tunnelType: PmsiTunnelType.IngressReplication,
    flags: i.leafInfoRequired ? PMSI_FLAG_LEAF_INFO_REQUIRED : 0,
    label: Buffer.from(i.label),
    endpoint: Buffer.from(ep),
  };
}

/** GoBGP's text ("type: ingress-repl, label: 10100, tunnel-id: 10.0.0.2"); the label is shown as 24 bits. */
export function formatPmsiTunnel(p: PmsiTunnel): string {
  const leaf = p.flags & PMSI_FLAG_LEAF_INFO_REQUIRED ? ', leaf-info-required' : '';
  if (p.kind === 'ingress-replication') {
    return `type: ingress-repl${leaf}, label: ${labelToVni(p.label)}, tunnel-id: ${bytesToIp(p.endpoint)}`;
  }
  return `type: ${p.tunnelType}${leaf}, label: ${labelToVni(p.label)}, tunnel-id: ${p.tunnelId.toString('hex')}`;
}
