/**
 * Tells a watcher when chosen routes leave in UPDATEs, and to which peers:
 * how a VM move's trace learns when each peer was sent the new location and
 * the withdrawal of the old one. Costs one size check per written batch
 * while nothing is watched.
 */
import type { FamilyKey } from '../wire/family.js';
import type { Nlri } from '../wire/nlri.js';

export interface SentEvent {
  readonly family: FamilyKey;
  readonly key: string;
  readonly withdrawn: boolean;
  /** Peer ids the UPDATE was written to. */
  readonly peers: readonly string[];
  readonly at: number;
}

type Watcher = (e: SentEvent) => void;

const idOf = (family: FamilyKey, key: string): string => `${family}|${key}`;

export class SentProbe {
  private readonly watched = new Map<string, Set<Watcher>>();

  get active(): boolean {
    return this.watched.size > 0;
  }

  /** Calls `fn` each time the route is written; the returned function stops it. */
  watch(family: FamilyKey, key: string, fn: Watcher): () => void {
    const id = idOf(family, key);
    let set = this.watched.get(id);
    if (!set) {
      set = new Set();
      this.watched.set(id, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.watched.get(id) === set) this.watched.delete(id);
    };
  }

  /** Called by an Outbound after it wrote these routes to `peers`. */
  sent(family: FamilyKey, routes: readonly Nlri[], withdrawn: boolean, peers: readonly string[], at: number): void {
    for (const r of routes) {
      const set = this.watched.get(idOf(family, r.key));
      if (set) for (const fn of [...set]) fn({ family, key: r.key, withdrawn, peers, at });
    }
  }
}
