import { asPathLength, firstAs } from '../bgp/wire/aspath.js';
import { keepLowestOriginator, keepNewest, keepSticky } from '../evpn/mobility.js';
import type { Path } from './path.js';

/** Why a path lost to the best one: the first decision step that set it apart. */
export type Reason =
  | 'mac-mobility-sticky'
  | 'mac-mobility-seq'
  | 'mac-mobility-lower-ip'
  | 'local-pref'
  | 'local-origin'
  | 'as-path-len'
  | 'origin'
  | 'med'
  | 'ebgp-over-ibgp'
  | 'router-id'
  | 'cluster-list'
  | 'peer-address';

export interface Decision {
  readonly best: Path | undefined;
  /** Every path but the best, with the reason it lost. */
  readonly losers: ReadonlyMap<Path, Reason>;
}

/** RFC 4271 §5.1.5: a path without LOCAL_PREF is taken at the usual default. */
export const DEFAULT_LOCAL_PREF = 100;

/** One elimination step: keeps the candidates it prefers. */
interface Step {
  readonly reason: Reason;
  keep(candidates: readonly Path[]): readonly Path[];
}

function keepBy(score: (p: Path) => number, prefer: 'min' | 'max'): (c: readonly Path[]) => readonly Path[] {
  return (c) => {
    let target = score(c[0]!);
    for (const p of c) {
      const s = score(p);
      if (prefer === 'max' ? s > target : s < target) target = s;
    }
    return c.filter((p) => score(p) === target);
  };
}

/** RFC 4456 §9: a reflected route's ORIGINATOR_ID stands in for the router id. */
function routerId(p: Path): number {
  return (p.attrs.originatorId ?? p.source.routerId) >>> 0;
}

function compareBytes(a: Buffer, b: Buffer): number {
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
}

/**
 * RFC 4271 §9.1.2.2 c: MED is compared only between paths from the same
 * neighbouring AS; a path is removed if another from its AS has a lower MED.
 */
function keepLowestMedPerAs(c: readonly Path[]): readonly Path[] {
  const minByAs = new Map<number, number>();
  const asOf = (p: Path): number => (p.source.local ? -1 : (firstAs(p.attrs.asPath ?? []) ?? p.source.asn));
  for (const p of c) {
    const med = p.attrs.med ?? 0;
    const as = asOf(p);
    const m = minByAs.get(as);
    if (m === undefined || med < m) minByAs.set(as, med);
  }
  return c.filter((p) => (p.attrs.med ?? 0) === minByAs.get(asOf(p)));
}

/**
 * The decision process in FRR's order for what vmmi has: LOCAL_PREF, locally
 * originated, AS_PATH length, ORIGIN, MED, eBGP over iBGP, router id /
 * ORIGINATOR_ID, CLUSTER_LIST length (RFC 4456 §9), peer address.
 */
export const DECISION_STEPS: readonly Step[] = [
  { reason: 'local-pref', keep: keepBy((p) => p.attrs.localPref ?? DEFAULT_LOCAL_PREF, 'max') },
  { reason: 'local-origin', keep: keepBy((p) => (p.source.local ? 1 : 0), 'max') },
  { reason: 'as-path-len', keep: keepBy((p) => asPathLength(p.attrs.asPath ?? []), 'min') },
  { reason: 'origin', keep: keepBy((p) => p.attrs.origin ?? 2, 'min') },
  { reason: 'med', keep: keepLowestMedPerAs },
  { reason: 'ebgp-over-ibgp', keep: keepBy((p) => (p.source.ibgp || p.source.local ? 0 : 1), 'max') },
  { reason: 'router-id', keep: keepBy(routerId, 'min') },
  { reason: 'cluster-list', keep: keepBy((p) => p.attrs.clusterList?.length ?? 0, 'min') },
  {
    reason: 'peer-address',
    keep: (c) => {
      let best = c[0]!;
      for (const p of c) if (compareBytes(p.source.address, best.source.address) < 0) best = p;
      return [best];
    },
  },
];

/**
 * EVPN: RFC 7432 §15 MAC mobility decides between advertisements of one MAC/IP
 * before anything else (src/evpn/mobility.ts holds the rules).
 */
export const EVPN_DECISION_STEPS: readonly Step[] = [
  { reason: 'mac-mobility-sticky', keep: keepSticky },
  { reason: 'mac-mobility-seq', keep: keepNewest },
  { reason: 'mac-mobility-lower-ip', keep: keepLowestOriginator },
  ...DECISION_STEPS,
];

/**
 * Picks the best path and says why each other one lost. Pure: the same paths
 * give the same answer in any order. `steps` lets a family put its own rules
 * first (EVPN MAC mobility does).
 */
export function decide(paths: readonly Path[], steps: readonly Step[] = DECISION_STEPS): Decision {
  const losers = new Map<Path, Reason>();
  if (paths.length === 0) return { best: undefined, losers };
  let candidates: readonly Path[] = paths;
  for (const step of steps) {
    if (candidates.length === 1) break;
    const kept = step.keep(candidates);
    if (kept.length === candidates.length) continue;
    const keptSet = new Set(kept);
    for (const p of candidates) if (!keptSet.has(p)) losers.set(p, step.reason);
    candidates = kept;
  }
  return { best: candidates[0], losers };
}

export type { Step as DecisionStep };
