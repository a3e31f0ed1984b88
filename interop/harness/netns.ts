/**
 * Network namespaces for data-plane interop tests: namespaces, veth pairs,
 * bridges, VXLAN devices, the kernel FDB, processes inside a namespace and FRR
 * (zebra + bgpd) running in one. Everything here needs root; every address
 * lives only inside namespaces the test created (or on a veth the test made).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FrrHandle, vtyshClient } from './frr.js';
import { FRR_BIN, killAndWait, makeRunDir, processGone, repoRoot, run, runOk, tail, track, untrack, waitFor, which } from './tools.js';

/** `ip ARGS`, rejecting with the command line and its output on failure. */
export function ip(args: readonly string[]): Promise<string> {
  return runOk('ip', args);
}

/** Runs a program inside a namespace (`ip netns exec` execs it, so it keeps ip's pid). */
export function nsExec(ns: string, file: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return runOk('ip', ['netns', 'exec', ns, file, ...args], opts);
}

/**
 * Why data-plane tests cannot run here, or undefined when they can: root (for
 * namespaces, veth, VXLAN and ping's 10 ms interval), iproute2 with netns and
 * bridge, FRR's zebra, bgpd and vtysh plus the frr user zebra drops to, and ping.
 */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'data-plane tests need root (network namespaces, veth, VXLAN)';
  const missing = ['ip', 'bridge', 'ping', 'vtysh', 'zebra', 'bgpd'].filter((b) => which(b) === undefined);
  if (missing.length > 0) return `${missing.join(', ')} missing`;
  const r = await run('ip', ['netns', 'list']);
  if (r.code !== 0) return `ip netns does not work: ${r.stderr.trim()}`;
  if (frrIds() === undefined) return 'user frr (zebra drops to it) does not exist';
  return undefined;
}

