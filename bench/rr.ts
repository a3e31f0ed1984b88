/**
 * vmmid, FRR bgpd and gobgpd as EVPN route reflectors: one injector client
 * sends a type-2 table, and the time runs until the last of 1 or more
 * receiving clients holds every route. Then, with the table loaded, one
 * route is changed again and again to measure inject-to-reflect latency.
 */
import { L2VPN_EVPN } from '../src/bgp/wire/family.js';
import { join } from 'node:path';
import { type ReceiverName, RECEIVERS } from './args.js';
import { wasInterrupted } from './cleanup.js';
import { CpuWatch, RssWatch } from './cpu.js';
import { EvpnRouteCounter, measureCounter } from './evpn-counter.js';
import { type EvpnTable, PROBE_CHANGES, ROUTES_PER_RD, buildEvpnTable } from './evpn-table.js';
import { count, fixed, mib, table } from './format.js';
import { LoadGen, nowMs } from './loadgen.js';
import { peakRss } from './receivers.js';
import { type MemoryReport, REFLECTOR_KINDS, RR_ADDRESSES, RR_AS, type Reflector, receiverAddress, until } from './reflectors.js';

export const RR_DEFAULTS = {
  routes: [100_000, 1_000_000],
  clients: [1, 4],
  // GoBGP's EVPN import slows down as its table grows (about 2,500 routes/s at 10k); a million would take hours.
  gobgpRoutes: [10_000, 20_000],
  timeoutSec: 300,
} as const;

export interface RrOptions {
  readonly routes: readonly number[];
  readonly clients: readonly number[];
  readonly gobgpRoutes: readonly number[];
  readonly timeoutSec: number;
  readonly runs: number;
  readonly reflectors: readonly ReceiverName[];
  readonly cpuProfDir?: string;
  readonly heapProfDir?: string;
}

const HOLD_TIME = 180;
const QUIET_MS = 150;
const SETTLE_LIMIT_MS = 5_000;
const PROBE_TIMEOUT_MS = 3_000;
/** Between one change's arrival and the next change, so each is a lone update to the reflector. */
const PROBE_GAP_MS = 10;

interface ProbeResult {
  /** Milliseconds from the injector's write to the receiver's read, per change that arrived. */
  readonly latencies: readonly number[];
  readonly lost: number;
}

type Outcome =
  | {
      readonly kind: 'done';
      /** Until the last receiver held every route. */
      readonly seconds: number;
      /** Until the first receiver did. */
      readonly firstSeconds: number;
      readonly busySeconds?: number;
      readonly cpuSeconds: number;
      readonly sentSeconds?: number;
      readonly rss?: number;
      /** CPU the bench process (injector, receivers, watchers) used until the last receiver was done. */
      readonly benchCpuSeconds: number;
      /** Routes the reflector sent back to the injector that had sent them. */
      readonly backToInjector: number;
      readonly endOfRib: boolean;
      readonly memory?: MemoryReport;
      readonly rssTimeline: readonly number[];
      readonly probe?: ProbeResult;
    }
  | { readonly kind: 'timeout' | 'failed'; readonly reason: string; readonly counts: readonly number[]; readonly rss?: number }
  | { readonly kind: 'skipped'; readonly reason: string };

interface Cell {
  readonly size: number;
  readonly clients: number;
  readonly name: ReceiverName;
  readonly label: string;
  readonly outcome: Outcome;
  readonly times: readonly number[];
  readonly probe?: ProbeResult;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);
}

async function runProbe(injector: LoadGen, counter: EvpnRouteCounter, t: EvpnTable): Promise<ProbeResult> {
  const latencies: number[] = [];
  let lost = 0;
  for (let k = 0; k < t.probe.messages.length && !wasInterrupted(); k++) {
    const want = t.probe.nextHops[k]!;
    let seenAt: number | undefined;
    counter.watch = {
      route: t.probe.route,
      seen: (nextHop, at) => {
        if (nextHop === want) seenAt ??= at;
      },
    };
    const sentAt = injector.sendMessage(t.probe.messages[k]!);
    await until(() => seenAt !== undefined || injector.failure !== undefined, PROBE_TIMEOUT_MS, 1);
    if (seenAt !== undefined) latencies.push(seenAt - sentAt);
    else lost++;
    if (injector.failure) throw injector.failure;
    await sleep(PROBE_GAP_MS);
  }
  counter.watch = undefined;
  return { latencies, lost };
}

