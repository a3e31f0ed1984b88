import { Subject } from '../core/rx.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { type FamilyKey, L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { type Decision, type DecisionStep, EVPN_DECISION_STEPS, decide } from './decision.js';
import { AttrInterner } from './intern.js';
import { LOCAL_SOURCE_ID, type Path, type PathSource } from './path.js';

/** All paths to one destination and the best of them. */
export interface Destination {
  readonly family: FamilyKey;
  readonly key: string;
  readonly paths: Path[];
  best: Path | undefined;
}

/** A change of best path, emitted once per destination whose best changed. */
export interface BestChange {
  readonly family: FamilyKey;
  readonly nlri: Nlri;
  /** Undefined when the destination is gone. */
  readonly best: Path | undefined;
  readonly previous: Path | undefined;
}

function samePath(p: Path, sourceId: string, pathId: number): boolean {
  return p.source.id === sourceId && p.nlri.pathId === pathId;
}

/**
 * Adj-RIB-In of every source and the Loc-RIB, per family (RFC 4271 §3.2).
 * A source's Adj-RIB-In entry lives in the destination's path list, so a
 * route costs one Map lookup, not two; the lists are short (one path per
 * peer that has the route). Knows nothing of sessions: callers hand it paths
 * and withdrawals, and it reports best-path changes on `changes$`.
 */
export class Rib {
  readonly changes$ = new Subject<BestChange>();
  readonly interner = new AttrInterner();
  private readonly loc = new Map<FamilyKey, Map<string, Destination>>();
  /** Paths per source and family, for counters. */
  private readonly counts = new Map<string, Map<FamilyKey, number>>();
  private readonly stepsByFamily = new Map<FamilyKey, readonly DecisionStep[]>([[L2VPN_EVPN, EVPN_DECISION_STEPS]]);

  /** Lets a family put rules of its own in front of the decision process. */
  setDecisionSteps(family: FamilyKey, steps: readonly DecisionStep[]): void {
    this.stepsByFamily.set(family, steps);
  }

  /** Installs or replaces the path `source` has for `nlri` (an implicit withdraw of the old one). */
  announce(source: PathSource, family: FamilyKey, nlri: Nlri, attrs: PathAttributes, stale = false): void {
    let table = this.loc.get(family);
    if (!table) {
      table = new Map();
      this.loc.set(family, table);
    }
    const dest = table.get(nlri.key);
    if (!dest) {
      const path: Path = { family, nlri, attrs: this.interner.intern(attrs), source, stale };
      // Created with its one path: an empty array grown by push() reserves 17 slots.
      const d: Destination = { family, key: nlri.key, paths: [path], best: undefined };
      table.set(nlri.key, d);
      this.tally(source.id, family, 1);
      this.reselect(d, nlri);
      return;
    }
    const i = dest.paths.findIndex((p) => samePath(p, source.id, nlri.pathId));
    const old = i >= 0 ? dest.paths[i] : undefined;
    const shared = this.interner.intern(attrs);
    if (old && old.attrs === shared && !old.stale && !stale) {
      this.interner.release(shared);
      return;
    }
    const path: Path = { family, nlri, attrs: shared, source, stale };
    if (old) {
      dest.paths[i] = path;
      this.interner.release(old.attrs);
    } else {
      dest.paths.push(path);
      this.tally(source.id, family, 1);
    }
    this.reselect(dest, nlri);
  }

  withdraw(sourceId: string, family: FamilyKey, nlri: Nlri): void {
    const dest = this.loc.get(family)?.get(nlri.key);
    if (!dest) return;
    const i = dest.paths.findIndex((p) => samePath(p, sourceId, nlri.pathId));
    if (i >= 0) this.removeAt(dest, i);
  }

  /** Removes every path of a source, e.g. when its session goes down; returns how many. */
  dropSource(sourceId: string, family?: FamilyKey): number {
    const families = new Set(family !== undefined ? [family] : this.counts.get(sourceId)?.keys() ?? []);
    let n = 0;
    this.forEachPathOf(sourceId, families, (dest, i) => {
      this.removeAt(dest, i);
      n++;
    });
    return n;
  }

