/**
 * Runs FRR bgpd standalone (no zebra) on one loopback address, one instance per
 * work directory, so several can run side by side.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FRR_BIN,
  killAndWait,
  makeRunDir,
  processGone,
  runOk,
  tail,
  track,
  waitFor,
  type Family,
} from './tools.js';

export interface FrrOptions {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Full bgpd.conf text, e.g. from frrConfig(). */
  readonly config: string;
}

export interface FrrHandle {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logPath: string;
  readonly confPath: string;
  /** Runs one vtysh command, or several in one session (e.g. 'configure terminal', ...). */
  vtysh(cmd: string | readonly string[]): Promise<string>;
  /** Runs a `... json` command and parses it; callers narrow the result. */
  json(cmd: string): Promise<unknown>;
  /** Enters `configure terminal` and applies the lines in order. */
  configure(lines: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

const FRR_FAMILY: Record<Family, string> = {
  'ipv4-unicast': 'ipv4 unicast',
  'ipv6-unicast': 'ipv6 unicast',
  'l2vpn-evpn': 'l2vpn evpn',
  'ipv4-vpn': 'ipv4 vpn',
  'ipv6-vpn': 'ipv6 vpn',
};

const FAMILY_ORDER: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast', 'ipv4-vpn', 'ipv6-vpn', 'l2vpn-evpn'];

export interface FrrNeighbor {
  readonly address: string;
  readonly remoteAs: number | 'internal' | 'external';
  readonly port?: number;
  readonly updateSource: string;
  readonly families: readonly Family[];
  readonly passive?: boolean;
  readonly timers?: { readonly keepalive: number; readonly hold: number };
  readonly rrClient?: boolean;
  /**
   * Route-maps applied in every activated family; define them in `trailer`. FRR and
   * GoBGP both drop routes whose next hop is in 127/8, so tests on loopback usually
   * need an outbound map with `set ip next-hop 10.0.0.x`.
   */
  readonly routeMapIn?: string;
  readonly routeMapOut?: string;
  /** Raw `neighbor ADDR ...` suffixes at router level, e.g. 'capability extended-nexthop'. */
  readonly extra?: readonly string[];
  /** Raw `neighbor ADDR ...` suffixes inside each activated family, e.g. 'addpath-tx-all-paths'. */
  readonly familyExtra?: readonly string[];
}

export interface FrrConfigOptions {
  readonly hostname?: string;
  readonly routerId: string;
  readonly asn: number;
  readonly neighbors: readonly FrrNeighbor[];
  /** Per family, what follows `network `, e.g. '10.9.0.0/24 rd 65000:9 label 99' for ipv4-vpn. */
  readonly networks?: Partial<Record<Family, readonly string[]>>;
  /** Keep `bgp network import-check`; off by default because without zebra no network would ever be advertised. */
  readonly importCheck?: boolean;
  /** Raw lines under `router bgp`, before the address families. */
  readonly routerExtra?: readonly string[];
  /** Raw lines inside an address family block. */
  readonly familyExtra?: Partial<Record<Family, readonly string[]>>;
  /** Raw top-level lines after `router bgp` (route-maps, prefix-lists). */
  readonly trailer?: readonly string[];
}

/** Builds a bgpd.conf for the common cases; anything unusual goes in the *Extra fields. */
export function frrConfig(o: FrrConfigOptions): string {
  const out: string[] = [];
  out.push(`hostname ${o.hostname ?? `frr-${o.routerId}`}`, '!');
  out.push(`router bgp ${o.asn}`);
  out.push(` bgp router-id ${o.routerId}`);
  out.push(' no bgp default ipv4-unicast');
  out.push(' no bgp ebgp-requires-policy');
  if (o.importCheck !== true) out.push(' no bgp network import-check');
  out.push(' bgp log-neighbor-changes');
  for (const line of o.routerExtra ?? []) out.push(` ${line}`);
  for (const n of o.neighbors) {
    const a = n.address;
    out.push(` neighbor ${a} remote-as ${n.remoteAs}`);
    out.push(` neighbor ${a} update-source ${n.updateSource}`);
    if (n.port !== undefined) out.push(` neighbor ${a} port ${n.port}`);
    if (n.passive === true) out.push(` neighbor ${a} passive`);
    if (n.timers !== undefined) out.push(` neighbor ${a} timers ${n.timers.keepalive} ${n.timers.hold}`);
    // The default 120 s connect retry would stall a test whenever the first attempt races the peer's start.
    out.push(` neighbor ${a} timers connect 1`);
    for (const x of n.extra ?? []) out.push(` neighbor ${a} ${x}`);
  }
  const families = new Set<Family>([
    ...o.neighbors.flatMap((n) => n.families),
    ...(Object.keys(o.networks ?? {}) as Family[]),
    ...(Object.keys(o.familyExtra ?? {}) as Family[]),
  ]);
  for (const f of FAMILY_ORDER) {
    if (!families.has(f)) continue;
    out.push(' !', ` address-family ${FRR_FAMILY[f]}`);
    for (const net of o.networks?.[f] ?? []) out.push(`  network ${net}`);
    for (const n of o.neighbors) {
      if (!n.families.includes(f)) continue;
      out.push(`  neighbor ${n.address} activate`);
      if (n.rrClient === true) out.push(`  neighbor ${n.address} route-reflector-client`);
      if (n.routeMapIn !== undefined) out.push(`  neighbor ${n.address} route-map ${n.routeMapIn} in`);
      if (n.routeMapOut !== undefined) out.push(`  neighbor ${n.address} route-map ${n.routeMapOut} out`);
      for (const x of n.familyExtra ?? []) out.push(`  neighbor ${n.address} ${x}`);
    }
    for (const line of o.familyExtra?.[f] ?? []) out.push(`  ${line}`);
    out.push(' exit-address-family');
  }
  out.push('exit', '!');
  for (const line of o.trailer ?? []) out.push(line);
  return `${out.join('\n')}\n`;
}

function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

/** vtysh on one instance's socket directory: commands, JSON answers and configuration. */
export function vtyshClient(name: string, dir: string): Pick<FrrHandle, 'vtysh' | 'json' | 'configure'> {
  const vtysh = async (cmd: string | readonly string[]): Promise<string> => {
    const cmds = typeof cmd === 'string' ? [cmd] : cmd;
    return runOk('vtysh', ['--vty_socket', dir, ...cmds.flatMap((c) => ['-c', c])]);
  };
  return {
    vtysh,
    async json(cmd: string): Promise<unknown> {
      const text = await vtysh(cmd);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`vtysh '${cmd}' on ${name} did not return JSON: ${text.slice(0, 500)}`);
      }
    },
    configure: (lines) => vtysh(['configure terminal', ...lines]),
  };
}