interface RunSpec {
  readonly name: ReceiverName;
  readonly table: EvpnTable;
  readonly clients: number;
  readonly probe: boolean;
  readonly runName: string;
}

/** One reflector process from start to stop, with fresh clients. */
async function runOnce(s: RunSpec, o: RrOptions): Promise<Outcome> {
  const routes = s.table.routes;
  let reflector: Reflector | undefined;
  const receivers: LoadGen[] = [];
  let injector: LoadGen | undefined;
  let cpu: CpuWatch | undefined;
  let rss: RssWatch | undefined;
  const counters = Array.from({ length: s.clients }, () => new EvpnRouteCounter(routes));
  try {
    const addresses = counters.map((_, i) => receiverAddress(i));
    reflector = await REFLECTOR_KINDS[s.name].start({
      clients: [RR_ADDRESSES.injector, ...addresses],
      cpuProfDir: s.name === 'vmmid' ? o.cpuProfDir : undefined,
      heapProfDir: s.name === 'vmmid' ? o.heapProfDir : undefined,
      runName: s.runName,
    });
    const r = reflector;
    const client = (address: string, counter: EvpnRouteCounter): Promise<LoadGen> =>
      LoadGen.connect({
        host: r.address,
        port: r.port,
        localAddress: address,
        asn: RR_AS,
        routerId: address,
        holdTime: HOLD_TIME,
        connectTimeoutMs: 20_000,
        families: [L2VPN_EVPN],
        gracefulRestart: true,
        onUpdate: (body, at) => counter.onUpdate(body, at),
      });
    // One at a time, so a failed connect leaves only sessions the finally block knows of.
    for (let i = 0; i < s.clients; i++) receivers.push(await client(addresses[i]!, counters[i]!));
    const back = new EvpnRouteCounter(routes);
    injector = await client(RR_ADDRESSES.injector, back);
    const gen = injector;
    const all = [...counters, back];
    const endOfRib = await until(() => all.every((c) => c.endOfRibAt !== undefined), REFLECTOR_KINDS[s.name].endOfRibWaitMs);

    cpu = new CpuWatch(r.pid);
    rss = new RssWatch(r.pid, 500);
    const bench0 = process.cpuUsage();
    const { startedAt, done } = gen.send(s.table.stream);
    let sendError: string | undefined;
    let sentAt: number | undefined;
    done.then(
      (at) => (sentAt = at),
      (e: unknown) => (sendError = `injector: ${errorText(e)}`),
    );
    const deadline = startedAt + o.timeoutSec * 1000;
    const why = (): string | undefined => {
      if (wasInterrupted()) return 'interrupted';
      const gone = r.exited();
      if (gone !== undefined) return gone;
      if (sendError !== undefined) return sendError;
      if (gen.failure) return `injector: ${gen.failure.message}`;
      const failed = receivers.findIndex((x) => x.failure !== undefined);
      return failed >= 0 ? `receiver ${addresses[failed]}: ${receivers[failed]!.failure!.message}` : undefined;
    };
    for (;;) {
      if (counters.every((c) => c.doneAt !== undefined)) break;
      const stop = why();
      if (stop !== undefined) return { kind: 'failed', reason: stop, counts: counters.map((c) => c.held), rss: peakRss(r.pid) };
      if (nowMs() > deadline) return { kind: 'timeout', reason: '', counts: counters.map((c) => c.held), rss: peakRss(r.pid) };
      await sleep(10);
    }
    const benchCpu = process.cpuUsage(bench0);
    const doneAts = counters.map((c) => c.doneAt!);
    const last = Math.max(...doneAts);
    const busyEnd = await cpu.settled(startedAt, QUIET_MS, SETTLE_LIMIT_MS);
    const end = Math.max(last, busyEnd ?? last);
    const peak = peakRss(r.pid);
    const memory = await r.memory?.();
    rss.stop();
    // After the peak was read: the snapshot itself costs memory.
    if (o.heapProfDir !== undefined) await r.heapSnapshot?.(join(o.heapProfDir, `${s.runName}.heapsnapshot`));
    const rssTimeline = rss.samples.filter((x) => x.at <= end + 500).map((x) => x.bytes);
    const probe = s.probe ? await runProbe(gen, counters[0]!, s.table) : undefined;
    return {
      kind: 'done',
      seconds: (last - startedAt) / 1000,
      firstSeconds: (Math.min(...doneAts) - startedAt) / 1000,
      busySeconds: busyEnd !== undefined ? (end - startedAt) / 1000 : undefined,
      cpuSeconds: cpu.cpuSeconds(startedAt, end),
      sentSeconds: sentAt !== undefined ? (sentAt - startedAt) / 1000 : undefined,
      rss: peak,
      benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      backToInjector: back.held,
      endOfRib,
      memory,
      rssTimeline,
      probe,
    };
  } catch (e) {
    return { kind: 'failed', reason: errorText(e), counts: counters.map((c) => c.held) };
  } finally {
    cpu?.stop();
    rss?.stop();
    // The reflector goes first: ending the sessions first would set it withdrawing the table, work nobody measures.
    await reflector?.stop();
    for (const g of receivers) g.close();
    injector?.close();
  }
}

