import type { Log } from '../../core/log.js';
import type { Rib } from '../../rib/rib.js';
import type { PathSource } from '../../rib/path.js';
import type { PathAttributes } from '../wire/attributes.js';
import { type FamilyKey, IPV4_UNICAST, familyName } from '../wire/family.js';
import { type Nlri, nlriCodec } from '../wire/nlri.js';
import type { Update } from '../wire/update.js';

export interface InboundPolicy {
  readonly localAsn: number;
  readonly routerId: number;
  /** Set when we are a route reflector. */
  readonly clusterId?: number;
}

export interface InboundResult {
  readonly announced: number;
  readonly withdrawn: number;
  readonly endOfRib?: FamilyKey;
}

/**
 * RFC 4271 §9.1.2: a path through our own AS is a loop; RFC 4456 §8: so is our
 * own route reflected back, or one that already passed through our cluster.
 */
function loops(a: PathAttributes, policy: InboundPolicy): boolean {
  if (a.originatorId === policy.routerId) return true;
  if (policy.clusterId !== undefined && a.clusterList?.includes(policy.clusterId)) return true;
  for (const s of a.asPath ?? []) if (s.asns.includes(policy.localAsn)) return true;
  return false;
}

/**
 * Applies a decoded UPDATE to the RIB as `source`'s Adj-RIB-In changes. An
 * UPDATE that RFC 7606 says to treat as withdraw, or that loops, withdraws
 * every NLRI it names instead of installing any.
 */
export function applyUpdate(rib: Rib, source: PathSource, u: Update, policy: InboundPolicy, log: Log): InboundResult {
  let withdrawn = 0;
  let announced = 0;
  const drop = (family: FamilyKey, list: readonly Nlri[]): void => {
    for (const n of list) rib.withdraw(source.id, family, n);
    withdrawn += list.length;
  };
  drop(IPV4_UNICAST, u.withdrawn);
  if (u.mpUnreach) drop(u.mpUnreach.family, u.mpUnreach.withdrawn);
  for (const e of u.errors) log.warn(`UPDATE attribute problem: ${e.reason}`, { action: e.action, attrType: e.attrType });

  const rejected = u.treatAsWithdraw || loops(u.attrs, policy);
  if (rejected) {
    drop(IPV4_UNICAST, u.nlri);
    if (u.mpReach) drop(u.mpReach.family, u.mpReach.nlri);
    if (!u.treatAsWithdraw) log.debug('UPDATE dropped: AS path loop, our own ORIGINATOR_ID or our CLUSTER_ID');
    return { announced, withdrawn, endOfRib: u.endOfRib };
  }
  for (const n of u.nlri) rib.announce(source, IPV4_UNICAST, n, u.attrs);
  announced += u.nlri.length;
  if (u.mpReach && u.mpReach.nlri.length > 0) {
    // One attribute object per UPDATE: the MP next hop joins the shared attributes.
    const attrs: PathAttributes = { ...u.attrs, nextHop: u.mpReach.nextHop };
    const ignore = nlriCodec(u.mpReach.family)?.ignore;
    for (const n of u.mpReach.nlri) {
      if (ignore?.(n)) continue;
      rib.announce(source, u.mpReach.family, n, attrs);
      announced++;
    }
  }
  if (u.endOfRib !== undefined) log.info(`End-of-RIB received for ${familyName(u.endOfRib)}`);
  return { announced, withdrawn, endOfRib: u.endOfRib };
}
