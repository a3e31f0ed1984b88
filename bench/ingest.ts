/**
 * How fast each BGP implementation takes in a full table over one eBGP
 * session on loopback, and how much memory it needs for it.
 */
import { RECEIVERS, type ReceiverName } from './args.js';
import { wasInterrupted } from './cleanup.js';
import { CpuWatch } from './cpu.js';
import { count, fixed, mib, table } from './format.js';
import { LoadGen } from './loadgen.js';
import { ADDRESSES, RECEIVER_KINDS, type Receiver, peakRss } from './receivers.js';
import { encodeTable, generateTable, wireStream, type WireStream } from './table.js';

export const INGEST_DEFAULT_ROUTES = 200_000;
const SENDER_AS = 65100;
const RECEIVER_AS = 65000;
const HOLD_TIME = 180;

export interface IngestOptions {
  readonly routes: number;
  readonly timeoutSec: number;
  readonly runs: number;
  readonly receivers: readonly ReceiverName[];
  readonly cpuProfDir?: string;
}

type Outcome =
  | {
      readonly kind: 'done';
      readonly seconds: number;
      /** Until the receiver's CPU went quiet: its work on the table, not just the count, was over. */
      readonly busySeconds?: number;
      readonly cpuSeconds: number;
      readonly sentSeconds?: number;
      readonly rss?: number;
    }
  | { readonly kind: 'timeout'; readonly count: number; readonly detail: string; readonly rss?: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly count: number; readonly rss?: number }
  | { readonly kind: 'skipped'; readonly reason: string };

interface Row {
  readonly name: ReceiverName;
  readonly label: string;
  readonly method?: string;
  readonly outcome: Outcome;
  /** Seconds of every completed run, in order. */
  readonly times: readonly number[];
}

/** Receivers that stay busy longer than this after reporting the table have their busy time left unknown. */
const SETTLE_LIMIT_MS = 5_000;
const QUIET_MS = 150;

async function measure(receiver: Receiver, gen: LoadGen, stream: WireStream, o: IngestOptions): Promise<Outcome> {
  const cpu = new CpuWatch(receiver.pid);
  try {
    const { startedAt, done } = gen.send(stream);
    let sendError: string | undefined;
    let sentAt: number | undefined;
    done.then(
      (at) => {
        sentAt = at;
      },
      (e: unknown) => {
        sendError = `sender: ${e instanceof Error ? e.message : String(e)}`;
      },
    );
    const aborted = (): string | undefined => (wasInterrupted() ? 'interrupted' : (sendError ?? gen.failure?.message));
    const deadline = startedAt + o.timeoutSec * 1000;
    const reached = await receiver.waitForRoutes({ routes: o.routes, since: startedAt, deadline, aborted, cpu });
    if (!reached.ok) {
      const rss = peakRss(receiver.pid);
      if (reached.reason.startsWith('timeout')) {
        return { kind: 'timeout', count: reached.count, detail: reached.reason.slice('timeout'.length).trim(), rss };
      }
      return { kind: 'failed', reason: reached.reason, count: reached.count, rss };
    }
    // The session stays up meanwhile: closing it would start the receiver on dropping the table.
    const busyEnd = reached.busyEnd ?? (await cpu.settled(startedAt, QUIET_MS, SETTLE_LIMIT_MS));
    const end = Math.max(reached.at, busyEnd ?? reached.at);
    return {
      kind: 'done',
      seconds: (reached.at - startedAt) / 1000,
      busySeconds: busyEnd !== undefined ? (end - startedAt) / 1000 : undefined,
      cpuSeconds: cpu.cpuSeconds(startedAt, end),
      sentSeconds: sentAt !== undefined ? (sentAt - startedAt) / 1000 : undefined,
      rss: peakRss(receiver.pid),
    };
  } finally {
    cpu.stop();
  }
}

/** One receiver process from start to stop. */
async function runOnce(name: ReceiverName, stream: WireStream, o: IngestOptions): Promise<{ outcome: Outcome; method?: string }> {
  let receiver: Receiver | undefined;
  let gen: LoadGen | undefined;
  try {
    receiver = await RECEIVER_KINDS[name].start({
      routes: o.routes,
      peerAddress: ADDRESSES.sender,
      peerAs: SENDER_AS,
      localAs: RECEIVER_AS,
      cpuProfDir: name === 'vmmid' ? o.cpuProfDir : undefined,
    });
    gen = await LoadGen.connect({
      host: receiver.address,
      port: receiver.port,
      localAddress: ADDRESSES.sender,
      asn: SENDER_AS,
      routerId: ADDRESSES.sender,
      holdTime: HOLD_TIME,
      connectTimeoutMs: 15_000,
    });
    return { outcome: await measure(receiver, gen, stream, o), method: receiver.method };
  } catch (e) {
    const reason = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    return { outcome: { kind: 'failed', reason, count: 0 } };
  } finally {
    // The receiver goes first: ending the session first would set it dropping the table, work nobody measures.
    await receiver?.stop();
    gen?.close();
  }
}

