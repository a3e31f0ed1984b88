/**
 * The durable VM store (src/store/): what an acknowledged AnnounceVm costs.
 * Every put waits for its fdatasync, so the numbers are the disk's as much as
 * the code's; the filesystem is printed with them. VMMI_BENCH_STORE_DIR picks
 * where the temp directory goes (default the OS temp dir), to measure the
 * disk a real `store:` would sit on. "loop µs/put" is event-loop time per put:
 * the fsync itself runs on the libuv pool, so the BGP sessions keep the loop.
 */
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type JournalStore, type VmRecord, openJournalStore } from '../src/store/vm-store.js';
import { onCleanup } from './cleanup.js';
import { count, fixed, table } from './format.js';

export const STORE_DEFAULTS = {
  /** Sequential puts, each awaited before the next. */
  sequential: 2_000,
  /** Concurrent callers, each putting `perCaller` records one after another. */
  callers: 64,
  perCaller: 200,
  /** Live records for the open (replay) and compaction timings. */
  replay: 100_000,
} as const;

/** statfs f_type values worth naming; tmpfs makes every fsync free, so the numbers mean little there. */
const FS_NAMES: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs (fsync is free: not a disk measurement)'],
  [0x794c7630, 'overlayfs'],
  [0x2fc12fc1, 'zfs'],
]);

function record(i: number, seq = i): VmRecord {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return {
    vmId: `vm-${i}`,
    network: `net-${i % 16}`,
    mac: `52:54:00:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`,
    ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    vtep: '192.0.2.1',
    seq,
    agent: 'hv-bench',
    since: 1_700_000_000_000 + i,
  };
}

interface Latencies {
  readonly ms: number;
  readonly puts: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly syncs: number;
  /** Event-loop time spent busy: what the BGP sessions sharing the loop lose. */
  readonly busyMs: number;
}

function summarize(lat: number[], ms: number, syncs: number, busyMs: number): Latencies {
  lat.sort((a, b) => a - b);
  const at = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0;
  return { ms, puts: lat.length, p50: at(0.5), p99: at(0.99), max: lat[lat.length - 1] ?? 0, syncs, busyMs };
}

/** `callers` loops of `each` awaited puts; one caller is the sequential case. */
async function putLoop(s: JournalStore, callers: number, each: number): Promise<Latencies> {
  const lat: number[] = [];
  const syncs0 = s.stats().syncs;
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let k = 0; k < each; k++) {
        const t0 = performance.now();
        await s.put(record(c * each + k));
        lat.push(performance.now() - t0);
      }
    }),
  );
  const ms = performance.now() - start;
  return summarize(lat, ms, s.stats().syncs - syncs0, performance.eventLoopUtilization(elu0).active);
}

/** A fresh store per run, a short warm-up, then the best run by throughput. */
async function best(root: string, runs: number, callers: number, each: number): Promise<Latencies> {
  let top: Latencies | undefined;
  for (let r = 0; r < runs; r++) {
    const dir = join(root, `run-${callers}-${r}`);
    const s = await openJournalStore(dir);
    try {
      await putLoop(s, 1, 50);
      const l = await putLoop(s, callers, each);
      if (top === undefined || l.ms < top.ms) top = l;
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return top!;
}

async function timeOpen(dir: string): Promise<{ ms: number; records: number; compactions: number }> {
  const start = performance.now();
  const s = await openJournalStore(dir);
  const records = (await s.load()).length;
  const ms = performance.now() - start;
  const { compactions } = s.stats();
  await s.close();
  return { ms, records, compactions };
}

export async function runStore(runs: number): Promise<void> {
  const parent = process.env['VMMI_BENCH_STORE_DIR'] ?? tmpdir();
  const root = await mkdtemp(join(parent, 'vmmi-bench-store-'));
  const unregister = onCleanup(`store bench dir ${root}`, () => rm(root, { recursive: true, force: true }));
  try {
    const fsType = (await statfs(root)).type;
    console.log(`store: journal (JSON lines, group commit, fdatasync per batch) in ${root}, ${FS_NAMES.get(fsType) ?? `filesystem 0x${fsType.toString(16)}`}`);
    console.log(`  best of ${runs} runs, each on a fresh journal after 50 warm-up puts`);

    const { sequential, callers, perCaller, replay } = STORE_DEFAULTS;
    const seq = await best(root, runs, 1, sequential);
    const conc = await best(root, runs, callers, perCaller);
    const rows = [seq, conc].map((l, i) => [
      i === 0 ? `sequential, ${count(l.puts)} puts` : `${callers} callers, ${count(l.puts)} puts`,
      count((l.puts / l.ms) * 1000),
      fixed(l.syncs / l.puts, 3),
      fixed(l.p50, 3),
      fixed(l.p99, 3),
      fixed(l.max, 3),
      fixed((l.busyMs / l.puts) * 1000, 1),
    ]);
    console.log(table(['', 'puts/s', 'fsyncs/put', 'p50 ms', 'p99 ms', 'max ms', 'loop µs/put'], rows).replace(/^/gm, '  '));

    // Open: the replay a restart pays, then the same with a compaction first.
    const dir = join(root, 'replay');
    const s = await openJournalStore(dir);
    const batch = 10_000;
    for (let at = 0; at < replay; at += batch) await Promise.all(Array.from({ length: batch }, (_, k) => s.put(record(at + k))));
    await s.close();
    const plain = await timeOpen(dir);
    // Compaction off while writing, so the open below has one to do.
    const s2 = await openJournalStore(dir, undefined, { compactSlack: Infinity });
    for (let at = 0; at < replay + 2_000; at += batch) {
      await Promise.all(Array.from({ length: batch }, (_, k) => s2.put(record((at + k) % replay, 1))));
    }
    const lines = s2.stats().lines;
    await s2.close();
    const compacting = await timeOpen(dir);
    console.log(
      table(
        ['', 'ms'],
        [
          [`open + load, ${count(plain.records)} records`, fixed(plain.ms, 0)],
          [`open + compact + load, ${count(lines)} lines -> ${count(compacting.records)}`, fixed(compacting.ms, 0)],
        ],
      ).replace(/^/gm, '  '),
    );
    if (compacting.compactions !== 1) console.log(`  (expected one compaction at open, saw ${compacting.compactions})`);
  } finally {
    await rm(root, { recursive: true, force: true });
    unregister();
  }
}
