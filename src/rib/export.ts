import { prependAs } from '../bgp/wire/aspath.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { type FamilyKey, IPV4_UNICAST } from '../bgp/wire/family.js';
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
}

/** ::ffff:a.b.c.d, the IPv6 next hop FRR uses for IPv6 routes over an IPv4 session. */
function mappedV6(v4: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b[10] = 0xff;
  b[11] = 0xff;
  v4.copy(b, 12);
  return b;
}

/** Our own address in the form the family's next hop needs. */
export function selfNextHop(family: FamilyKey, target: ExportTarget): Buffer {
  const local = target.localAddress;
  if (family === IPV4_UNICAST) return local.length === 4 ? local : target.routerId;
  return local.length === 16 ? local : mappedV6(local);
}

/**
 * RFC 4271 §9.1.3 / §5.1: the attributes a path is sent to `target` with, or
 * undefined when it must not be sent. Without route reflection, a path
 * learned over iBGP goes to eBGP peers only; a path never goes back to the
 * peer it came from.
 */
export function exportAttributes(path: Path, target: ExportTarget): PathAttributes | undefined {
  const src = path.source;
  if (src.id === target.id) return undefined;
  if (src.ibgp && target.ibgp) return undefined;
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
  let nextHop = a.nextHop;
  if (nextHop === undefined) nextHop = selfNextHop(path.family, target);
  // RFC 2545 §3: a link-local next hop means nothing beyond the link it was learned on.
  else if (nextHop.length === 32 && !src.local) nextHop = nextHop.subarray(0, 16);
  return { ...a, nextHop, localPref: a.localPref ?? DEFAULT_LOCAL_PREF };
}