export async function startFrr(o: FrrOptions): Promise<FrrHandle> {
  const dir = await makeRunDir(o.name);
  const confPath = join(dir, 'bgpd.conf');
  const pidFile = join(dir, 'bgpd.pid');
  const logPath = join(dir, 'bgpd.log');
  writeFileSync(confPath, o.config);
  // -Z: no zebra; -l: bind only this address (implies -n); -P 0: no vty TCP port, the
  // default 2605 clashes between instances; -S: no switch to user frr, which cannot write dir.
  const args = [
    '-d', '-Z', '-S',
    '-l', o.address, '-p', String(o.port), '-P', '0',
    '-i', pidFile, '--vty_socket', dir, '-f', confPath, '--log', `file:${logPath}`,
  ];
  const bgpd = join(FRR_BIN, 'bgpd');
  const launcher = spawn(bgpd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let launchErr = '';
  launcher.stderr.setEncoding('utf8').on('data', (d: string) => (launchErr += d));
  const code = await new Promise<number | null>((res, rej) => {
    launcher.once('error', rej);
    launcher.once('exit', (c) => res(c));
  });
  if (code !== 0) {
    throw new Error(`bgpd ${o.name} failed to daemonize (exit ${code}): ${launchErr.trim()}\n${tail(logPath)}`);
  }
  const vtySock = join(dir, 'bgpd.vty');
  const pid = await waitFor(() => (existsSync(vtySock) ? readPid(pidFile) : undefined), {
    what: `bgpd ${o.name} pid file and vty socket in ${dir}`,
    timeoutMs: 10_000,
    intervalMs: 50,
  }).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nlog:\n${tail(logPath)}`);
  });
  track(pid);

  const { vtysh, json, configure } = vtyshClient(o.name, dir);
  const handle: FrrHandle = {
    name: o.name,
    address: o.address,
    port: o.port,
    pid,
    dir,
    logPath,
    confPath,
    vtysh,
    json,
    configure,
    async stop(): Promise<void> {
      const current = readPid(pidFile) ?? pid;
      await killAndWait(current, `bgpd ${o.name}`);
    },
  };
  // Startup can still fail after daemonizing (config errors are logged, not fatal, but a bind clash is).
  await waitFor(async () => (processGone(pid) ? 'exited' : (await vtysh('show version')).includes('FRRouting')), {
    what: `bgpd ${o.name} to answer vtysh`,
    until: (v) => v === true || v === 'exited',
    timeoutMs: 10_000,
  });
  if (processGone(pid)) throw new Error(`bgpd ${o.name} exited during startup:\n${tail(logPath)}`);
  return handle;
}
