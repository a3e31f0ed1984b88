import type { PathAttributes } from '../bgp/wire/attributes.js';
import type { FamilyKey } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';

/** One route as this peer knows it: what it was sent, and what it is owed next. */
interface Entry {
  nlri: Nlri;
  /** The attributes last sent; undefined when the peer does not have the route. */
  sent: PathAttributes | undefined;
  /** The state to send next: attributes, or null to withdraw. */
  want: PathAttributes | null;
  /** In the family's queue (at most once however often it changes). */
  queued: boolean;
  /** Queued even if `want` equals `sent` (route refresh). */
  force: boolean;
}

interface FamilyOut {
  readonly entries: Map<string, Entry>;
  /** Entries to look at, oldest first; `head` is the next one. */
  queue: Entry[];
  head: number;
}

/** A slice of pending work for one family: announcements grouped by attribute set, and withdrawals. */
export interface OutBatch {
  readonly family: FamilyKey;
  readonly announce: Map<PathAttributes, Nlri[]>;
  readonly withdraw: Nlri[];
}

/**
 * What one peer has been sent (RFC 4271 §3.2 Adj-RIB-Out) and what it is
 * still owed, in one Map entry per route. Changes coalesce in the entry, so
 * the queue never holds a route twice however fast it changes: a slow peer
 * costs memory bounded by the table, not by the churn.
 */
export class AdjRibOut {
  private readonly families = new Map<FamilyKey, FamilyOut>();
  private pendingCount = 0;

  private family(f: FamilyKey): FamilyOut {
    let out = this.families.get(f);
    if (!out) {
      out = { entries: new Map(), queue: [], head: 0 };
      this.families.set(f, out);
    }
    return out;
  }

  /** Queues the route's new state (attrs, or null to withdraw); nothing is queued if the peer already has it. */
  stage(family: FamilyKey, nlri: Nlri, attrs: PathAttributes | null): void {
    const out = this.family(family);
    let e = out.entries.get(nlri.key);
    if (!e) {
      // A withdraw of a route the peer never had costs nothing, not even an entry.
      if (attrs === null) return;
      e = { nlri, sent: undefined, want: attrs, queued: false, force: false };
      out.entries.set(nlri.key, e);
    } else {
      e.nlri = nlri;
      e.want = attrs;
    }
    if (!e.queued) this.enqueue(out, e);
  }

  private enqueue(out: FamilyOut, e: Entry): void {
    e.queued = true;
    out.queue.push(e);
    this.pendingCount++;
  }

  /** How many routes wait in the queues (an upper bound on what is owed). */
  get pendingSize(): number {
    return this.pendingCount;
  }

  hasPending(family?: FamilyKey): boolean {
    if (family === undefined) return this.pendingCount > 0;
    const out = this.families.get(family);
    return out !== undefined && out.head < out.queue.length;
  }

  /** Takes up to `max` pending changes of one family and records them as sent. */
  take(max: number): OutBatch | undefined {
    for (const [family, out] of this.families) {
      if (out.head >= out.queue.length) continue;
      const batch: OutBatch = { family, announce: new Map(), withdraw: [] };
      let n = 0;
      while (n < max && out.head < out.queue.length) {
        const e = out.queue[out.head++]!;
        e.queued = false;
        this.pendingCount--;
        const force = e.force;
        e.force = false;
        if (e.want === null) {
          out.entries.delete(e.nlri.key);
          if (e.sent === undefined) continue;
          batch.withdraw.push(e.nlri);
        } else {
          // A change undone before it left (want back to what was sent) is dropped.
          if (e.want === e.sent && !force) continue;
          e.sent = e.want;
          const group = batch.announce.get(e.want);
          if (group) group.push(e.nlri);
          else batch.announce.set(e.want, [e.nlri]);
        }
        n++;
      }
      if (out.head === out.queue.length) {
        out.queue = [];
        out.head = 0;
      } else if (out.head > 65_536 && out.head * 2 > out.queue.length) {
        // Drop the consumed front now and then, so the array does not only grow.
        out.queue = out.queue.slice(out.head);
        out.head = 0;
      }
      if (n > 0) return batch;
    }
    return undefined;
  }

  /** The routes of a family the peer has been sent, with the attributes they were sent with (read-only view). */
  *sent(family: FamilyKey): Generator<{ readonly nlri: Nlri; readonly attrs: PathAttributes }> {
    for (const e of this.families.get(family)?.entries.values() ?? []) if (e.sent !== undefined) yield { nlri: e.nlri, attrs: e.sent };
  }

  /** How many routes of a family the peer has been sent. */
  sentCount(family: FamilyKey): number {
    let n = 0;
    for (const e of this.families.get(family)?.entries.values() ?? []) if (e.sent !== undefined) n++;
    return n;
  }

  /** RFC 2918 route refresh: everything the peer has is sent again (newer pending changes win). */
  resend(family: FamilyKey): void {
    const out = this.families.get(family);
    if (!out) return;
    for (const e of out.entries.values()) {
      if (e.sent === undefined) continue;
      e.force = true;
      if (!e.queued) {
        e.want = e.sent;
        this.enqueue(out, e);
      }
    }
  }

  /**
   * An independent copy: what was sent and what is still owed, in the same
   * order. A member split off a shared Outbound carries on from here.
   */
  clone(): AdjRibOut {
    const c = new AdjRibOut();
    for (const [family, out] of this.families) {
      const copies = new Map<Entry, Entry>();
      const entries = new Map<string, Entry>();
      for (const [key, e] of out.entries) {
        const copy = { ...e };
        copies.set(e, copy);
        entries.set(key, copy);
      }
      const queue = out.queue.slice(out.head).map((e) => copies.get(e) ?? { ...e });
      c.families.set(family, { entries, queue, head: 0 });
      c.pendingCount += queue.length;
    }
    return c;
  }

  clear(): void {
    this.families.clear();
    this.pendingCount = 0;
  }
}