/** `runs` runs with a fresh reflector each; the fastest is reported, with the highest peak RSS of them all. */
async function runCell(name: ReceiverName, label: string, t: EvpnTable, clients: number, probe: boolean, o: RrOptions): Promise<Cell> {
  const times: number[] = [];
  let best: Extract<Outcome, { kind: 'done' }> | undefined;
  let peak = 0;
  let probeResult: ProbeResult | undefined;
  for (let i = 0; i < o.runs && !wasInterrupted(); i++) {
    process.stderr.write(`rr: ${count(t.routes)} routes, ${clients} client${clients > 1 ? 's' : ''}, ${label}, run ${i + 1}/${o.runs}: `);
    const runName = `rr-${name}-${t.routes}-${clients}c-run${i + 1}`;
    // The probe runs once, after the first load: its result does not depend on which run is fastest.
    const out = await runOnce({ name, table: t, clients, probe: probe && i === 0, runName }, o);
    if (out.kind !== 'done') {
      const counts = 'counts' in out ? ` (receivers held ${out.counts.map(count).join(', ')} of ${count(t.routes)})` : '';
      process.stderr.write(`${out.kind}${'reason' in out && out.reason !== '' ? `: ${out.reason}` : ''}${counts}\n`);
      return { size: t.routes, clients, name, label, outcome: out, times };
    }
    const timeline = out.rssTimeline.map((b) => Math.round(b / 1048576)).join(' ');
    process.stderr.write(`${fixed(out.seconds, 2)} s; RSS MiB every 0.5 s: ${timeline}\n`);
    times.push(out.seconds);
    peak = Math.max(peak, out.rss ?? 0);
    probeResult ??= out.probe;
    if (best === undefined || out.seconds < best.seconds) best = out;
  }
  if (best === undefined) return { size: t.routes, clients, name, label, outcome: { kind: 'failed', reason: 'interrupted', counts: [] }, times };
  return { size: t.routes, clients, name, label, outcome: { ...best, rss: peak > 0 ? peak : undefined }, times, probe: probeResult };
}

function row(c: Cell): string[] {
  const o = c.outcome;
  const n = String(c.clients);
  switch (o.kind) {
    case 'done':
      return [
        c.label,
        n,
        fixed(o.seconds, 2),
        count(c.size / o.seconds),
        fixed(o.firstSeconds, 2),
        o.busySeconds !== undefined ? fixed(o.busySeconds, 2) : '?',
        fixed(o.cpuSeconds, 2),
        o.rss !== undefined ? mib(o.rss) : '?',
        o.sentSeconds !== undefined ? fixed(o.sentSeconds, 2) : '?',
        fixed(o.benchCpuSeconds, 2),
        c.times.map((x) => fixed(x, 2)).join(' '),
      ];
    case 'timeout':
    case 'failed': {
      const rss = o.rss !== undefined ? mib(o.rss) : '';
      return [c.label, n, o.kind === 'timeout' ? 'timeout' : 'FAILED', '', '', '', '', rss, '', '', ''];
    }
    case 'skipped':
      return [c.label, n, 'skipped', '', '', '', '', '', '', '', ''];
  }
}