/** uid/gid of user frr, from /etc/passwd (zebra has no option to stay root). */
function frrIds(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
    const f = line?.split(':');
    if (f === undefined || f.length < 4) return undefined;
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids of processes inside a namespace (`ip netns pids`). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter((s) => s !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Deletes a namespace after ending the processes inside it. `ip netns del`
 * only drops the name: the namespace (and its links, and the far ends of
 * veth pairs reaching out of it) lives until its last process is gone.
 */
export async function deleteNetns(ns: string): Promise<void> {
  for (const pid of await netnsPids(ns)) await killAndWait(pid, `process in netns ${ns}`, 2_000);
  await run('ip', ['netns', 'del', ns]);
}

/**
 * A set of namespaces named `<prefix><name>`, where the prefix embeds this
 * process' pid (`vmmi-dp-<pid>-`). Namespaces of the same scheme whose pid is
 * no longer alive are leftovers of a crashed run and are removed by
 * cleanStale(); close() removes this run's in reverse order of creation.
 */
export class NetnsLab {
  readonly prefix: string;
  private readonly created: string[] = [];
  private readonly rootLinks: string[] = [];

  /** `scheme` is e.g. 'vmmi-dp'; the prefix becomes `vmmi-dp-<pid>-`. */
  constructor(private readonly scheme: string) {
    this.prefix = `${scheme}-${process.pid}-`;
  }

  private static pidDir(): string {
    return join(repoRoot(), '.run', 'interop', 'netns-pids');
  }

  /**
   * Records a root-namespace process of this run (e.g. vmmid), so that
   * cleanStale() of a later run can end it if this run dies without cleaning
   * up (kill -9 skips the exit hook that stops tracked processes). Its command
   * line is kept too: a recycled pid is never killed.
   */
  ownProcess(pid: number): void {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return;
    }
    mkdirSync(NetnsLab.pidDir(), { recursive: true });
    appendFileSync(join(NetnsLab.pidDir(), `${this.prefix}pids`), `${JSON.stringify({ pid, cmdline })}\n`);
  }

  /** Ends the recorded processes of dead runs of this scheme whose command line is unchanged. */
  private async killStaleProcesses(): Promise<string[]> {
    const dir = NetnsLab.pidDir();
    if (!existsSync(dir)) return [];
    const re = new RegExp(`^${this.scheme}-(\\d+)-pids$`);
    const out: string[] = [];
    for (const f of readdirSync(dir)) {
      const m = re.exec(f);
      if (m === null || pidAlive(Number(m[1]))) continue;
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '')) {
        const { pid, cmdline } = JSON.parse(line) as { pid: number; cmdline: string };
        let now = '';
        try {
          now = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        if (now !== cmdline) continue;
        await killAndWait(pid, `leftover process ${pid}`, 2_000);
        out.push(`pid ${pid}`);
      }
      rmSync(join(dir, f), { force: true });
    }
    return out;
  }

  /**
   * Removes namespaces `<scheme>-<pid>-*`, root-namespace links
   * `<linkScheme><pid>` and processes recorded by ownProcess() of dead pids.
   */
  async cleanStale(linkScheme?: string): Promise<string[]> {
    const removed: string[] = await this.killStaleProcesses();
    const nsRe = new RegExp(`^${this.scheme}-(\\d+)-\\S+`);
    const list = await runOk('ip', ['netns', 'list']);
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const m = nsRe.exec(name);
      if (m === null || pidAlive(Number(m[1]))) continue;
      await deleteNetns(name);
      removed.push(name);
    }
    if (linkScheme !== undefined) {
      const linkRe = new RegExp(`^${linkScheme}(\\d+)`);
      for (const l of await links()) {
        const m = linkRe.exec(l);
        if (m === null || pidAlive(Number(m[1]))) continue;
        await run('ip', ['link', 'del', l]);
        removed.push(l);
      }
    }
    return removed;
  }

  /**
   * A new namespace with lo up and IPv6 off: without IPv6 no router
   * solicitations, DAD or MLD reports cross the bridges, so the only frames
   * there are the test's (and an IPv6 address can't make a VM announce itself).
   */
  async add(name: string): Promise<string> {
    const ns = `${this.prefix}${name}`;
    await ip(['netns', 'add', ns]);
    this.created.push(ns);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    await nsExec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /** Records a root-namespace link so close() deletes it even if its namespace end survived. */
  ownRootLink(name: string): void {
    this.rootLinks.push(name);
  }

  async close(): Promise<void> {
    for (const ns of [...this.created].reverse()) await deleteNetns(ns);
    for (const l of this.rootLinks) {
      if ((await links()).includes(l)) await run('ip', ['link', 'del', l]);
    }
    this.created.length = 0;
    rmSync(join(NetnsLab.pidDir(), `${this.prefix}pids`), { force: true });
  }
}

