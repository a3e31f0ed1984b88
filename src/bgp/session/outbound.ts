import type { Socket } from 'node:net';
import { AdjRibOut } from '../../rib/adj-rib-out.js';
import type { UpdateGroup } from '../../rib/update-groups.js';
import type { Path } from '../../rib/path.js';
import type { PathAttributes } from '../wire/attributes.js';
import { type FamilyKey, IPV4_UNICAST } from '../wire/family.js';
import type { Nlri } from '../wire/nlri.js';
import { type PackOptions, encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../wire/update-encode.js';

/** How many pending route changes one pass encodes before checking the socket again. */
const BATCH = 2048;
/** A pass yields to the event loop after this long, so input and timers keep flowing. */
const SLICE_MS = 8;

/**
 * The sending half of an Established session: what the peer is owed
 * (Adj-RIB-Out with coalescing), the export policy of its update group
 * (computed once per group), and a writer that packs
 * many NLRI per UPDATE and waits for 'drain' whenever the socket's buffer is
 * full. Memory stays bounded: at most one pending entry per route plus one
 * batch of encoded bytes beyond the socket's high-water mark.
 */
export class Outbound {
  readonly adjOut = new AdjRibOut();
  private readonly eorDue = new Set<FamilyKey>();
  private scheduled = false;
  private blocked = false;
  private closed = false;
  updatesSent = 0;
  routesAnnounced = 0;
  routesWithdrawn = 0;

  constructor(
    private readonly socket: Socket,
    private readonly peerId: string,
    private readonly group: UpdateGroup,
    private readonly families: ReadonlySet<FamilyKey>,
    private readonly pack: PackOptions,
  ) {}

  /** Stages a best-path change of the Loc-RIB. */
  bestChanged(family: FamilyKey, nlri: Nlri, best: Path | undefined): void {
    if (this.closed || !this.families.has(family)) return;
    this.adjOut.stage(family, nlri, best ? this.exported(best) : null);
    this.schedule();
  }

  /** Stages a whole table, then End-of-RIB (RFC 4724 §2) once it has left. */
  sendTable(family: FamilyKey, bests: Iterable<Path>): void {
    if (this.closed || !this.families.has(family)) return;
    for (const p of bests) this.adjOut.stage(family, p.nlri, this.exported(p));
    this.eorDue.add(family);
    this.schedule();
  }

  /** RFC 2918: sends the family's Adj-RIB-Out again. */
  resend(family: FamilyKey, after?: Buffer): void {
    if (this.closed || !this.families.has(family)) return;
    this.adjOut.resend(family);
    if (after) this.markers.push({ family, message: after });
    this.schedule();
  }

  /** Messages to send once a family has nothing pending (EoRR of RFC 7313). */
  private readonly markers: { family: FamilyKey; message: Buffer }[] = [];

  close(): void {
    this.closed = true;
    this.adjOut.clear();
  }

  private exported(p: Path): PathAttributes | null {
    return this.group.exported(p, this.peerId);
  }

  private schedule(): void {
    if (this.scheduled || this.blocked || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.socket.destroyed) return;
    try {
      this.flushSlice();
    } catch (e) {
      // An encoder bug must cost this peer its session, not the daemon its life.
      this.closed = true;
      this.socket.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private flushSlice(): void {
    const started = Date.now();
    this.socket.cork();
    try {
      for (;;) {
        const batch = this.adjOut.take(BATCH);
        if (!batch) break;
        this.write(batch.family, batch.withdraw, batch.announce);
        this.sendDueMarkers();
        if (this.blocked) return;
        if (Date.now() - started > SLICE_MS) {
          this.schedule();
          return;
        }
      }
      this.sendDueMarkers();
    } finally {
      this.socket.uncork();
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
    if (withdraw.length > 0) {
      for (const m of encodeWithdrawals(family, withdraw, this.pack)) this.put(m);
      this.routesWithdrawn += withdraw.length;
    }
    for (const [attrs, nlri] of announce) {
      const mpNextHop = family === IPV4_UNICAST && attrs.nextHop?.length === 4 ? undefined : attrs.nextHop;
      for (const m of encodeAnnouncements(family, attrs, nlri, this.pack, mpNextHop)) this.put(m);
      this.routesAnnounced += nlri.length;
    }
  }

  private put(message: Buffer): void {
    this.updatesSent++;
    if (this.socket.write(message) || this.blocked) return;
    this.blocked = true;
    this.socket.once('drain', () => {
      this.blocked = false;
      this.schedule();
    });
  }
}
