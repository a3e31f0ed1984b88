/** Runs gobgpd on one loopback address with its gRPC API on the same address. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAndWait, makeRunDir, processGone, run, runOk, tail, track, waitFor, type Family } from './tools.js';

export interface GobgpOptions {
  readonly name: string;
  readonly address: string;
  /** BGP listen port; must match `[global.config] port` in the config (gobgpConfig writes it). */
  readonly port: number;
  /** TOML text, e.g. from gobgpConfig(). */
  readonly config: string;
  readonly apiPort?: number;
  /** Extra gobgpd flags, e.g. ['-r'] to restart with the graceful-restart R and F bits set. */
  readonly args?: readonly string[];
}

export interface GobgpHandle {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly apiPort: number;
  readonly pid: number;
  readonly dir: string;
  readonly logPath: string;
  readonly confPath: string;
  /** Runs `gobgp -u ADDR -p APIPORT ...args` and returns stdout. */
  cli(args: readonly string[]): Promise<string>;
  /** cli() with `-j`, parsed; callers narrow the result. */
  json(args: readonly string[]): Promise<unknown>;
  stop(): Promise<void>;
}

const GOBGP_FAMILY: Record<Family, string> = {
  'ipv4-unicast': 'ipv4-unicast',
  'ipv6-unicast': 'ipv6-unicast',
  'l2vpn-evpn': 'l2vpn-evpn',
  'ipv4-vpn': 'l3vpn-ipv4-unicast',
  'ipv6-vpn': 'l3vpn-ipv6-unicast',
};

export interface GobgpNeighbor {
  readonly address: string;
  readonly peerAs: number;
  readonly localAddress: string;
  readonly remotePort?: number;
  readonly families: readonly Family[];
  readonly passive?: boolean;
  readonly timers?: { readonly keepalive: number; readonly hold: number };
  readonly rrClient?: boolean;
  readonly gracefulRestart?: boolean;
}

export interface GobgpConfigOptions {
  readonly asn: number;
  readonly routerId: string;
  /** -1 makes gobgpd not listen at all (active-only). */
  readonly port: number;
  readonly localAddresses: readonly string[];
  readonly neighbors: readonly GobgpNeighbor[];
}

const q = (s: string): string => JSON.stringify(s);

/** Builds gobgpd TOML in the shape of /work/shared/lab/conf/*.toml. */
export function gobgpConfig(o: GobgpConfigOptions): string {
  const out: string[] = [
    '[global.config]',
    `  as = ${o.asn}`,
    `  router-id = ${q(o.routerId)}`,
    `  port = ${o.port}`,
    `  local-address-list = [${o.localAddresses.map(q).join(', ')}]`,
  ];
  for (const n of o.neighbors) {
    out.push('', '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = ${q(n.address)}`, `    peer-as = ${n.peerAs}`);
    out.push('  [neighbors.transport.config]', `    local-address = ${q(n.localAddress)}`);
    if (n.remotePort !== undefined) out.push(`    remote-port = ${n.remotePort}`);
    if (n.passive === true) out.push('    passive-mode = true');
    // connect-retry 1: the default 120 s would stall a test whenever the first attempt races the peer's start.
    out.push('  [neighbors.timers.config]', '    connect-retry = 1');
    if (n.timers !== undefined) {
      out.push(`    hold-time = ${n.timers.hold}`, `    keepalive-interval = ${n.timers.keepalive}`);
    }
    if (n.rrClient === true) {
      out.push('  [neighbors.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = ${q(o.routerId)}`);
    }
    if (n.gracefulRestart === true) out.push('  [neighbors.graceful-restart.config]', '    enabled = true');
    for (const f of n.families) {
      out.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = ${q(GOBGP_FAMILY[f])}`);
      if (n.gracefulRestart === true) out.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
  }
  return `${out.join('\n')}\n`;
}

export async function startGobgp(o: GobgpOptions): Promise<GobgpHandle> {
  const apiPort = o.apiPort ?? 50051;
  const dir = await makeRunDir(o.name);
  const confPath = join(dir, 'gobgpd.toml');
  const logPath = join(dir, 'gobgpd.log');
  writeFileSync(confPath, o.config);
  const logFd = openSync(logPath, 'a');
  // pprof defaults to localhost:6060 and would clash between instances.
  const child = spawn(
    'gobgpd',
    ['-f', confPath, '-t', 'toml', '-p', '--api-hosts', `${o.address}:${apiPort}`, '--pprof-disable', ...(o.args ?? [])],
    { stdio: ['ignore', logFd, logFd], detached: true },
  );
  closeSync(logFd);
  const pid = await new Promise<number>((res, rej) => {
    child.once('error', rej);
    child.once('spawn', () => (child.pid === undefined ? rej(new Error('gobgpd: no pid')) : res(child.pid)));
  });
  // Detached + unref: the daemon must not keep the test's event loop alive; track() still stops it on exit.
  child.unref();
  track(pid);
  writeFileSync(join(dir, 'gobgpd.pid'), `${pid}\n`);
  let exited = false;
  child.once('exit', () => (exited = true));

  const base = ['-u', o.address, '-p', String(apiPort)];
  const cli = (args: readonly string[]): Promise<string> => runOk('gobgp', [...base, ...args]);
  const handle: GobgpHandle = {
    name: o.name,
    address: o.address,
    port: o.port,
    apiPort,
    pid,
    dir,
    logPath,
    confPath,
    cli,
    async json(args: readonly string[]): Promise<unknown> {
      const text = await cli([...args, '-j']);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`gobgp ${args.join(' ')} -j on ${o.name} did not return JSON: ${text.slice(0, 500)}`);
      }
    },
    async stop(): Promise<void> {
      await killAndWait(pid, `gobgpd ${o.name}`);
    },
  };
  const ready = await waitFor(
    async () => {
      if (exited || processGone(pid)) return 'exited';
      return (await run('gobgp', [...base, 'global'], { timeoutMs: 3_000 })).code === 0;
    },
    { what: `gobgpd ${o.name} API on ${o.address}:${apiPort}`, until: (v) => v === true || v === 'exited', timeoutMs: 10_000 },
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nlog:\n${tail(logPath)}`);
  });
  if (ready === 'exited') throw new Error(`gobgpd ${o.name} exited during startup:\n${tail(logPath)}`);
  return handle;
}
