export const SUITES = ['codec', 'ingest'] as const;
export type Suite = (typeof SUITES)[number];

export const RECEIVERS = ['vmmid', 'frr', 'gobgp'] as const;
export type ReceiverName = (typeof RECEIVERS)[number];

export interface BenchArgs {
  readonly suites: readonly Suite[];
  /** Undefined: each suite's own default. */
  readonly routes?: number;
  readonly timeoutSec: number;
  /** Timed runs per measurement; the best is reported. */
  readonly runs: number;
  readonly receivers: readonly ReceiverName[];
  /** Run the vmmid sink under --cpu-prof, writing into this directory. */
  readonly cpuProfDir?: string;
}

export const USAGE = `usage: npm run bench -- [codec] [ingest] [--routes N] [--runs N] [--timeout SECONDS]
                        [--receivers vmmid,frr,gobgp] [--cpu-prof DIR]
  codec     encode, frame and decode a table in memory (default 1,000,000 routes)
  ingest    send a table over loopback to vmmid, FRR bgpd and gobgpd (default 200,000 routes)
  --runs N        timed runs per measurement, best reported (default 3)
  --timeout S     per ingest run (default 120)
  --receivers     which ingest receivers, in this order: vmmid,frr,gobgp
  --cpu-prof DIR  run the vmmid sink under node --cpu-prof, profiles into DIR
  With no suite, both run.`;

function isSuite(s: string): s is Suite {
  return (SUITES as readonly string[]).includes(s);
}

function isReceiver(s: string): s is ReceiverName {
  return (RECEIVERS as readonly string[]).includes(s);
}

function positiveInt(flag: string, text: string | undefined): number {
  // Underscores and commas allow 1_000_000 and 1,000,000.
  const n = Number((text ?? '').replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(text ?? '')}`);
  return n;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const suites: Suite[] = [];
  let routes: number | undefined;
  let timeoutSec = 120;
  let runs = 3;
  let receivers: ReceiverName[] = [...RECEIVERS];
  let cpuProfDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string | undefined => (raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--routes':
        routes = positiveInt(flag, value());
        break;
      case '--timeout':
        timeoutSec = positiveInt(flag, value());
        break;
      case '--runs':
        runs = positiveInt(flag, value());
        break;
      case '--receivers': {
        const list = (value() ?? '').split(',').filter((s) => s !== '');
        const bad = list.filter((r) => !isReceiver(r));
        if (bad.length > 0 || list.length === 0) throw new Error(`--receivers takes a list of ${RECEIVERS.join(', ')}`);
        receivers = list.filter(isReceiver);
        break;
      }
      case '--cpu-prof': {
        const dir = value();
        if (dir === undefined || dir === '') throw new Error('--cpu-prof needs a directory');
        cpuProfDir = dir;
        break;
      }
      default:
        if (!isSuite(raw)) throw new Error(`unknown argument ${JSON.stringify(raw)}\n${USAGE}`);
        if (!suites.includes(raw)) suites.push(raw);
    }
  }
  return { suites: suites.length > 0 ? suites : [...SUITES], routes, timeoutSec, runs, receivers, cpuProfDir };
}
