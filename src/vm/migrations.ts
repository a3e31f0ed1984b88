/**
 * The migration lifecycle of the VM mobility draft (§4.1.4 of
 * draft-khasnabish-vmmi-problems): consult, then commit or abort.
 *
 *   prepare ──► prepared ──commit──► committed ──abort──► aborted (VM back at the source)
 *                   │ └──abort / timeout──► aborted (nothing was advertised)
 *
 * Prepare only checks and reserves; commit announces the VM at the target
 * with the next sequence number (the registry withdraws the source's routes);
 * an abort after commit announces it at the source again, one number higher,
 * so every PE switches back (RFC 7432 §15). Moves made here are planned: they
 * do not count towards duplicate detection.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Log } from '../core/log.js';
import { errorText } from '../core/errors.js';
import { notFound, precondition } from './errors.js';
import type { VmNetwork } from './network.js';
import type { AnnounceResult, VmRegistry } from './registry.js';

export type MigrationState = 'prepared' | 'committed' | 'aborted';

export interface Migration {
  readonly id: string;
  readonly network: string;
  readonly mac: string;
  readonly vmId: string;
  readonly sourceVtep: string;
  readonly targetVtep: string;
  readonly state: MigrationState;
  readonly agent: string;
  readonly preparedAt: number;
  /** When it was committed or aborted. */
  readonly endedAt?: number;
  /** Why it was aborted. */
  readonly reason?: string;
}

export interface PrepareInput {
  readonly network: VmNetwork;
  readonly mac: string;
  readonly targetVtep: string;
  readonly agent: string;
  /** Whether the target may carry the network besides a type-3 route from it (e.g. a VTEP granted for it in config). */
  readonly provisioned: boolean;
}

export type PrepareResult = { readonly ok: true; readonly migration: Migration } | { readonly ok: false; readonly reasons: readonly string[] };

/** Finished migrations kept for inspection; the oldest go first. */
const KEEP_FINISHED = 1000;

export class Migrations {
  private readonly active = new Map<string, { m: Migration; timer: TimerHandle }>();
  private readonly finished = new Map<string, Migration>();
  /** Migrations whose commit is waiting for the store. */
  private readonly committing = new Set<string>();
  private next = 1;

  constructor(
    private readonly vms: VmRegistry,
    private readonly clock: Clock,
    /** A prepared migration neither committed nor aborted within this is aborted. */
    private readonly timeoutMs: number,
    private readonly log: Log,
  ) {}

