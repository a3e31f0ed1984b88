export const SUITES = ['codec', 'ingest', 'rr', 'store', 'api', 'mobility'] as const;
export type Suite = (typeof SUITES)[number];
/** rr and mobility take minutes at their default sizes, and store measures the disk rather than vmmi's code, so they run only when named. */
export const DEFAULT_SUITES: readonly Suite[] = ['codec', 'ingest'];

export const RECEIVERS = ['vmmid', 'frr', 'gobgp'] as const;
export type ReceiverName = (typeof RECEIVERS)[number];

/** rr receivers take 127.0.6.11 upwards. */
export const MAX_CLIENTS = 16;

export interface BenchArgs {
  readonly suites: readonly Suite[];
  /** Undefined: each suite's own default. codec and ingest run once per size. */
  readonly routes?: readonly number[];
  /** Undefined: each suite's own default. */
  readonly timeoutSec?: number;
  /** Timed runs per measurement; the best is reported. */
  readonly runs: number;
  readonly receivers: readonly ReceiverName[];
  /** rr: how many receiving clients the reflector serves, one measurement each. */
  readonly clients?: readonly number[];
  /** rr: the sizes GoBGP runs at (vmmid and FRR run at them too, for same-run ratios). */
  readonly gobgpRoutes?: readonly number[];
  /** Run the vmmid sink (ingest), reflector (rr) or daemon (api, mobility) under --cpu-prof, writing into this directory. */
  readonly cpuProfDir?: string;
  /** rr: run the vmmid reflector under --heap-prof, writing into this directory. */
  readonly heapProfDir?: string;
}

export const USAGE = `usage: npm run bench -- [codec] [ingest] [rr] [store] [api] [mobility] [--routes N[,N...]] [--runs N] [--timeout SECONDS]
                        [--receivers vmmid,frr,gobgp] [--clients N[,N...]] [--gobgp-routes N[,N...]]
                        [--cpu-prof DIR] [--heap-prof DIR]
  codec     encode, frame and decode a table in memory (default 1,000,000 routes)
  ingest    send a table over loopback to vmmid, FRR bgpd and gobgpd (default 200,000 routes)
  rr        vmmid, FRR bgpd and gobgpd as EVPN route reflectors: one injector, --clients receivers
            (default --routes 100000,1000000 --clients 1,4; GoBGP at --gobgp-routes 10000,20000 only)
  store     the durable VM store: fsync'd put latency, 64-caller group-commit throughput, replay time
            (in the OS temp dir, or under $VMMI_BENCH_STORE_DIR)
  api       AnnounceVm → UPDATE at 4 established peers through the real vmmid: median/p99 over
            10,000 sequential announcements, then the sustained rate from 64 callers (--routes N
            sets the number of announcements)
  mobility  VM moves from VTEP A to VTEP B, 4 established peers: single-move latency (1,000 moves, median/p99)
            and a rack evacuation of every VM at once, vmmid (AnnounceVm) beside FRR bgpd as reflector
            of a PE's UPDATEs (default --routes 10000 VMs; --receivers vmmid,frr)
  --routes        table sizes; each suite runs once per size
  --runs N        timed runs per measurement, best reported (default 3)
  --timeout S     per ingest or rr run (default ingest 120, rr 300), per mobility phase (default 120)
  --receivers     which daemons, in this order: vmmid,frr,gobgp (the reflectors under test for rr)
  --clients       rr: receiving clients per measurement (default 1,4)
  --gobgp-routes  rr: sizes GoBGP runs at; it is skipped above the largest (default 10000,20000)
  --cpu-prof DIR  run the vmmid sink / reflector / daemon (api, mobility) under node --cpu-prof, profiles into DIR
  --heap-prof DIR rr: run the vmmid reflector under node --heap-prof, profiles into DIR
  With no suite, codec and ingest run.`;

function isSuite(s: string): s is Suite {
  return (SUITES as readonly string[]).includes(s);
}

function isReceiver(s: string): s is ReceiverName {
  return (RECEIVERS as readonly string[]).includes(s);
}

function positiveInt(flag: string, text: string | undefined): number {
  // Underscores allow 1_000_000; commas as thousands separators are handled by positiveInts.
  const n = Number((text ?? '').replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(text ?? '')}`);
  return n;
}

/**
 * "1,000,000" has always meant one number here, so a value whose commas all
 * sit before groups of three digits stays one number; any other comma
 * separates list items ("100000,1000000").
 */
function positiveInts(flag: string, text: string | undefined): number[] {
  const t = (text ?? '').trim();
  if (/^\d{1,3}(,\d{3})+$/.test(t)) return [positiveInt(flag, t)];
  const list = t.split(',').filter((s) => s !== '');
  const bad = list.length === 0 || list.some((s) => !/^[\d_]+$/.test(s) || Number(s.replace(/_/g, '')) < 1);
  if (bad) throw new Error(`${flag}: ${JSON.stringify(t)} is neither a number (1000000, 1,000,000) nor a list of numbers (100000,1000000)`);
  return [...new Set(list.map((s) => positiveInt(flag, s)))];
}

function directory(flag: string, text: string | undefined): string {
  if (text === undefined || text === '') throw new Error(`${flag} needs a directory`);
  return text;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const suites: Suite[] = [];
  let routes: number[] | undefined;
  let timeoutSec: number | undefined;
  let runs = 3;
  let receivers: ReceiverName[] = [...RECEIVERS];
  let clients: number[] | undefined;
  let gobgpRoutes: number[] | undefined;
  let cpuProfDir: string | undefined;
  let heapProfDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string | undefined => (raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--routes':
        routes = positiveInts(flag, value());
        break;
      case '--timeout':
        timeoutSec = positiveInt(flag, value());
        break;
      case '--runs':
        runs = positiveInt(flag, value());
        break;
      case '--clients':
        clients = positiveInts(flag, value());
        if (clients.some((c) => c > MAX_CLIENTS)) throw new Error(`--clients: at most ${MAX_CLIENTS} (one 127.0.6.x address each)`);
        break;
      case '--gobgp-routes':
        gobgpRoutes = positiveInts(flag, value());
        break;
      case '--receivers': {
        const list = (value() ?? '').split(',').filter((s) => s !== '');
        const bad = list.filter((r) => !isReceiver(r));
        if (bad.length > 0 || list.length === 0) throw new Error(`--receivers takes a list of ${RECEIVERS.join(', ')}`);
        receivers = list.filter(isReceiver);
        break;
      }
      case '--cpu-prof':
        cpuProfDir = directory(flag, value());
        break;
      case '--heap-prof':
        heapProfDir = directory(flag, value());
        break;
      default:
        if (!isSuite(raw)) throw new Error(`unknown argument ${JSON.stringify(raw)}\n${USAGE}`);
        if (!suites.includes(raw)) suites.push(raw);
    }
  }
  return {
    suites: suites.length > 0 ? suites : [...DEFAULT_SUITES],
    routes,
    timeoutSec,
    runs,
    receivers,
    clients,
    gobgpRoutes,
    cpuProfDir,
    heapProfDir,
  };
}
