/**
 * The durable VM store: an append-only file of JSON lines, replayed at start.
 *
 *   put/remove ─► queue ─► one write + one fdatasync per batch ─► resolve the batch
 *
 * Group commit: calls that arrive while a write+fdatasync is in flight wait
 * for the next one, so N concurrent calls cost about two syncs, not N.
 * Compaction rewrites the live set into a temp file, syncs it and renames it
 * over the journal, at open and whenever dead lines outnumber live ones.
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Log, silentLogger } from '../core/log.js';
import { type JournalOp, type VmRecord, checkKey, checkRecord, encodeOp } from './record.js';
import { applyOp, replay } from './replay.js';
import type { VmStore } from './vm-store.js';

export const JOURNAL_FILE = 'vms.journal';
const TMP_SUFFIX = '.tmp';
/** Compact when lines > 2 × live + this: enough slack that a small store never bothers. */
export const COMPACT_SLACK = 1000;
const COMPACT_CHUNK = 1 << 20;

export interface JournalOptions {
  /** Default COMPACT_SLACK; tests lower it to compact small files. */
  readonly compactSlack?: number;
  /** Test hook: awaited before each batch's fdatasync, so a test can hold a sync in flight. */
  readonly beforeSync?: () => Promise<void>;
}

export interface JournalStats {
  /** put/remove calls made durable. */
  readonly ops: number;
  /** write() batches, each followed by one fdatasync. */
  readonly writes: number;
  readonly syncs: number;
  /** Complete lines in the journal now. */
  readonly lines: number;
  readonly live: number;
  readonly compactions: number;
}

interface Pending {
  readonly op: JournalOp;
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export async function openJournalStore(dir: string, log: Log = silentLogger(), options: JournalOptions = {}): Promise<JournalStore> {
  const made = await mkdir(dir, { recursive: true });
  // Each newly made directory is an entry in its parent: sync those too, or a crash could forget them.
  if (made !== undefined) {
    for (let d = dir; ; d = dirname(d)) {
      await syncDir(dirname(d));
      if (d === made || dirname(d) === d) break;
    }
  }
  const file = join(dir, JOURNAL_FILE);
  // A temp file is a compaction cut short before its rename; the journal is still whole.
  await rm(file + TMP_SUFFIX, { force: true });
  const fh = await open(file, 'a+');
  let store: JournalStore | undefined;
  try {
    const buf = await fh.readFile();
    const r = replay(buf, file);
    if (!r.ok) throw new Error(r.error);
    const { live, torn } = r.value;
    if (torn !== undefined) {
      log.warn('vm store: ignoring a torn last line (a write cut short by a crash, never acknowledged)', {
        file,
        line: torn.line,
        bytes: torn.bytes,
        reason: torn.reason,
      });
      // Truncate, or the next append would glue onto the torn bytes and damage a middle line.
      await fh.truncate(r.value.keep);
      await fh.sync();
    }
    store = new JournalStore(dir, file, fh, live, r.value.lines, options, log);
    if (store.needsCompaction()) {
      await store.compact();
    } else {
      // The journal may be new: its directory entry must be durable before the first acknowledgement.
      await syncDir(dir);
    }
    return store;
  } catch (e) {
    await (store !== undefined ? store.close() : fh.close()).catch(() => {});
    throw e;
  }
}

export class JournalStore implements VmStore {
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Set by a failed write or sync: after that, what reached the disk is unknown until a restart replays it. */
  private failed: Error | undefined;
  private counts = { ops: 0, writes: 0, syncs: 0, compactions: 0 };
  /** After a failed compaction, the line count to wait for before trying again. */
  private retryCompactionAt = 0;
  private readonly compactSlack: number;

  /** Use openJournalStore. */
  constructor(
    private readonly dir: string,
    private readonly file: string,
    private fh: FileHandle,
    private readonly live: Map<string, VmRecord>,
    private lines: number,
    private readonly options: JournalOptions,
    private readonly log: Log,
  ) {
    this.compactSlack = options.compactSlack ?? COMPACT_SLACK;
  }

  async load(): Promise<VmRecord[]> {
    return [...this.live.values()];
  }