/** `runs` runs, each with a fresh receiver so peak RSS is of one load; the fastest is reported. */
async function runOne(name: ReceiverName, stream: WireStream, o: IngestOptions): Promise<Row> {
  const kind = RECEIVER_KINDS[name];
  const missing = kind.unavailable();
  if (missing !== undefined) return { name, label: name, outcome: { kind: 'skipped', reason: missing }, times: [] };
  const label = await kind.version().catch(() => name);
  const times: number[] = [];
  let best: Outcome | undefined;
  let method: string | undefined;
  let peak = 0;
  for (let i = 0; i < o.runs && !wasInterrupted(); i++) {
    process.stderr.write(`ingest: ${label}, run ${i + 1}/${o.runs}: `);
    const r = await runOnce(name, stream, o);
    method ??= r.method;
    const out = r.outcome;
    process.stderr.write(`${out.kind === 'done' ? `${fixed(out.seconds, 2)} s` : out.kind}\n`);
    if (out.kind !== 'done') return { name, label, method, outcome: out, times };
    times.push(out.seconds);
    peak = Math.max(peak, out.rss ?? 0);
    if (best === undefined || (best.kind === 'done' && out.seconds < best.seconds)) best = out;
  }
  if (best === undefined) return { name, label, outcome: { kind: 'failed', reason: 'interrupted', count: 0 }, times };
  // The highest peak of all runs: memory is not something to pick the best of.
  const outcome: Outcome = best.kind === 'done' ? { ...best, rss: peak > 0 ? peak : undefined } : best;
  return { name, label, method, outcome, times };
}

function ratio(rows: readonly Row[], other: ReceiverName, otherName: string): string {
  const v = rows.find((r) => r.name === 'vmmid')?.outcome;
  const x = rows.find((r) => r.name === other)?.outcome;
  if (v?.kind !== 'done' || x?.kind !== 'done') {
    const [who, what] = v?.kind !== 'done' ? ['vmmid', v?.kind] : [otherName, x?.kind];
    return `vmmid/${otherName}: n/a (${who} ${what === 'skipped' ? 'was skipped' : 'did not finish'})`;
  }
  const rss = v.rss !== undefined && x.rss !== undefined ? `  peak RSS ${fixed(v.rss / x.rss, 2)}x` : '';
  return `vmmid/${otherName}: time ${fixed(v.seconds / x.seconds, 2)}x${rss}  (below 1: vmmid faster / smaller)`;
}

/** Resolves false if a receiver failed (a timeout or a skip is a result, not a failure). */
export async function runIngest(o: IngestOptions): Promise<boolean> {
  // Everything is generated and encoded before the first connection, so the sender only writes.
  const t = generateTable(o.routes, { peerAs: SENDER_AS });
  const stream = wireStream(encodeTable(t));
  const order = RECEIVERS.filter((r) => o.receivers.includes(r));
  const rows: Row[] = [];
  for (const name of order) {
    if (wasInterrupted()) break;
    rows.push(await runOne(name, stream, o));
  }

  console.log(
    `ingest: ${count(o.routes)} IPv4 routes, ${count(t.sets.length)} attribute sets, ${count(stream.messages)} UPDATEs, ` +
      `${count(stream.bytes)} bytes; eBGP AS ${SENDER_AS} (${ADDRESSES.sender}) -> AS ${RECEIVER_AS}, loopback`,
  );
  console.log(`  seconds: first UPDATE byte written -> receiver reports every route, best of ${o.runs} (fresh receiver each run)`);
  console.log('  busy: -> receiver CPU idle for 150 ms; CPU: receiver user+sys seconds until then (all threads)');
  console.log('  peak RSS: highest VmHWM of the runs; sent: -> last byte handed to the kernel');
  const body = rows.map((r): string[] => {
    const o2 = r.outcome;
    switch (o2.kind) {
      case 'done':
        return [
          r.label,
          count(o.routes),
          fixed(o2.seconds, 2),
          count(o.routes / o2.seconds),
          o2.busySeconds !== undefined ? fixed(o2.busySeconds, 2) : '?',
          fixed(o2.cpuSeconds, 2),
          o2.rss !== undefined ? mib(o2.rss) : '?',
          o2.sentSeconds !== undefined ? fixed(o2.sentSeconds, 2) : '?',
        ];
      case 'timeout':
      case 'failed': {
        const rss = o2.rss !== undefined ? mib(o2.rss) : '';
        const [secs, what] = o2.kind === 'timeout' ? [`>${o.timeoutSec}`, 'timeout'] : ['FAILED', ''];
        return [r.label, `${count(o2.count)}/${count(o.routes)}`, secs, what, '', '', rss, ''];
      }
      case 'skipped':
        return [r.label, '', 'skipped', '', '', '', '', ''];
    }
  });
  console.log(table(['receiver', 'routes', 'seconds', 'routes/s', 'busy s', 'CPU s', 'peak RSS MiB', 'sent s'], body).replace(/^/gm, '  '));
  for (const r of rows) {
    if (r.outcome.kind === 'skipped') console.log(`  ${r.label} skipped: ${r.outcome.reason}`);
    if (r.outcome.kind === 'timeout') {
      const detail = r.outcome.detail === '' ? '' : ` ${r.outcome.detail}`;
      console.log(`  ${r.label} timed out after ${o.timeoutSec} s with ${count(r.outcome.count)} routes${detail}`);
    }
    if (r.outcome.kind === 'failed') console.log(`  ${r.label} failed: ${r.outcome.reason}`);
  }
  for (const r of rows) {
    if (r.method === undefined) continue;
    const runs = r.times.length > 1 ? `; runs ${r.times.map((t) => fixed(t, 2)).join(' ')} s` : '';
    console.log(`  ${r.name}: ${r.method}${runs}`);
  }
  if (o.receivers.includes('vmmid')) {
    if (o.receivers.includes('frr')) console.log(`  ${ratio(rows, 'frr', 'FRR')}`);
    if (o.receivers.includes('gobgp')) console.log(`  ${ratio(rows, 'gobgp', 'GoBGP')}`);
  }
  return !rows.some((r) => r.outcome.kind === 'failed');
}
