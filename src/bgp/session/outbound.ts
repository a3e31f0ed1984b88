import type { Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { AdjRibOut } from '../../rib/adj-rib-out.js';
import type { Path } from '../../rib/path.js';
import type { Rib } from '../../rib/rib.js';
import type { UpdateGroup } from '../../rib/update-groups.js';
import type { PathAttributes } from '../wire/attributes.js';
import { type FamilyKey, IPV4_UNICAST } from '../wire/family.js';
import type { Nlri } from '../wire/nlri.js';
import { type PackOptions, encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../wire/update-encode.js';
import type { SentProbe } from './sent-probe.js';

/** How many pending route changes one pass encodes before checking the sockets again. */
const BATCH = 2048;
/** A pass yields to the event loop after this long, so input and timers keep flowing. */
const SLICE_MS = 8;

interface Member {
  readonly id: string;
  readonly socket: Socket;
  /** Waiting for this socket's 'drain'. */
  blocked: boolean;
  stuckTimer?: NodeJS.Timeout;
}

/**
 * The sending side of one or more Established sessions of an update group:
 * what they are owed (one coalescing Adj-RIB-Out), the group's export policy,
 * and a writer that packs many NLRI per UPDATE, encodes each message once and
 * writes it to every member. A new session starts with an Outbound of its own
 * (its initial table and End-of-RIB) and joins the group's shared one when both
 * are idle, that is when both have sent the whole current table.
 *
 * Memory stays bounded: at most one pending entry per route plus one batch of
 * encoded bytes beyond each socket's high-water mark; the group waits for its
 * slowest member's 'drain'.
 *
 * Only route-reflector clients share an Outbound: its export has no split
 * horizon, so a reflected route goes back to the client it came from too,
 * which drops it on its own ORIGINATOR_ID (RFC 4456 §8), as with FRR's update
 * groups. Other sessions keep an Outbound of their own with split horizon
 * (echoing an eBGP route back with our next hop makes FRR reset the session
 * when that next hop is one it calls martian).
 */
export class Outbound {
  readonly adjOut: AdjRibOut;
  private readonly members = new Map<string, Member>();
  private readonly eorDue = new Set<FamilyKey>();
  /** Messages to send once a family has nothing pending (EoRR of RFC 7313). */
  private readonly markers: { family: FamilyKey; message: Buffer }[] = [];
  private readonly sub: Subscription;
  private scheduled = false;
  private blockedCount = 0;
  private closed = false;
  /** Called after a pass that left nothing to send. */
  onIdle?: () => void;
  /** Called when a member has not drained for `stuckMs`: the others should not wait for it. */
  onStuck?: (id: string) => void;
  updatesSent = 0;
  routesAnnounced = 0;
  routesWithdrawn = 0;

  constructor(
    rib: Rib,
    private readonly group: UpdateGroup,
    readonly families: ReadonlySet<FamilyKey>,
    readonly pack: PackOptions,
    /** Split horizon: routes from this peer are not sent; '' for a shared Outbound (no split horizon). */
    private readonly exportFor: string,
    /** Where a member split off a shared Outbound carries on from. */
    adjOut?: AdjRibOut,
    /** A member blocked this long is reported to `onStuck`. */
    private readonly stuckMs = 5_000,
    /** Told which watched routes were written, to whom, when. */
    private readonly probe?: SentProbe,
  ) {
    this.adjOut = adjOut ?? new AdjRibOut();
    this.sub = rib.changes$.subscribe((ch) => this.bestChanged(ch.family, ch.nlri, ch.best));
  }

  get size(): number {
    return this.members.size;
  }

  addMember(id: string, socket: Socket): void {
    const m: Member = { id, socket, blocked: false };
    this.members.set(id, m);
    // A member that comes with a full buffer (split off a group) is waited for first.
    if (socket.writableNeedDrain) this.block(m);
    else if (this.adjOut.hasPending()) this.schedule();
  }

  removeMember(id: string): void {
    const m = this.members.get(id);
    if (!m) return;
    this.members.delete(id);
    if (m.blocked) {
      m.blocked = false;
      clearTimeout(m.stuckTimer);
      this.unblock();
    }
  }

  /** Nothing pending and nothing waiting on a socket: every member has the whole current state. */
  idle(): boolean {
    return !this.adjOut.hasPending() && this.eorDue.size === 0 && this.markers.length === 0 && this.blockedCount === 0;
  }

  /** Stages a best-path change of the Loc-RIB. */
  bestChanged(family: FamilyKey, nlri: Nlri, best: Path | undefined): void {
    if (this.closed || !this.families.has(family)) return;
    this.adjOut.stage(family, nlri, best ? this.group.exported(best, this.exportFor) : null);
    this.schedule();
  }

  /** Stages a whole table, then (when `endOfRib`) End-of-RIB (RFC 4724 §2) once it has left. */
  sendTable(family: FamilyKey, bests: Iterable<Path>, endOfRib = true): void {
    if (this.closed || !this.families.has(family)) return;
    for (const p of bests) this.adjOut.stage(family, p.nlri, this.group.exported(p, this.exportFor));
    if (endOfRib) this.eorDue.add(family);
    this.schedule();
  }

  /** RFC 2918: queues again everything the members have of a family. */
  resend(family: FamilyKey): void {
    if (this.closed || !this.families.has(family)) return;
    this.adjOut.resend(family);
    this.schedule();
  }

  /** Sends `message` once the family has nothing pending. */
  after(family: FamilyKey, message: Buffer): void {
    this.markers.push({ family, message });
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.sub.unsubscribe();
    this.adjOut.clear();
    this.members.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.blockedCount > 0 || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    try {
      this.flushSlice();
    } catch (e) {
      // An encoder bug must cost these sessions, not the daemon its life.
      this.closed = true;
      this.sub.unsubscribe();
      for (const m of this.members.values()) m.socket.destroy(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (this.idle()) this.onIdle?.();
  }

  private flushSlice(): void {
    const started = Date.now();
    for (const m of this.members.values()) m.socket.cork();
    try {
      for (;;) {
        const batch = this.adjOut.take(BATCH);
        if (!batch) break;
        this.write(batch.family, batch.withdraw, batch.announce);
        this.sendDueMarkers();
        if (this.blockedCount > 0) return;
        if (Date.now() - started > SLICE_MS) {
          this.schedule();
          return;
        }
      }
      this.sendDueMarkers();
    } finally {
      for (const m of this.members.values()) m.socket.uncork();
    }
  }

  private sendDueMarkers(): void {
    for (const f of this.eorDue) {
      if (this.adjOut.hasPending(f)) continue;
      this.eorDue.delete(f);
      this.put(encodeEndOfRib(f));
    }
    for (let i = 0; i < this.markers.length; i++) {
      const m = this.markers[i]!;
      if (this.adjOut.hasPending(m.family)) continue;
      this.markers.splice(i--, 1);
      this.put(m.message);
    }
  }

  private write(family: FamilyKey, withdraw: Nlri[], announce: Map<PathAttributes, Nlri[]>): void {
    const probe = this.probe?.active ? this.probe : undefined;
    if (withdraw.length > 0) {
      for (const m of encodeWithdrawals(family, withdraw, this.pack)) this.put(m);
      this.routesWithdrawn += withdraw.length;
      probe?.sent(family, withdraw, true, [...this.members.keys()], Date.now());
    }
    for (const [attrs, nlri] of announce) {
      const mpNextHop = family === IPV4_UNICAST && attrs.nextHop?.length === 4 ? undefined : attrs.nextHop;
      for (const m of encodeAnnouncements(family, attrs, nlri, this.pack, mpNextHop)) this.put(m);
      this.routesAnnounced += nlri.length;
      probe?.sent(family, nlri, false, [...this.members.keys()], Date.now());
    }
  }

  /** One encoded message to every member; a member whose buffer is full is waited for. */
  private put(message: Buffer): void {
    this.updatesSent++;
    for (const m of this.members.values()) {
      if (m.socket.destroyed || m.socket.write(message) || m.blocked) continue;
      this.block(m);
    }
  }

  private block(m: Member): void {
    m.blocked = true;
    this.blockedCount++;
    const onDrain = (): void => {
      m.socket.off('close', onDrain);
      m.socket.off('drain', onDrain);
      clearTimeout(m.stuckTimer);
      if (!m.blocked) return;
      m.blocked = false;
      this.unblock();
    };
    m.socket.once('drain', onDrain);
    m.socket.once('close', onDrain);
    if (this.onStuck) {
      m.stuckTimer = setTimeout(() => m.blocked && this.onStuck?.(m.id), this.stuckMs);
      m.stuckTimer.unref();
    }
  }

  private unblock(): void {
    if (--this.blockedCount === 0) this.schedule();
  }
}