  put(r: VmRecord): Promise<void> {
    const c = checkRecord({ ...r });
    if (!c.ok) return Promise.reject(new Error(`vm store: refusing record for ${r.network} ${r.mac}: ${c.error}`));
    return this.submit({ op: 'put', record: c.value });
  }

  remove(network: string, mac: string): Promise<void> {
    const k = checkKey(network, mac);
    if (!k.ok) return Promise.reject(new Error(`vm store: refusing removal: ${k.error}`));
    return this.submit({ op: 'del', ...k.value });
  }

  /** Waits for queued writes, then closes the file; later writes reject. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.draining;
      await this.fh.close();
    })();
    return this.closing;
  }

  stats(): JournalStats {
    return { ...this.counts, lines: this.lines, live: this.live.size };
  }

  /** @internal Dead lines outnumber live ones by the slack. */
  needsCompaction(): boolean {
    return this.lines > 2 * this.live.size + this.compactSlack && this.lines >= this.retryCompactionAt;
  }

  /**
   * @internal Rewrites the journal as the live set and switches to it. Called
   * at open and between batches, never during a write. A failure before the
   * rename leaves the old journal in use; one after it fails the store.
   */
  async compact(): Promise<void> {
    const tmp = this.file + TMP_SUFFIX;
    const before = this.lines;
    try {
      const out = await open(tmp, 'w');
      try {
        // In chunks: a million VMs is some 200 MB of text, and the event loop has sessions to serve.
        let text = '';
        for (const record of this.live.values()) {
          text += encodeOp({ op: 'put', record });
          if (text.length >= COMPACT_CHUNK) {
            await writeAll(out, Buffer.from(text));
            text = '';
          }
        }
        await writeAll(out, Buffer.from(text));
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(tmp, this.file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
    try {
      // The old handle now names an unlinked file.
      const old = this.fh;
      this.fh = await open(this.file, 'a');
      await old.close().catch(() => {});
      // The rename is durable only once the directory is synced, and later writes go to the new file.
      await syncDir(this.dir);
    } catch (e) {
      this.failed ??= new Error(
        `vm store ${this.file}: compaction failed after its rename (${message(e)}); restart vmmid to replay the journal`,
      );
      throw this.failed;
    }
    this.lines = this.live.size;
    this.counts.compactions++;
    this.log.info('vm store: compacted the journal', { file: this.file, linesBefore: before, lines: this.lines });
  }

  private submit(op: JournalOp): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new Error(`vm store ${this.file} is closed; the write was not made`));
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, line: encodeOp(op), resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Never rejects: each batch's outcome goes to its callers. */
  private async drain(): Promise<void> {
    // Let calls made in the same tick as the first join its batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        if (this.failed !== undefined) throw this.failed;
        await writeAll(this.fh, Buffer.from(batch.map((p) => p.line).join('')));
        this.counts.writes++;
        if (this.options.beforeSync !== undefined) await this.options.beforeSync();
        await this.fh.datasync();
        this.counts.syncs++;
      } catch (e) {
        this.failed ??= new Error(
          `vm store ${this.file}: write failed (${message(e)}); ` +
            'what reached the disk is unknown, so no more writes are taken: restart vmmid to replay the journal',
        );
        for (const p of batch) p.reject(this.failed);
        continue;
      }
      for (const p of batch) applyOp(this.live, p.op);
      this.lines += batch.length;
      this.counts.ops += batch.length;
      for (const p of batch) p.resolve();
      if (this.needsCompaction()) await this.compactLive();
    }
    this.draining = undefined;
  }

  private async compactLive(): Promise<void> {
    try {
      await this.compact();
    } catch (e) {
      if (this.failed !== undefined) return;
      // Nothing was renamed: the journal is whole, so keep appending and retry once it has doubled.
      this.retryCompactionAt = 2 * this.lines;
      this.log.warn('vm store: compaction failed; the journal keeps growing', { file: this.file, err: e });
    }
  }
}

/** write() may write less than asked; loop until every byte is in. */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let at = 0; at < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, at, buf.length - at);
    at += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
