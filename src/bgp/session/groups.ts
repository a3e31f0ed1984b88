import type { Socket } from 'node:net';
import type { AdjRibOut } from '../../rib/adj-rib-out.js';
import type { Rib } from '../../rib/rib.js';
import { type UpdateGroup, UpdateGroups } from '../../rib/update-groups.js';
import type { ExportTarget } from '../../rib/export.js';
import type { FamilyKey } from '../wire/family.js';
import type { PackOptions } from '../wire/update-encode.js';
import { Outbound } from './outbound.js';
import { SentProbe } from './sent-probe.js';

/**
 * The update groups of a speaker and, per group (and per negotiated
 * families and message options, which decide the bytes), the Outbound its
 * caught-up members share.
 */
export class SessionGroups {
  readonly updateGroups = new UpdateGroups();
  /** Watches routes leaving in UPDATEs (move traces). */
  readonly probe = new SentProbe();
  private readonly shared = new Map<string, Outbound>();
  /** Every open membership by peer, so a shared Outbound can split off a stuck member. */
  private readonly memberships = new Map<string, Membership>();

  constructor(
    readonly rib: Rib,
    /** How long a member of a shared Outbound may keep the others waiting before it is split off. */
    public stuckMs = 5_000,
  ) {}

  /**
   * Starts a session's outbound side: an Outbound of its own that sends the
   * table and End-of-RIB, then hands the session to the group's shared one.
   */
  open(peerId: string, target: ExportTarget, socket: Socket, families: ReadonlySet<FamilyKey>, pack: PackOptions): Membership {
    const group = this.updateGroups.join(peerId, target);
    // Only reflection clients share their bytes: see Outbound on split horizon.
    const shareable = target.ibgp && target.rrClient && target.clusterId !== undefined;
    const m = new Membership(this, peerId, group, socket, families, pack, shareable);
    this.memberships.set(peerId, m);
    return m;
  }

  /** @internal */
  forget(peerId: string, m: Membership): void {
    if (this.memberships.get(peerId) === m) this.memberships.delete(peerId);
  }

  /** How many shared Outbounds exist, and how many sessions they serve (metrics, tests). */
  sharedCount(): number {
    return this.shared.size;
  }

  sharedMembers(): number {
    let n = 0;
    for (const o of this.shared.values()) n += o.size;
    return n;
  }

  /** @internal */
  keyOf(group: UpdateGroup, families: ReadonlySet<FamilyKey>, pack: PackOptions): string {
    return `${group.key}#${[...families].sort().join(',')}#${pack.maxLength}#${pack.fourOctetAs}#${pack.addPath}`;
  }

  /** @internal */
  sharedFor(key: string): Outbound | undefined {
    return this.shared.get(key);
  }

  /** @internal */
  setShared(key: string, out: Outbound | undefined): void {
    if (!out) {
      this.shared.delete(key);
      return;
    }
    this.shared.set(key, out);
    out.onStuck = (id) => this.memberships.get(id)?.split();
  }

  /** @internal */
  newOutbound(group: UpdateGroup, families: ReadonlySet<FamilyKey>, pack: PackOptions, exportFor: string, from?: AdjRibOut): Outbound {
    return new Outbound(this.rib, group, families, pack, exportFor, from, this.stuckMs, this.probe);
  }
}

/** One session's place in its update group. */
export class Membership {
  private out: Outbound;
  private readonly key: string;
  private shared = false;

  constructor(
    private readonly groups: SessionGroups,
    private readonly peerId: string,
    readonly group: UpdateGroup,
    private readonly socket: Socket,
    private readonly families: ReadonlySet<FamilyKey>,
    private readonly pack: PackOptions,
    private readonly shareable: boolean,
  ) {
    this.key = groups.keyOf(group, families, pack);
    this.out = this.startPrivate();
  }

  /** Whether the session is served by the group's shared Outbound yet. */
  get inGroup(): boolean {
    return this.shared;
  }

  get outbound(): Outbound {
    return this.out;
  }

  /**
   * RFC 2918 / RFC 7313: the session gets the family's routes again, framed
   * by `after` (EoRR) when given. A member of a shared Outbound goes on alone
   * from where the group was, so only that family is sent, and rejoins once
   * it has caught up.
   */
  refresh(family: FamilyKey, after?: Buffer): void {
    if (this.shared) this.goAlone();
    this.out.resend(family);
    if (after) this.out.after(family, after);
  }

  close(): void {
    if (this.shared) this.leaveShared();
    else this.out.close();
    this.groups.updateGroups.leave(this.peerId, this.group);
    this.groups.forget(this.peerId, this);
  }

  /**
   * A member that keeps the group waiting goes on alone from where the group
   * was (what it was sent, what it is still owed), as FRR splits a slow peer
   * into a subgroup; it joins again once it has caught up.
   */
  split(): void {
    if (!this.shared) return;
    this.goAlone();
    this.splits++;
  }

  /** Leaves the shared Outbound with a copy of its state: what was sent and what is still owed. */
  private goAlone(): void {
    const state = this.out.adjOut.clone();
    this.leaveShared();
    const out = this.groups.newOutbound(this.group, this.families, this.pack, '', state);
    out.addMember(this.peerId, this.socket);
    out.onIdle = () => this.tryJoin();
    this.out = out;
  }

  /** How often this session was split off its group (tests, logs). */
  splits = 0;

  private startPrivate(): Outbound {
    // A shareable session exports as the group does from the start, so its state equals the group's when it joins.
    const out = this.groups.newOutbound(this.group, this.families, this.pack, this.shareable ? '' : this.peerId);
    out.addMember(this.peerId, this.socket);
    if (this.shareable) out.onIdle = () => this.tryJoin();
    for (const f of this.families) out.sendTable(f, this.bests(f), true);
    return out;
  }

  private *bests(family: FamilyKey): Generator<import('../../rib/path.js').Path> {
    for (const d of this.groups.rib.destinations(family)) if (d.best) yield d.best;
  }

  /** Joins (or becomes) the group's shared Outbound once both have sent everything. */
  private tryJoin(): void {
    if (this.shared) return;
    const current = this.groups.sharedFor(this.key);
    if (!current) {
      this.groups.setShared(this.key, this.out);
      this.out.onIdle = undefined;
      this.shared = true;
      return;
    }
    if (!current.idle() || !this.out.idle()) return;
    this.out.close();
    current.addMember(this.peerId, this.socket);
    this.out = current;
    this.shared = true;
  }

  private leaveShared(): void {
    if (!this.shared) return;
    this.out.removeMember(this.peerId);
    if (this.out.size === 0) {
      this.out.close();
      this.groups.setShared(this.key, undefined);
    }
    this.shared = false;
  }
}
