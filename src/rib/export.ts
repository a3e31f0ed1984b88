import { prependAs } from '../bgp/wire/aspath.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { type FamilyKey, IPV4_UNICAST, IPV4_VPN, IPV6_VPN, L2VPN_EVPN } from '../bgp/wire/family.js';
import { DEFAULT_LOCAL_PREF } from './decision.js';
import type { Path } from './path.js';

/** What the export policy needs to know of the peer a route goes to. */
export interface ExportTarget {
  readonly id: string;
  readonly ibgp: boolean;
  readonly localAsn: number;
  /** Our address on this session, for next-hop-self: 4 bytes (IPv4 session) or 16. */
  readonly localAddress: Buffer;
  /** Our router id: the IPv4 next-hop-self of IPv4 routes over an IPv6 session. */
  readonly routerId: Buffer;
  /** RFC 4456: the peer is a route-reflector client of ours. */
  readonly rrClient: boolean;
  /** RFC 4456 §7: our CLUSTER_ID; undefined when we reflect nothing (no clients configured). */
  readonly clusterId?: number;
  /**
   * A DC gateway's WAN peer (RFC 9014): it gets the IP routes the gateway
   * originates (EVPN type 5, VPNv4/VPNv6) and nothing of the data center's
   * own routes, nor other gateways' routes learned over the DCI, which would
   * send its traffic through this data center (the "roundabout").
   */
  readonly wan?: boolean;
}

function isIpRoute(path: Path): boolean {
  return path.family === IPV4_VPN || path.family === IPV6_VPN || (path.family === L2VPN_EVPN && (path.nlri as { kind?: string }).kind === 'ip-prefix');
}

/** ::ffff:a.b.c.d, the IPv6 next hop FRR uses for IPv6 routes over an IPv4 session. */
function mappedV6(v4: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b[10] = 0xff;
  b[11] = 0xff;
  v4.copy(b, 12);
  return b;
}

const ZERO_RD = Buffer.alloc(8);

/** Our own address in the form the family's next hop field needs. */
export function selfNextHop(family: FamilyKey, target: ExportTarget): Buffer {
  const local = target.localAddress;
  const v4 = local.length === 4 ? local : target.routerId;
  const v6 = local.length === 16 ? local : mappedV6(local);
  switch (family) {
    case IPV4_UNICAST:
      return v4;
    // RFC 7432 §7 / RFC 8365: the PE's IPv4 (or IPv6) address.
    case L2VPN_EVPN:
      return local.length === 4 ? local : v6;
    // RFC 4364 §4.3.2 / RFC 4659 §3.2.1: an RD of zero before the address.
    case IPV4_VPN:
      return Buffer.concat([ZERO_RD, v4]);
    case IPV6_VPN:
      return Buffer.concat([ZERO_RD, v6]);
    default:
      return v6;
  }
}

/** RFC 2545 §3: a link-local next hop means nothing beyond the link it was learned on. */
function globalOnly(family: FamilyKey, nh: Buffer): Buffer {
  if (nh.length === 32) return nh.subarray(0, 16);
  if (family === IPV6_VPN && nh.length === 48) return nh.subarray(0, 24);
  return nh;
}

/**
 * RFC 4456 §6: may a path learned over iBGP go to an iBGP peer? From a
 * client: to every client and non-client; from a non-client: to clients only.
 */
function reflects(path: Path, target: ExportTarget): boolean {
  if (target.clusterId === undefined) return false;
  return path.source.rrClient || target.rrClient;
}

/**
 * RFC 4271 §9.1.3 / §5.1 and RFC 4456: the attributes a path is sent to
 * `target` with, or undefined when it must not be sent. A path never goes
 * back to the peer it came from.
 */
export function exportAttributes(path: Path, target: ExportTarget): PathAttributes | undefined {
  const src = path.source;
  if (src.id === target.id) return undefined;
  if (target.wan && !(src.local && isIpRoute(path))) return undefined;
  const a = path.attrs;
  if (!target.ibgp) {
    return {
      ...a,
      asPath: prependAs(a.asPath ?? [], target.localAsn),
      // A next hop configured on a local route is kept (third party, RFC 4271 §5.1.3); others become ours.
      nextHop: src.local && a.nextHop !== undefined ? a.nextHop : selfNextHop(path.family, target),
      // §5.1.5 LOCAL_PREF stays inside the AS; §5.1.4 a MED learned from one AS is not passed to another.
      localPref: undefined,
      med: src.local ? a.med : undefined,
      // RFC 4456 §8: reflection attributes never leave the AS.
      originatorId: undefined,
      clusterList: undefined,
    };
  }
  if (src.ibgp) {
    if (!reflects(path, target)) return undefined;
    // RFC 4456 §8: keep the first ORIGINATOR_ID, prepend our CLUSTER_ID; the next hop is left alone.
    return {
      ...a,
      localPref: a.localPref ?? DEFAULT_LOCAL_PREF,
      originatorId: a.originatorId ?? src.routerId,
      clusterList: [target.clusterId!, ...(a.clusterList ?? [])],
    };
  }
  let nextHop = a.nextHop;
  if (nextHop === undefined) nextHop = selfNextHop(path.family, target);
  else if (!src.local) nextHop = globalOnly(path.family, nextHop);
  return { ...a, nextHop, localPref: a.localPref ?? DEFAULT_LOCAL_PREF };
}
