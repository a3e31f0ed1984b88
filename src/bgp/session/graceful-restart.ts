import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Log } from '../../core/log.js';
import type { Rib } from '../../rib/rib.js';
import type { Capability } from '../wire/capabilities.js';
import type { CapabilityCode } from '../wire/constants.js';
import { type FamilyKey, familyKey, familyName } from '../wire/family.js';

export type GracefulRestartCapability = Extract<Capability, { code: CapabilityCode.GracefulRestart }>;

/**
 * FRR's default stale-path time: how long stale routes may wait for End-of-RIB
 * once the restarted peer is back (RFC 4724 §4.2 leaves the value local).
 */
export const STALE_PATH_TIME_MS = 360_000;

/**
 * The receiving side of RFC 4724 (vmmi as "helper"): when a peer that
 * advertised graceful restart for some families loses its session without a
 * NOTIFICATION, its routes of those families stay, marked stale, for the
 * restart time; once it is back they are swept family by family at its
 * End-of-RIB, or all at once when a timer runs out.
 */
export class GracefulRestartHelper {
  private stale = new Set<FamilyKey>();
  private timer?: TimerHandle;

  constructor(
    private readonly rib: Rib,
    private readonly peerId: string,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  get staleFamilies(): ReadonlySet<FamilyKey> {
    return this.stale;
  }

  /**
   * The session went down. Returns true when the peer's routes are kept
   * (stale); false means the caller removes them as usual.
   */
  sessionDown(cap: GracefulRestartCapability | undefined, endedByNotification: boolean): boolean {
    this.cancelTimer();
    // RFC 4724 §4.2: only a session that ends without a NOTIFICATION (RFC 8538 widens that; not used here).
    if (!cap || endedByNotification || cap.families.length === 0) {
      this.sweep('session ended');
      return false;
    }
    const families = new Set(cap.families.map((f) => familyKey(f.afi, f.safi)));
    const marked = this.rib.markStale(this.peerId, families);
    for (const f of families) this.stale.add(f);
    this.log.info(`graceful restart: keeping ${marked} routes as stale for up to ${cap.restartTime} s`);
    this.timer = this.clock.setTimer(cap.restartTime * 1000, () => this.sweep('restart time expired'));
    return true;
  }

  /** The peer is back: families it no longer preserves are swept now, the rest at End-of-RIB. */
  sessionUp(cap: GracefulRestartCapability | undefined): void {
    this.cancelTimer();
    if (this.stale.size === 0) return;
    const preserved = new Set(
      (cap?.families ?? []).filter((f) => f.forwarding).map((f) => familyKey(f.afi, f.safi)),
    );
    for (const f of [...this.stale]) if (!preserved.has(f)) this.sweepFamily(f, 'forwarding state not preserved');
    if (this.stale.size > 0) this.timer = this.clock.setTimer(STALE_PATH_TIME_MS, () => this.sweep('stale-path time expired'));
  }

  endOfRib(family: FamilyKey): void {
    if (!this.stale.has(family)) return;
    this.sweepFamily(family, 'End-of-RIB');
    if (this.stale.size === 0) this.cancelTimer();
  }

  dispose(): void {
    this.cancelTimer();
  }

  private sweep(why: string): void {
    this.cancelTimer();
    for (const f of [...this.stale]) this.sweepFamily(f, why);
  }

  private sweepFamily(family: FamilyKey, why: string): void {
    this.stale.delete(family);
    const n = this.rib.sweepStale(this.peerId, new Set([family]));
    if (n > 0) this.log.info(`graceful restart: ${n} stale ${familyName(family)} routes removed (${why})`);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
