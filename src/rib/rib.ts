import { Subject } from '../core/rx.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { type FamilyKey, L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { type Decision, type DecisionStep, EVPN_DECISION_STEPS, decide } from './decision.js';
import { AttrInterner } from './intern.js';
import { LOCAL_SOURCE_ID, type Path, type PathSource } from './path.js';

/** All paths to one destination and the best of them (a read-only view). */
export interface Destination {
  readonly family: FamilyKey;
  readonly key: string;
  readonly paths: readonly Path[];
  readonly best: Path | undefined;
}

/**
 * A destination with more than one path. Most destinations of a reflector
 * have exactly one, and the table then holds that Path itself: a separate
 * object and array for it would cost ~110 bytes a route, a quarter of what
 * a reflected EVPN route costs in all.
 */
class Contest {
  constructor(
    readonly paths: Path[],
    public best: Path | undefined,
  ) {}
}

type Slot = Path | Contest;

function pathsOf(slot: Slot): readonly Path[] {
  return slot instanceof Contest ? slot.paths : [slot];
}

function bestOf(slot: Slot): Path | undefined {
  return slot instanceof Contest ? slot.best : slot;
}

function view(family: FamilyKey, key: string, slot: Slot): Destination {
  return { family, key, paths: pathsOf(slot), best: bestOf(slot) };
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
  private readonly loc = new Map<FamilyKey, Map<string, Slot>>();
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
    const slot = table.get(nlri.key);
    if (slot === undefined) {
      const path: Path = { family, nlri, attrs: this.interner.intern(attrs), source, stale };
      table.set(nlri.key, path);
      this.tally(source.id, family, 1);
      this.changes$.next({ family, nlri, best: path, previous: undefined });
      return;
    }
    const paths = pathsOf(slot);
    const i = paths.findIndex((p) => samePath(p, source.id, nlri.pathId));
    const old = i >= 0 ? paths[i] : undefined;
    const shared = this.interner.intern(attrs);
    if (old && old.attrs === shared && !old.stale && !stale) {
      this.interner.release(shared);
      return;
    }
    const path: Path = { family, nlri, attrs: shared, source, stale };
    if (old) this.interner.release(old.attrs);
    else this.tally(source.id, family, 1);
    if (!(slot instanceof Contest)) {
      if (old) {
        table.set(nlri.key, path);
        this.changes$.next({ family, nlri, best: path, previous: slot });
      } else {
        // Created with both paths: an empty array grown by push() reserves 17 slots.
        this.reselect(table, family, nlri, new Contest([slot, path], slot));
      }
      return;
    }
    if (old) slot.paths[i] = path;
    else slot.paths.push(path);
    this.reselect(table, family, nlri, slot);
  }

  withdraw(sourceId: string, family: FamilyKey, nlri: Nlri): void {
    const table = this.loc.get(family);
    const slot = table?.get(nlri.key);
    if (!table || !slot) return;
    const i = pathsOf(slot).findIndex((p) => samePath(p, sourceId, nlri.pathId));
    if (i >= 0) this.removeAt(table, family, nlri.key, slot, i);
  }

  /** Removes every path of a source, e.g. when its session goes down; returns how many. */
  dropSource(sourceId: string, family?: FamilyKey): number {
    const families = new Set(family !== undefined ? [family] : this.counts.get(sourceId)?.keys() ?? []);
    let n = 0;
    this.forEachPathOf(sourceId, families, (table, f, key, slot, i) => {
      this.removeAt(table, f, key, slot, i);
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
    this.forEachPathOf(sourceId, families, (table, _f, key, slot, i) => {
      const p = pathsOf(slot)[i]!;
      if (p.stale) return;
      const stale: Path = { ...p, stale: true };
      if (slot instanceof Contest) {
        slot.paths[i] = stale;
        if (slot.best === p) slot.best = stale;
      } else {
        table.set(key, stale);
      }
      n++;
    });
    return n;
  }

  /** Removes the source's paths that are still stale (End-of-RIB or a timer came). */
  sweepStale(sourceId: string, families: ReadonlySet<FamilyKey>): number {
    let n = 0;
    this.forEachPathOf(sourceId, families, (table, f, key, slot, i) => {
      if (!pathsOf(slot)[i]!.stale) return;
      this.removeAt(table, f, key, slot, i);
      n++;
    });
    return n;
  }

  /** Visits a source's paths, last first so the visitor may remove or replace the one it is given. */
  private forEachPathOf(
    sourceId: string,
    families: ReadonlySet<FamilyKey>,
    visit: (table: Map<string, Slot>, family: FamilyKey, key: string, slot: Slot, i: number) => void,
  ): void {
    const bySource = this.counts.get(sourceId);
    if (!bySource) return;
    for (const f of [...bySource.keys()]) {
      const table = this.loc.get(f);
      if (!families.has(f) || !table) continue;
      // Keys first: visiting changes the table.
      for (const key of [...table.keys()]) {
        const slot = table.get(key);
        if (slot === undefined) continue;
        const paths = pathsOf(slot);
        for (let i = paths.length - 1; i >= 0; i--) {
          // A removal may have turned a contest into a single path: read the slot again.
          const now = table.get(key);
          if (now === undefined) break;
          const p = pathsOf(now)[i];
          if (p?.source.id === sourceId) visit(table, f, key, now, i);
        }
      }
    }
  }

  /** The path a source has for a destination, if any. */
  pathOf(sourceId: string, family: FamilyKey, nlri: Nlri): Path | undefined {
    const slot = this.loc.get(family)?.get(nlri.key);
    return slot === undefined ? undefined : pathsOf(slot).find((p) => samePath(p, sourceId, nlri.pathId));
  }

  best(family: FamilyKey, key: string): Path | undefined {
    const slot = this.loc.get(family)?.get(key);
    return slot === undefined ? undefined : bestOf(slot);
  }

  destination(family: FamilyKey, key: string): Destination | undefined {
    const slot = this.loc.get(family)?.get(key);
    return slot === undefined ? undefined : view(family, key, slot);
  }

  /** The Loc-RIB of a family, in insertion order. */
  *destinations(family: FamilyKey): Generator<Destination> {
    for (const [key, slot] of this.loc.get(family) ?? []) yield view(family, key, slot);
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
    const slot = this.loc.get(family)?.get(key);
    return decide(slot === undefined ? [] : pathsOf(slot), this.stepsByFamily.get(family));
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

  private removeAt(table: Map<string, Slot>, family: FamilyKey, key: string, slot: Slot, i: number): void {
    const old = pathsOf(slot)[i]!;
    this.interner.release(old.attrs);
    this.tally(old.source.id, family, -1);
    if (!(slot instanceof Contest)) {
      table.delete(key);
      this.changes$.next({ family, nlri: old.nlri, best: undefined, previous: old });
      return;
    }
    slot.paths.splice(i, 1);
    this.reselect(table, family, old.nlri, slot);
  }

  /** Decides a contest again, and keeps a lone survivor as a plain path. */
  private reselect(table: Map<string, Slot>, family: FamilyKey, nlri: Nlri, contest: Contest): void {
    const previous = contest.best;
    const next = contest.paths.length <= 1 ? contest.paths[0] : decide(contest.paths, this.stepsByFamily.get(family)).best;
    contest.best = next;
    const [first] = contest.paths;
    if (first === undefined) table.delete(nlri.key);
    else table.set(nlri.key, contest.paths.length === 1 ? first : contest);
    if (next !== previous) this.changes$.next({ family, nlri: next?.nlri ?? nlri, best: next, previous });
  }
}

export { LOCAL_SOURCE_ID };