/** Link names in the root namespace. */
async function links(): Promise<string[]> {
  const out = await runOk('ip', ['-o', 'link', 'show']);
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

/** One end of a veth pair: its name and namespace (undefined: the root namespace). */
export interface LinkEnd {
  readonly name: string;
  readonly ns?: string;
}

/** Creates a veth pair with each end already in its namespace (no rename/move race). */
export async function addVeth(a: LinkEnd, b: LinkEnd, opts: { mac?: string } = {}): Promise<void> {
  const side = (e: LinkEnd): string[] => [e.name, ...(e.ns !== undefined ? ['netns', e.ns] : [])];
  await ip(['link', 'add', ...side(a), ...(opts.mac !== undefined ? ['address', opts.mac] : []), 'type', 'veth', 'peer', 'name', ...side(b)]);
}

function nsArgs(ns: string | undefined): string[] {
  return ns !== undefined ? ['-n', ns] : [];
}

export async function addAddress(ns: string | undefined, dev: string, cidr: string): Promise<void> {
  await ip([...nsArgs(ns), 'addr', 'add', cidr, 'dev', dev]);
}

export async function linkUp(ns: string | undefined, dev: string): Promise<void> {
  await ip([...nsArgs(ns), 'link', 'set', dev, 'up']);
}

/** Enslaves dev to a bridge and brings it up in one command. */
export async function setMaster(ns: string, dev: string, bridge: string): Promise<void> {
  await ip(['-n', ns, 'link', 'set', dev, 'master', bridge, 'up']);
}

/** A bridge, up, without an IPv6 link-local address of its own. */
export async function addBridge(ns: string, name: string): Promise<void> {
  await ip(['-n', ns, 'link', 'add', name, 'type', 'bridge']);
  await ip(['-n', ns, 'link', 'set', name, 'addrgenmode', 'none', 'up']);
}

export interface VxlanOptions {
  readonly name: string;
  readonly vni: number;
  /** The VTEP address; must exist in the namespace. */
  readonly local: string;
  readonly bridge: string;
}

/**
 * A VXLAN device on a bridge, as an EVPN VTEP wants it: `nolearning`, because
 * remote MACs come from the control plane (zebra, or the test acting as
 * agent), and bridge-port learning off, so the bridge never learns a remote MAC
 * on the VXLAN port by itself and hides a control-plane mistake.
 */
export async function addVxlan(ns: string, o: VxlanOptions): Promise<void> {
  await ip(['-n', ns, 'link', 'add', o.name, 'type', 'vxlan', 'id', String(o.vni), 'local', o.local, 'dstport', '4789', 'nolearning']);
  await ip(['-n', ns, 'link', 'set', o.name, 'master', o.bridge, 'addrgenmode', 'none']);
  await ip(['-n', ns, 'link', 'set', o.name, 'type', 'bridge_slave', 'neigh_suppress', 'off', 'learning', 'off']);
  await ip(['-n', ns, 'link', 'set', o.name, 'up']);
}

/** Adds a VXLAN FDB entry (`bridge fdb append`: several all-zero entries make a flood list). */
export async function fdbAppend(ns: string, dev: string, mac: string, dst: string): Promise<void> {
  await runOk('bridge', ['-n', ns, 'fdb', 'append', mac, 'dev', dev, 'dst', dst]);
}

/** One kernel FDB entry from `bridge -j fdb show`. */
export interface FdbEntry {
  readonly mac: string;
  readonly dst?: string;
  readonly flags: readonly string[];
  readonly master?: string;
}

/** The FDB entries of one device in a namespace. */
export async function fdbShow(ns: string, dev: string): Promise<FdbEntry[]> {
  const out = await runOk('bridge', ['-n', ns, '-j', 'fdb', 'show', 'dev', dev]);
  const parsed: unknown = JSON.parse(out === '' ? '[]' : out);
  if (!Array.isArray(parsed)) return [];
  return (parsed as Record<string, unknown>[]).map((e) => ({
    mac: String(e.mac).toLowerCase(),
    ...(typeof e.dst === 'string' ? { dst: e.dst } : {}),
    flags: Array.isArray(e.flags) ? (e.flags as unknown[]).map(String) : [],
    ...(typeof e.master === 'string' ? { master: e.master } : {}),
  }));
}

/** VXLAN destinations (VTEPs) the FDB has for a MAC; the all-zero MAC gives the flood list. */
export async function fdbDestinations(ns: string, dev: string, mac: string): Promise<string[]> {
  const m = mac.toLowerCase();
  return (await fdbShow(ns, dev)).filter((e) => e.mac === m && e.dst !== undefined).map((e) => e.dst!).sort();
}

/**
 * A long-running program inside a namespace (e.g. ping), tracked so it is
 * killed when the test process exits. stdout and stderr are collected.
 */
export interface NsProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Sends the signal and resolves with the exit code once it is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnInNetns(ns: string, file: string, args: readonly string[], onStdout?: (chunk: string) => void): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${file} in ${ns}`);
  const pid = child.pid;
  track(pid);
  let out = '';
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    onStdout?.(d);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  return {
    child,
    pid,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      untrack(pid);
      return code;
    },
  };
}

// FRR with zebra in a namespace ------------------------------------------------------

export interface NsFrrOptions {
  readonly name: string;
  readonly ns: string;
  /** Address bgpd's sessions use (the handle's `address`); bgpd listens on all of the namespace's. */
  readonly address: string;
  /** bgpd.conf text, e.g. from frrConfig(). */
  readonly config: string;
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

/** Starts a daemonizing FRR daemon inside a namespace and waits for its pid file and vty socket. */
async function startDaemon(ns: string, dir: string, daemon: 'zebra' | 'bgpd', args: readonly string[]): Promise<number> {
  const logPath = join(dir, `${daemon}.log`);
  const r = await run('ip', ['netns', 'exec', ns, join(FRR_BIN, daemon), ...args]);
  if (r.code !== 0) throw new Error(`${daemon} in ${ns} failed to daemonize (exit ${r.code}): ${r.stderr.trim()}\n${tail(logPath)}`);
  const pidFile = join(dir, `${daemon}.pid`);
  const pid = await waitFor(() => (existsSync(join(dir, `${daemon}.vty`)) ? readPid(pidFile) : undefined), {
    what: `${daemon} in ${ns}: pid file and vty socket in ${dir}`,
    timeoutMs: 10_000,
    intervalMs: 50,
  }).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nlog:\n${tail(logPath)}`);
  });
  track(pid);
  return pid;
}

