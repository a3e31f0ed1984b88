import { Subject } from 'rxjs';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import type { FamilyKey } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { type Decision, type DecisionStep, decide } from './decision.js';
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

/**
 * Adj-RIB-In of every source and the Loc-RIB, per family (RFC 4271 §3.2).
 * Knows nothing of sessions: callers hand it paths and withdrawals, and it
 * reports best-path changes on `changes$`.
 */
export class Rib {
  readonly changes$ = new Subject<BestChange>();
  readonly interner = new AttrInterner();
  private readonly loc = new Map<FamilyKey, Map<string, Destination>>();
  /** Per source, per family: its paths keyed by NLRI key (+ path id). */
  private readonly adjIn = new Map<string, Map<FamilyKey, Map<string, Path>>>();
  private readonly stepsByFamily = new Map<FamilyKey, readonly DecisionStep[]>();

  /** Lets a family put rules of its own in front of the decision process. */
  setDecisionSteps(family: FamilyKey, steps: readonly DecisionStep[]): void {
    this.stepsByFamily.set(family, steps);
  }

  /** Installs or replaces the path `source` has for `nlri` (an implicit withdraw of the old one). */
  announce(source: PathSource, family: FamilyKey, nlri: Nlri, attrs: PathAttributes, stale = false): void {
    const shared = this.interner.intern(attrs);
    const table = this.adjInTable(source.id, family, true)!;
    const adjKey = nlri.pathId === 0 ? nlri.key : `${nlri.key}#${nlri.pathId}`;
    const old = table.get(adjKey);
    if (old && old.attrs === shared && !old.stale && !stale) {
      this.interner.release(shared);
      return;
    }
    const path: Path = { family, nlri, attrs: shared, source, stale };
    table.set(adjKey, path);
    const dest = this.destination(family, nlri.key, true)!;
    if (old) {
      const i = dest.paths.indexOf(old);
      if (i >= 0) dest.paths[i] = path;
      else dest.paths.push(path);
      this.interner.release(old.attrs);
    } else {
      dest.paths.push(path);
    }
    this.reselect(dest, nlri);
  }

  withdraw(sourceId: string, family: FamilyKey, nlri: Nlri): void {
    const table = this.adjInTable(sourceId, family, false);
    const adjKey = nlri.pathId === 0 ? nlri.key : `${nlri.key}#${nlri.pathId}`;
    const old = table?.get(adjKey);
    if (!table || !old) return;
    table.delete(adjKey);
    this.removePath(old);
  }

  /** Removes every path of a source, e.g. when its session goes down. */
  dropSource(sourceId: string, family?: FamilyKey): number {
    const bySource = this.adjIn.get(sourceId);
    if (!bySource) return 0;
    let n = 0;
    for (const [f, table] of bySource) {
      if (family !== undefined && f !== family) continue;
      for (const p of table.values()) {
        this.removePath(p);
        n++;
      }
      bySource.delete(f);
    }
    if (bySource.size === 0) this.adjIn.delete(sourceId);
    return n;
  }

  best(family: FamilyKey, key: string): Path | undefined {
    return this.loc.get(family)?.get(key)?.best;
  }

  destination(family: FamilyKey, key: string, create = false): Destination | undefined {
    let table = this.loc.get(family);
    if (!table) {
      if (!create) return undefined;
      table = new Map();
      this.loc.set(family, table);
    }
    let d = table.get(key);
    if (!d && create) {
      d = { family, key, paths: [], best: undefined };
      table.set(key, d);
    }
    return d;
  }

  /** The Loc-RIB of a family, in insertion order. */
  destinations(family: FamilyKey): IterableIterator<Destination> {
    return (this.loc.get(family) ?? new Map<string, Destination>()).values();
  }

  families(): FamilyKey[] {
    return [...this.loc.keys()];
  }

  /** A source's Adj-RIB-In for one family. */
  adjRibIn(sourceId: string, family: FamilyKey): ReadonlyMap<string, Path> {
    return this.adjInTable(sourceId, family, false) ?? new Map();
  }

  /** Re-runs the decision for one destination and says why each path lost. */
  explain(family: FamilyKey, key: string): Decision {
    const d = this.destination(family, key);
    return decide(d?.paths ?? [], this.stepsByFamily.get(family));
  }

  count(family: FamilyKey): number {
    return this.loc.get(family)?.size ?? 0;
  }

  private adjInTable(sourceId: string, family: FamilyKey, create: boolean): Map<string, Path> | undefined {
    let bySource = this.adjIn.get(sourceId);
    if (!bySource) {
      if (!create) return undefined;
      bySource = new Map();
      this.adjIn.set(sourceId, bySource);
    }
    let table = bySource.get(family);
    if (!table && create) {
      table = new Map();
      bySource.set(family, table);
    }
    return table;
  }

  private removePath(old: Path): void {
    const dest = this.destination(old.family, old.nlri.key);
    this.interner.release(old.attrs);
    if (!dest) return;
    const i = dest.paths.indexOf(old);
    if (i >= 0) dest.paths.splice(i, 1);
    this.reselect(dest, old.nlri);
    if (dest.paths.length === 0) this.loc.get(old.family)?.delete(old.nlri.key);
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