function ratio(cells: readonly Cell[], size: number, clients: number, other: ReceiverName): string | undefined {
  const v = cells.find((c) => c.size === size && c.clients === clients && c.name === 'vmmid')?.outcome;
  const x = cells.find((c) => c.size === size && c.clients === clients && c.name === other)?.outcome;
  if (v === undefined || x === undefined || x.kind === 'skipped') return undefined;
  if (v.kind !== 'done' || x.kind !== 'done') return `${clients} client${clients > 1 ? 's' : ''}: n/a`;
  const rss = v.rss !== undefined && x.rss !== undefined ? `  peak RSS ${fixed(v.rss / x.rss, 2)}x` : '';
  return `${clients} client${clients > 1 ? 's' : ''}: time ${fixed(v.seconds / x.seconds, 2)}x${rss}`;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function memoryLine(m: MemoryReport): string {
  const space = (name: string): string => mib(m[`space:${name}`] ?? 0);
  return (
    `RSS ${mib(m.rss ?? 0)} MiB: V8 heap ${mib(m.heapUsed ?? 0)} used of ${mib(m.heapTotal ?? 0)} ` +
    `(old space ${space('old_space')}, large objects ${space('large_object_space')}, new space ${space('new_space')}), ` +
    `off-heap ${mib(m.external ?? 0)} (array buffers ${mib(m.arrayBuffers ?? 0)})`
  );
}

/** Resolves false if a reflector failed (a timeout or a skip is a result, not a failure). */
export async function runRr(o: RrOptions): Promise<boolean> {
  const order = RECEIVERS.filter((r) => o.reflectors.includes(r));
  const gobgpCap = Math.max(...o.gobgpRoutes);
  const sizes = [...new Set([...o.routes, ...(order.includes('gobgp') ? o.gobgpRoutes : [])])].sort((a, b) => a - b);
  const clientCounts = [...o.clients].sort((a, b) => a - b);
  const labels = new Map<ReceiverName, string>();
  const missing = new Map<ReceiverName, string>();
  for (const name of order) {
    const kind = REFLECTOR_KINDS[name];
    const why = kind.unavailable();
    if (why !== undefined) missing.set(name, why);
    labels.set(name, await kind.version().catch(() => name));
  }

  console.log(
    `rr: EVPN route reflection. Type-2 MAC/IP routes, ${count(ROUTES_PER_RD)} per RD; one attribute set per RD ` +
      '(RT 65000:VNI, encapsulation VXLAN, LOCAL_PREF 100, next hop 10.0.0.1-250), encoded before connecting.',
  );
  console.log(
    `  injector ${RR_ADDRESSES.injector} -> reflector -> receivers ${receiverAddress(0)}..; all iBGP AS ${RR_AS}, ` +
      'every peer a route-reflector client (l2vpn-evpn only).',
  );
  console.log(
    `  seconds: first UPDATE byte written by the injector -> the LAST receiver holds every route, best of ${o.runs} ` +
      '(fresh reflector and clients each run); first s: -> the first receiver does; routes/s: routes / seconds.',
  );
  console.log('  busy: -> reflector CPU idle for 150 ms; CPU: reflector user+sys seconds until then (all threads);');
  console.log('  peak RSS: highest VmHWM of the runs; sent: -> the injector\'s last byte reached the kernel;');
  console.log('  bench CPU: the bench process (injector, every receiver, watchers; one event loop) until the last receiver was done.');
  if (order.includes('gobgp')) {
    console.log(`  GoBGP runs at ${o.gobgpRoutes.map(count).join(' and ')} routes only: its EVPN import slows down as the table grows.`);
  }
  const receiverRate = measureCounter(buildEvpnTable(Math.min(100_000, sizes[0]!)).stream, Math.min(100_000, sizes[0]!));
  console.log(
    `  receiver: frames and counts ${count(receiverRate)} routes/s on one core from memory (distinct routes by number, ` +
      'withdrawals included); the bench CPU column shows what the receivers took of the run.',
  );

  const cells: Cell[] = [];
  /** Said once however many runs show it. */
  const notes = new Set<string>();
  let failed = false;
  for (const size of sizes) {
    if (wasInterrupted()) break;
    const t = buildEvpnTable(size);
    const here: Cell[] = [];
    for (const clients of clientCounts) {
      for (const name of order) {
        if (wasInterrupted()) break;
        const label = labels.get(name) ?? name;
        const skip = missing.get(name) ?? (name === 'gobgp' && size > gobgpCap ? `capped at ${count(gobgpCap)} routes` : undefined);
        const cell =
          skip !== undefined
            ? { size, clients, name, label, outcome: { kind: 'skipped' as const, reason: skip }, times: [] }
            : await runCell(name, label, t, clients, clients === 1, o);
        if (cell.outcome.kind === 'failed') failed = true;
        here.push(cell);
        cells.push(cell);
      }
    }

    console.log('');
    console.log(
      `  ${count(size)} routes: ${count(t.rds)} RDs, ${count(t.stream.messages)} UPDATEs, ${count(t.stream.bytes)} bytes from the injector`,
    );
    const header = ['reflector', 'clients', 'seconds', 'routes/s', 'first s', 'busy s', 'CPU s', 'peak RSS MiB', 'sent s', 'bench CPU s', 'runs s'];
    console.log(table(header, here.map(row)).replace(/^/gm, '    '));
    for (const c of here) {
      const o2 = c.outcome;
      const who = `${c.label}, ${c.clients} client${c.clients > 1 ? 's' : ''}`;
      if (o2.kind === 'skipped' && c.clients === clientCounts[0]) console.log(`    ${c.label} skipped: ${o2.reason}`);
      if (o2.kind === 'timeout' || o2.kind === 'failed') {
        const what = o2.kind === 'timeout' ? `timed out after ${o.timeoutSec} s` : `failed: ${o2.reason}`;
        console.log(`    ${who} ${what}; receivers held ${o2.counts.map(count).join(', ')}`);
      }
      if (o2.kind === 'done') {
        if (!o2.endOfRib) notes.add(`${c.label} sends these clients no End-of-RIB: the injector starts ${REFLECTOR_KINDS[c.name].endOfRibWaitMs / 1000} s after the sessions come up.`);
        if (o2.backToInjector > 0) {
          notes.add(`${c.label} sends every route back to the injector that sent it as well (which drops them on ORIGINATOR_ID).`);
        }
        if (c.name === 'vmmid' && o2.memory !== undefined) console.log(`    ${who} when done: ${memoryLine(o2.memory)}`);
      }
    }
    for (const other of ['frr', 'gobgp'] as const) {
      if (!order.includes('vmmid') || !order.includes(other)) continue;
      const parts = clientCounts.map((n) => ratio(here, size, n, other)).filter((x): x is string => x !== undefined);
      if (parts.length === 0) continue;
      console.log(`    vmmid/${other === 'frr' ? 'FRR' : 'GoBGP'}: ${parts.join(';  ')}  (below 1: vmmid faster / smaller)`);
    }
  }

  if (notes.size > 0) console.log('');
  for (const n of notes) console.log(`  ${n}`);

  const probed = cells.filter((c) => c.probe !== undefined);
  if (probed.length > 0) {
    console.log('');
    console.log(
      `  latency probe: table loaded, 1 client; the injector changes one route's next hop ${PROBE_CHANGES} times, ` +
        `each after the previous change reached the receiver (+${PROBE_GAP_MS} ms); inject -> reflect: injector write -> receiver read`,
    );
    const rows = probed.map((c) => {
      const sorted = [...c.probe!.latencies].sort((a, b) => a - b);
      return [
        c.label,
        count(c.size),
        fixed(percentile(sorted, 50), 2),
        fixed(percentile(sorted, 99), 2),
        fixed(sorted[sorted.length - 1] ?? NaN, 2),
        String(c.probe!.lost),
      ];
    });
    console.log(table(['reflector', 'routes', 'p50 ms', 'p99 ms', 'max ms', 'lost'], rows).replace(/^/gm, '    '));
    console.log(`    lost: no change within ${PROBE_TIMEOUT_MS / 1000} s. FRR 8.4 runs with its defaults: iBGP advertisement-interval (MRAI) 0,`);
    console.log('    no bgp update-delay. Its ~50 ms floor is the hold of its best-path work queue (bgp_route.c: process_queue spec.hold = 50 ms),');
    console.log('    which no configuration command changes.');
  }
  return !failed;
}