/**
 * FRR zebra + bgpd inside a namespace, so bgpd gets the VNIs from the kernel
 * (through zebra) and installs remote MACs into the kernel FDB: the only way
 * FRR originates type-2/type-3 routes. Each instance has its own vty socket
 * directory and zserv socket, so it is independent of any system FRR.
 * The handle fits the FrrHandle helpers (frrEvpnRoutes, frrEstablished, ...).
 */
export async function startFrrInNetns(o: NsFrrOptions): Promise<FrrHandle & { readonly zebraPid: number }> {
  const dir = await makeRunDir(o.name);
  const ids = frrIds();
  if (ids === undefined) throw new Error('user frr missing');
  const confPath = join(dir, 'bgpd.conf');
  const zebraConf = join(dir, 'zebra.conf');
  writeFileSync(zebraConf, `hostname ${o.name}\n`);
  writeFileSync(confPath, o.config);
  // zebra has no -S: it always drops to user frr (and `-u root` fails the frrvty group check), so frr must own the directory.
  for (const p of [dir, ...readdirSync(dir).map((f) => join(dir, f))]) chownSync(p, ids.uid, ids.gid);
  if ((statSync(dir).mode & 0o100) === 0) throw new Error(`${dir} is not searchable`);
  const zserv = join(dir, 'zserv.api');
  // -P 0: no vty TCP port (2601/2605 would clash with any other instance); -z: a private zserv socket.
  const zebraPid = await startDaemon(o.ns, dir, 'zebra', [
    '-d', '-P', '0', '-i', join(dir, 'zebra.pid'), '--vty_socket', dir, '-z', zserv, '-f', zebraConf, '--log', `file:${join(dir, 'zebra.log')}`,
  ]);
  // -S keeps bgpd root; no -Z/-l, which would cut it off from zebra and the kernel.
  const bgpdPid = await startDaemon(o.ns, dir, 'bgpd', [
    '-d', '-S', '-P', '0', '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-z', zserv, '-f', confPath, '--log', `file:${join(dir, 'bgpd.log')}`,
  ]);
  const { vtysh, json, configure } = vtyshClient(o.name, dir);
  const handle = {
    name: o.name,
    address: o.address,
    port: 179,
    pid: bgpdPid,
    zebraPid,
    dir,
    logPath: join(dir, 'bgpd.log'),
    confPath,
    vtysh,
    json,
    configure,
    async stop(): Promise<void> {
      await killAndWait(bgpdPid, `bgpd ${o.name}`);
      await killAndWait(zebraPid, `zebra ${o.name}`);
    },
  };
  await waitFor(async () => (processGone(bgpdPid) || processGone(zebraPid) ? 'exited' : (await vtysh('show version')).includes('FRRouting')), {
    what: `FRR ${o.name} to answer vtysh`,
    until: (v) => v === true || v === 'exited',
    timeoutMs: 10_000,
  });
  if (processGone(bgpdPid) || processGone(zebraPid)) {
    throw new Error(`FRR ${o.name} exited during startup:\nzebra:\n${tail(join(dir, 'zebra.log'))}\nbgpd:\n${tail(handle.logPath)}`);
  }
  return handle;
}
