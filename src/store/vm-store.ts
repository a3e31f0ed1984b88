/**
 * Acknowledged VM state. An AnnounceVm/WithdrawVm is answered only after
 * put()/remove() resolves, and load() at start gives back exactly what was
 * acknowledged, so a restart (even after kill -9) re-announces the same VMs
 * with the same RFC 7432 §15 sequence numbers.
 *
 * Two implementations: the journal (journal.ts) when the config names a
 * `store:` directory, and MemoryVmStore, which forgets everything at exit.
 */
import { checkKey, checkRecord, vmKey, type VmRecord } from './record.js';

export type { VmRecord } from './record.js';
export { COMPACT_SLACK, JOURNAL_FILE, JournalStore, openJournalStore, type JournalOptions, type JournalStats } from './journal.js';

export interface VmStore {
  /** Every record, in the order they were last written. Called once at start. */
  load(): Promise<VmRecord[]>;
  /** Resolves once the record is durable (fdatasync done). */
  put(r: VmRecord): Promise<void>;
  /** Resolves once the removal is durable. */
  remove(network: string, mac: string): Promise<void>;
  close(): Promise<void>;
}

/** For configs without `store:`; checks records as the journal does, so behaviour does not change with the config. */
export class MemoryVmStore implements VmStore {
  private readonly live = new Map<string, VmRecord>();
  private closed = false;

  async load(): Promise<VmRecord[]> {
    return [...this.live.values()];
  }

  async put(r: VmRecord): Promise<void> {
    this.assertOpen();
    const c = checkRecord({ ...r });
    if (!c.ok) throw new Error(`vm store: refusing record for ${r.network} ${r.mac}: ${c.error}`);
    const key = vmKey(c.value.network, c.value.mac);
    this.live.delete(key);
    this.live.set(key, c.value);
  }

  async remove(network: string, mac: string): Promise<void> {
    this.assertOpen();
    const k = checkKey(network, mac);
    if (!k.ok) throw new Error(`vm store: refusing removal: ${k.error}`);
    this.live.delete(vmKey(network, mac));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('vm store (memory) is closed; the write was not made');
  }
}