  /** The consultation checks; every reason it cannot go ahead, or a reserved migration. */
  prepare(i: PrepareInput): PrepareResult {
    const vm = this.vms.get(i.network, i.mac);
    if (!vm) throw notFound(`no VM with MAC ${i.mac} in network ${i.network.name}`);
    const reasons: string[] = [];
    if (vm.vtep === i.targetVtep) reasons.push(`the VM is already at ${i.targetVtep}`);
    if (!i.provisioned && !this.vms.hasInclusiveMulticast(i.network, i.targetVtep)) {
      reasons.push(`network ${i.network.name} is not present at ${i.targetVtep} (no type-3 route with its route target from that VTEP)`);
    }
    if (this.vms.isDuplicate(i.network, i.mac)) reasons.push(`MAC ${i.mac} is marked duplicate (RFC 7432 §15.1): ClearDuplicate first`);
    if (vm.sticky) reasons.push(`MAC ${i.mac} is sticky (static, RFC 7432 §15.2) and does not move`);
    const busy = this.ofVm(i.network.name, i.mac);
    if (busy) reasons.push(`migration ${busy.id} of this VM is ${busy.state}`);
    if (reasons.length > 0) return { ok: false, reasons };
    const m: Migration = {
      id: `m-${this.clock.now().toString(36)}-${(this.next++).toString(36)}`,
      network: i.network.name, mac: i.mac, vmId: vm.vmId, sourceVtep: vm.vtep, targetVtep: i.targetVtep,
      state: 'prepared', agent: i.agent, preparedAt: this.clock.now(),
    };
    const timer = this.clock.setTimer(this.timeoutMs, () => {
      void this.abort(m.id, 'vmmi', `not committed within ${this.timeoutMs / 1000} s`).catch((e: unknown) => {
        this.log.error(`migration ${m.id}: automatic abort failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    });
    this.active.set(m.id, { m, timer });
    this.vms.notify('migration-prepared', vm, vm.vtep, i.targetVtep, m.id, i.agent);
    return { ok: true, migration: m };
  }

  async commit(id: string, network: VmNetwork, agent: string): Promise<{ migration: Migration; announced: AnnounceResult }> {
    const a = this.activeOrThrow(id);
    if (a.m.state !== 'prepared' || this.committing.has(id)) {
      throw precondition(`migration ${id} is already ${this.committing.has(id) ? 'being committed' : a.m.state}; abort it to move the VM back`);
    }
    const vm = this.vms.get(network, a.m.mac);
    if (!vm || vm.vtep !== a.m.sourceVtep) {
      await this.abort(id, agent, 'the VM left its source VTEP before the commit');
      throw precondition(`migration ${id} was aborted: the VM is no longer at ${a.m.sourceVtep}`);
    }
    // Until the store has it, an abort must wait rather than race the move.
    this.committing.add(id);
    let announced: AnnounceResult;
    try {
      announced = await this.vms.announce({
        vmId: vm.vmId, network, mac: vm.mac, ips: vm.ips, vtep: a.m.targetVtep, agent, sticky: vm.sticky, planned: true,
      });
    } catch (e) {
      // Nothing moved (the registry undid it): the migration ends here rather than hang until its timer.
      a.timer.cancel();
      this.finish({ ...a.m, state: 'aborted', endedAt: this.clock.now(), reason: `commit failed: ${errorText(e)}` });
      throw e;
    } finally {
      this.committing.delete(id);
    }
    a.timer.cancel();
    const m: Migration = { ...a.m, state: 'committed', endedAt: this.clock.now() };
    // Kept active (abortable) for another timeout, then finished.
    const timer = this.clock.setTimer(this.timeoutMs, () => this.finish(m));
    this.active.set(id, { m, timer });
    this.vms.notify('migration-committed', { ...vm, seq: announced.seq }, m.sourceVtep, m.targetVtep, id, agent);
    return { migration: m, announced };
  }

  async abort(id: string, agent: string, reason = 'aborted by the agent'): Promise<{ migration: Migration; announced?: AnnounceResult }> {
    const a = this.activeOrThrow(id);
    if (this.committing.has(id)) throw precondition(`migration ${id} is being committed; abort it once the commit has answered`);
    const net = this.vms.network(a.m.network);
    const vm = net && this.vms.get(net, a.m.mac);
    let announced: AnnounceResult | undefined;
    if (a.m.state === 'committed') {
      if (!net || !vm || vm.vtep !== a.m.targetVtep) {
        // The VM has moved on (or left) since: there is nothing to undo, and the migration must not stay open.
        a.timer.cancel();
        const m: Migration = { ...a.m, state: 'aborted', endedAt: this.clock.now(), reason: `${reason}; nothing undone: the VM is no longer at ${a.m.targetVtep}` };
        this.finish(m);
        return { migration: m };
      }
      announced = await this.vms.announce({
        vmId: vm.vmId, network: net, mac: vm.mac, ips: vm.ips, vtep: a.m.sourceVtep, agent, sticky: vm.sticky, planned: true,
      });
    }
    a.timer.cancel();
    const m: Migration = { ...a.m, state: 'aborted', endedAt: this.clock.now(), reason };
    this.finish(m);
    if (vm) this.vms.notify('migration-aborted', announced ? { ...vm, seq: announced.seq } : vm, a.m.targetVtep, a.m.sourceVtep, id, agent, reason);
    return { migration: m, announced };
  }

  get(id: string): Migration | undefined {
    return this.active.get(id)?.m ?? this.finished.get(id);
  }

  list(): Migration[] {
    return [...[...this.active.values()].map((a) => a.m), ...this.finished.values()];
  }

  close(): void {
    for (const a of this.active.values()) a.timer.cancel();
  }

  private ofVm(network: string, mac: string): Migration | undefined {
    for (const a of this.active.values()) if (a.m.network === network && a.m.mac === mac) return a.m;
    return undefined;
  }

  private activeOrThrow(id: string): { m: Migration; timer: TimerHandle } {
    const a = this.active.get(id);
    if (a) return a;
    const done = this.finished.get(id);
    if (done) throw precondition(`migration ${id} is ${done.state}${done.reason ? ` (${done.reason})` : ''}`);
    throw notFound(`no migration ${id}`);
  }

  private finish(m: Migration): void {
    this.active.delete(m.id);
    this.finished.set(m.id, m);
    if (this.finished.size > KEEP_FINISHED) this.finished.delete(this.finished.keys().next().value!);
  }
}
