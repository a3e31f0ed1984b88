import type { PathAttributes } from '../bgp/wire/attributes.js';
import type { FamilyKey } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';

interface Pending {
  readonly nlri: Nlri;
  /** null: withdraw. */
  readonly attrs: PathAttributes | null;
}

/** A slice of pending work for one family: announcements grouped by attribute set, and withdrawals. */
export interface OutBatch {
  readonly family: FamilyKey;
  readonly announce: Map<PathAttributes, Nlri[]>;
  readonly withdraw: Nlri[];
}

/**
 * What one peer has been sent (RFC 4271 §3.2 Adj-RIB-Out) and what it is
 * still owed. Pending changes are coalesced per destination, so the queue
 * never holds more than one entry per route however fast routes change: a
 * slow peer costs memory bounded by the table, not by the churn.
 */
export class AdjRibOut {
  private readonly sent = new Map<FamilyKey, Map<string, Pending & { readonly attrs: PathAttributes }>>();
  private readonly pending = new Map<FamilyKey, Map<string, Pending>>();
  private pendingCount = 0;

  /** Queues the route's new state (attrs, or null to withdraw); drops it if the peer already has it. */
  stage(family: FamilyKey, nlri: Nlri, attrs: PathAttributes | null): void {
    let queue = this.pending.get(family);
    if (!queue) {
      queue = new Map();
      this.pending.set(family, queue);
    }
    const had = this.sent.get(family)?.get(nlri.key)?.attrs;
    const before = queue.size;
    const sameAsSent = attrs === null ? had === undefined : had === attrs;
    if (!sameAsSent) queue.set(nlri.key, { nlri, attrs });
    // A change undone before it left is dropped; a queued resend (equal to what was sent) stays.
    else if (queue.get(nlri.key)?.attrs !== had) queue.delete(nlri.key);
    this.pendingCount += queue.size - before;
  }

  get pendingSize(): number {
    return this.pendingCount;
  }

  hasPending(family?: FamilyKey): boolean {
    if (family === undefined) return this.pendingCount > 0;
    return (this.pending.get(family)?.size ?? 0) > 0;
  }

  /** Takes up to `max` pending changes of one family and records them as sent. */
  take(max: number): OutBatch | undefined {
    for (const [family, queue] of this.pending) {
      if (queue.size === 0) continue;
      let sent = this.sent.get(family);
      if (!sent) {
        sent = new Map();
        this.sent.set(family, sent);
      }
      const batch: OutBatch = { family, announce: new Map(), withdraw: [] };
      let n = 0;
      for (const [key, p] of queue) {
        if (n++ >= max) break;
        queue.delete(key);
        this.pendingCount--;
        if (p.attrs === null) {
          sent.delete(key);
          batch.withdraw.push(p.nlri);
        } else {
          sent.set(key, { nlri: p.nlri, attrs: p.attrs });
          const group = batch.announce.get(p.attrs);
          if (group) group.push(p.nlri);
          else batch.announce.set(p.attrs, [p.nlri]);
        }
      }
      return batch;
    }
    return undefined;
  }

  /** How many routes of a family the peer has been sent. */
  sentCount(family: FamilyKey): number {
    return this.sent.get(family)?.size ?? 0;
  }

  sentRoutes(family: FamilyKey): IterableIterator<{ readonly nlri: Nlri; readonly attrs: PathAttributes }> {
    return (this.sent.get(family) ?? new Map<string, Pending & { readonly attrs: PathAttributes }>()).values();
  }

  /**
   * Queues everything the peer has been sent again (RFC 2918 route refresh).
   * Changes already pending stay as they are: they are newer.
   */
  resend(family: FamilyKey): void {
    const sent = this.sent.get(family);
    if (!sent) return;
    let queue = this.pending.get(family);
    if (!queue) {
      queue = new Map();
      this.pending.set(family, queue);
    }
    for (const [key, entry] of sent) {
      if (queue.has(key)) continue;
      queue.set(key, entry);
      this.pendingCount++;
    }
  }

  clear(): void {
    this.sent.clear();
    this.pending.clear();
    this.pendingCount = 0;
  }
}