  /**
   * RFC 4724 §4.2: keeps a restarting peer's paths, marked stale, until it
   * re-advertises them or they are swept. Returns how many were marked.
   */
  markStale(sourceId: string, families: ReadonlySet<FamilyKey>): number {
    let n = 0;
    this.forEachPathOf(sourceId, families, (dest, i) => {
      const p = dest.paths[i]!;
      if (p.stale) return;
      const stale: Path = { ...p, stale: true };
      dest.paths[i] = stale;
      if (dest.best === p) dest.best = stale;
      n++;
    });
    return n;
  }

  /** Removes the source's paths that are still stale (End-of-RIB or a timer came). */
  sweepStale(sourceId: string, families: ReadonlySet<FamilyKey>): number {
    let n = 0;
    this.forEachPathOf(sourceId, families, (dest, i) => {
      if (!dest.paths[i]!.stale) return;
      this.removeAt(dest, i);
      n++;
    });
    return n;
  }

  /** Visits a source's paths, last first so the visitor may remove the one it is given. */
  private forEachPathOf(sourceId: string, families: ReadonlySet<FamilyKey>, visit: (dest: Destination, i: number) => void): void {
    const bySource = this.counts.get(sourceId);
    if (!bySource) return;
    for (const f of [...bySource.keys()]) {
      if (!families.has(f)) continue;
      for (const dest of [...(this.loc.get(f)?.values() ?? [])]) {
        for (let i = dest.paths.length - 1; i >= 0; i--) if (dest.paths[i]!.source.id === sourceId) visit(dest, i);
      }
    }
  }

  /** The path a source has for a destination, if any. */
  pathOf(sourceId: string, family: FamilyKey, nlri: Nlri): Path | undefined {
    return this.loc.get(family)?.get(nlri.key)?.paths.find((p) => samePath(p, sourceId, nlri.pathId));
  }

  best(family: FamilyKey, key: string): Path | undefined {
    return this.loc.get(family)?.get(key)?.best;
  }

  destination(family: FamilyKey, key: string): Destination | undefined {
    return this.loc.get(family)?.get(key);
  }

  /** The Loc-RIB of a family, in insertion order. */
  destinations(family: FamilyKey): IterableIterator<Destination> {
    return (this.loc.get(family) ?? new Map<string, Destination>()).values();
  }

  families(): FamilyKey[] {
    return [...this.loc.keys()];
  }

  /** How many paths a source has in a family (its Adj-RIB-In size). */
  sourceCount(sourceId: string, family: FamilyKey): number {
    return this.counts.get(sourceId)?.get(family) ?? 0;
  }

  /** Re-runs the decision for one destination and says why each path lost. */
  explain(family: FamilyKey, key: string): Decision {
    return decide(this.destination(family, key)?.paths ?? [], this.stepsByFamily.get(family));
  }

  count(family: FamilyKey): number {
    return this.loc.get(family)?.size ?? 0;
  }

  private tally(sourceId: string, family: FamilyKey, delta: number): void {
    let bySource = this.counts.get(sourceId);
    if (!bySource) {
      bySource = new Map();
      this.counts.set(sourceId, bySource);
    }
    const n = (bySource.get(family) ?? 0) + delta;
    if (n > 0) bySource.set(family, n);
    else bySource.delete(family);
    if (bySource.size === 0) this.counts.delete(sourceId);
  }

  private removeAt(dest: Destination, i: number): void {
    const old = dest.paths[i]!;
    dest.paths.splice(i, 1);
    this.interner.release(old.attrs);
    this.tally(old.source.id, dest.family, -1);
    this.reselect(dest, old.nlri);
    if (dest.paths.length === 0) this.loc.get(dest.family)?.delete(dest.key);
  }

  private reselect(dest: Destination, nlri: Nlri): void {
    const previous = dest.best;
    const next =
      dest.paths.length <= 1 ? dest.paths[0] : decide(dest.paths, this.stepsByFamily.get(dest.family)).best;
    dest.best = next;
    if (next !== previous) this.changes$.next({ family: dest.family, nlri: next?.nlri ?? nlri, best: next, previous });
  }
}

export { LOCAL_SOURCE_ID };
