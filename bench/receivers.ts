/**
 * The three ingest receivers behind one interface: start on a 127.0.5.x
 * address with one passive eBGP neighbour (the load generator), report when
 * the table is in, give the process id for its peak RSS, stop.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FrrHandle,
  type GobgpHandle,
  frrConfig,
  gobgpConfig,
  killAndWait,
  processGone,
  repoRoot,
  requirePeer,
  run,
  sleep,
  startFrr,
  startGobgp,
  track,
  waitFor,
} from '../interop/harness/index.js';
import type { ReceiverName } from './args.js';
import { onCleanup } from './cleanup.js';
import type { CpuWatch } from './cpu.js';
import { GobgpApiClient, VtyClient } from './daemon-clients.js';
import { nowMs } from './loadgen.js';
import { VMMID_NODE_FLAGS } from '../src/cli/node-flags.js';

export interface ReceiverSetup {
  readonly routes: number;
  readonly peerAddress: string;
  readonly peerAs: number;
  readonly localAs: number;
  readonly cpuProfDir?: string;
}

export type Reached =
  /** `busyEnd`: when the receiver's own work ended, if known before questions made it busy again. */
  | { readonly ok: true; readonly at: number; readonly count: number; readonly busyEnd?: number }
  | { readonly ok: false; readonly count: number; readonly reason: string };

export interface Receiver {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /**
   * Waits until the receiver holds `routes` IPv4 routes, the deadline passes,
   * or `aborted` returns a reason (the sender failed, say). `at` is when the
   * count was seen, in nowMs() time. `cpu` watches the receiver since the
   * first UPDATE byte (`since`).
   */
  waitForRoutes(w: WaitSpec): Promise<Reached>;
  /** How the count is obtained and how precise its timestamp is, for the report. */
  readonly method: string;
  stop(): Promise<void>;
}

export interface WaitSpec {
  readonly routes: number;
  readonly since: number;
  readonly deadline: number;
  readonly aborted: () => string | undefined;
  readonly cpu: CpuWatch;
}

export interface ReceiverKind {
  readonly name: ReceiverName;
  /** Undefined when usable, else why not. */
  unavailable(): string | undefined;
  version(): Promise<string>;
  start(s: ReceiverSetup): Promise<Receiver>;
}

/** The peak resident set (VmHWM) of a live process, in bytes. */
/** Starts a Node script of the bench as its own process, tracked so it is stopped on exit. */
export async function spawnNode(
  script: string,
  flags: readonly string[],
  args: readonly string[],
  what: string,
): Promise<{ child: ChildProcessWithoutNullStreams; pid: number }> {
  const child = spawn(process.execPath, [...flags, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = await new Promise<number>((res, rej) => {
    child.once('error', rej);
    child.once('spawn', () => (child.pid === undefined ? rej(new Error(`${what}: no pid`)) : res(child.pid)));
  });
  track(pid);
  return { child, pid };
}

/** How each implementation is found and named, for the receivers and the reflectors alike. */
export const PROBES = {
  vmmid: {
    unavailable: (script: string): string | undefined => (existsSync(script) ? undefined : `${script} missing (run npm run build)`),
    version: async (): Promise<string> => {
      const pkg: unknown = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8'));
      const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '?';
      return `vmmid ${v} (node ${process.version})`;
    },
  },
  frr: {
    unavailable: (): string | undefined => {
      const r = requirePeer('frr');
      return r.ok ? undefined : r.reason;
    },
    version: async (): Promise<string> => {
      const r = await run('/usr/lib/frr/bgpd', ['--version']);
      return `FRR ${firstLine(r.stdout).replace(/^bgpd version\s*/, '')}`;
    },
  },
  gobgp: {
    unavailable: (): string | undefined => {
      const r = requirePeer('gobgp-suite');
      return r.ok ? undefined : r.reason;
    },
    version: async (): Promise<string> => `GoBGP ${firstLine((await run('gobgpd', ['--version'])).stdout).replace(/^gobgpd version\s*/, '')}`,
  },
} as const;

export function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether something listens on an IPv4 address and port, read from /proc/net/tcp (nothing is bound to find out). */
function listening(address: string, port: number): boolean {
  const hex = address
    .split('.')
    .reverse()
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  const want = `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
  try {
    // Columns: sl local_address rem_address st ...; st 0A is LISTEN.
    return readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .some((line) => {
        const f = line.trim().split(/\s+/);
        return f[1] === want && f[3] === '0A';
      });
  } catch {
    return false;
  }
}

/**
 * A daemon killed with a large table can take seconds to release its sockets
 * after it counts as gone, and the next run must not find its ports taken.
 */
export async function portsFree(ports: readonly (readonly [string, number])[], what: string): Promise<void> {
  const busy = (): string[] => ports.filter(([a, p]) => listening(a, p)).map(([a, p]) => `${a}:${p}`);
  await waitFor(() => busy().length === 0, { what: `${what}'s ports to be free`, timeoutMs: 15_000, intervalMs: 50 }).catch(() => {
    throw new Error(`${busy().join(', ')} still in use (another ${what} or another bench running?)`);
  });
}

export const ADDRESSES = { vmmid: '127.0.5.1', frr: '127.0.5.2', gobgp: '127.0.5.3', sender: '127.0.5.10' } as const;

/**
 * Each poll costs the daemon a little of the CPU it is importing with (FRR
 * builds its summary on the thread that processes UPDATEs), so not too often;
 * the result is late by at most this plus one round trip of well under 1 ms.
 */
const DAEMON_POLL_MS = 10;

async function pollUntil(countNow: () => Promise<number>, w: WaitSpec, died: () => string | undefined): Promise<Reached> {
  const { routes, deadline } = w;
  const aborted = (): string | undefined => w.aborted() ?? died();
  let last = 0;
  let lastError = '';
  for (;;) {
    try {
      last = await countNow();
      lastError = '';
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    const at = nowMs();
    if (last >= routes) return { ok: true, at, count: last };
    const why = aborted();
    if (why !== undefined) return { ok: false, count: last, reason: why };
    if (at > deadline) {
      return { ok: false, count: last, reason: lastError === '' ? 'timeout' : `timeout (last poll: ${lastError.slice(0, 200)})` };
    }
    await sleep(DAEMON_POLL_MS);
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

// vmmid -----------------------------------------------------------------------

const SINK = join(dirname(fileURLToPath(import.meta.url)), 'vmmid-sink.js');
const VMMID_PORT = 1179;

interface SinkEvent {
  readonly event: string;
  readonly count?: number;
  readonly at?: number;
}

function parseEvent(line: string): SinkEvent | undefined {
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v !== 'object' || v === null || !('event' in v) || typeof v.event !== 'string') return undefined;
    const count = 'count' in v && typeof v.count === 'number' ? v.count : undefined;
    const at = 'at' in v && typeof v.at === 'number' ? v.at : undefined;
    return { event: v.event, count, at };
  } catch {
    return undefined;
  }
}

class VmmidReceiver implements Receiver {
  readonly address = ADDRESSES.vmmid;
  readonly port = VMMID_PORT;
  readonly method = 'in-process rib.count() every 5 ms';
  private count = 0;
  private doneAt?: number;
  private exited?: string;
  private stderr = '';
  private readonly unregister: () => void;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly pid: number,
  ) {
    this.unregister = onCleanup(`vmmid sink (pid ${pid})`, () => this.stop());
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    child.once('exit', (code, signal) => {
      this.exited = `vmmid sink exited (${signal ?? `code ${code}`}): ${this.stderr.trim().slice(-500)}`;
    });
  }

  private listeners: (() => void)[] = [];

  private onLine(line: string): void {
    const e = parseEvent(line);
    if (e === undefined) return;
    if (e.count !== undefined) this.count = e.count;
    if (e.event === 'done' && e.at !== undefined) this.doneAt = e.at;
    for (const l of this.listeners) l();
  }

  /** Resolves on the sink's first line, or rejects if it dies first. */
  async listening(timeoutMs: number): Promise<void> {
    let seen = false;
    this.listeners.push(() => (seen = true));
    await waitFor(() => seen || this.exited, { what: 'vmmid sink to listen', timeoutMs, intervalMs: 20 });
    if (this.exited !== undefined && !seen) throw new Error(this.exited);
  }

  async waitForRoutes(w: WaitSpec): Promise<Reached> {
    // The sink timestamps the moment itself; this loop only has to notice.
    for (;;) {
      if (this.doneAt !== undefined) return { ok: true, at: this.doneAt, count: this.count };
      if (this.exited !== undefined) return { ok: false, count: this.count, reason: this.exited };
      const why = w.aborted();
      if (why !== undefined) return { ok: false, count: this.count, reason: why };
      if (nowMs() > w.deadline) return { ok: false, count: this.count, reason: 'timeout' };
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.unregister();
    if (!this.child.stdin.destroyed) this.child.stdin.end();
    await killAndWait(this.pid, 'vmmid sink');
  }
}

const vmmid: ReceiverKind = {
  name: 'vmmid',
  unavailable: () => PROBES.vmmid.unavailable(SINK),
  version: () => PROBES.vmmid.version(),
  async start(s: ReceiverSetup): Promise<Receiver> {
    // As vmmid itself runs.
    const flags: string[] = [...VMMID_NODE_FLAGS];
    if (s.cpuProfDir !== undefined) {
      mkdirSync(s.cpuProfDir, { recursive: true });
      flags.push('--cpu-prof', '--cpu-prof-dir', s.cpuProfDir);
    }
    await portsFree([[ADDRESSES.vmmid, VMMID_PORT]], 'vmmid');
    const args = [String(s.routes), ADDRESSES.vmmid, String(VMMID_PORT), s.peerAddress, String(s.peerAs), String(s.localAs)];
    const { child, pid } = await spawnNode(SINK, flags, args, 'vmmid sink');
    const r = new VmmidReceiver(child, pid);
    try {
      await r.listening(10_000);
    } catch (e) {
      await r.stop();
      throw e;
    }
    return r;
  },
};

// FRR -------------------------------------------------------------------------

/** Finds peers[address].pfxRcd wherever FRR nests it (per family, or per VRF in older versions). */
function frrPfxRcd(v: unknown, peer: string): number | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if ('peers' in v && typeof v.peers === 'object' && v.peers !== null && peer in v.peers) {
    const p: unknown = (v.peers as Record<string, unknown>)[peer];
    if (typeof p === 'object' && p !== null && 'pfxRcd' in p && typeof p.pfxRcd === 'number') return p.pfxRcd;
  }
  for (const child of Object.values(v)) {
    const n = frrPfxRcd(child, peer);
    if (n !== undefined) return n;
  }
  return undefined;
}

class FrrReceiver implements Receiver {
  readonly method = `'show bgp ipv4 unicast summary json' peers[].pfxRcd on bgpd's vty socket every ${DAEMON_POLL_MS} ms`;
  private readonly unregister: () => void;

  constructor(
    private readonly h: FrrHandle,
    private readonly vty: VtyClient,
    private readonly peer: string,
  ) {
    this.unregister = onCleanup(`FRR bgpd (pid ${h.pid})`, () => this.stop());
  }

  get address(): string {
    return this.h.address;
  }

  get port(): number {
    return this.h.port;
  }

  get pid(): number {
    return this.h.pid;
  }

  waitForRoutes(w: WaitSpec): Promise<Reached> {
    const count = async (): Promise<number> => {
      const text = await this.vty.command('show bgp ipv4 unicast summary json');
      return frrPfxRcd(JSON.parse(text) as unknown, this.peer) ?? 0;
    };
    return pollUntil(count, w, () => (processGone(this.pid) ? 'bgpd exited' : undefined));
  }

  async stop(): Promise<void> {
    this.unregister();
    this.vty.close();
    await this.h.stop();
  }
}

const frr: ReceiverKind = {
  name: 'frr',
  ...PROBES.frr,
  async start(s: ReceiverSetup): Promise<Receiver> {
    const address = ADDRESSES.frr;
    await portsFree([[address, 179]], 'bgpd');
    const config = frrConfig({
      routerId: address,
      asn: s.localAs,
      neighbors: [
        {
          address: s.peerAddress,
          remoteAs: s.peerAs,
          updateSource: address,
          families: ['ipv4-unicast'],
          passive: true,
          // Without zebra bgpd cannot tell that a loopback peer is directly connected.
          extra: ['disable-connected-check'],
        },
      ],
    });
    const h = await startFrr({ name: 'bench-frr', address, port: 179, config });
    try {
      return new FrrReceiver(h, await VtyClient.open(join(h.dir, 'bgpd.vty')), s.peerAddress);
    } catch (e) {
      await h.stop();
      throw e;
    }
  },
};

// GoBGP -----------------------------------------------------------------------

const GOBGP_API_PORT = 50051;

/** gobgpd must be idle this long before it is asked: asking is what disturbs it. */
const GOBGP_QUIET_MS = 150;

class GobgpReceiver implements Receiver {
  readonly method =
    `gRPC GetTable (global ipv4-unicast) num_destination once its CPU has been idle ${GOBGP_QUIET_MS} ms; ` +
    'seconds = end of its last busy moment (GetTable walks the table, 32 ms at 200k routes, so it is not polled)';
  private readonly unregister: () => void;

  constructor(
    private readonly h: GobgpHandle,
    private readonly api: GobgpApiClient,
  ) {
    this.unregister = onCleanup(`gobgpd (pid ${h.pid})`, () => this.stop());
  }

  get address(): string {
    return this.h.address;
  }

  get port(): number {
    return this.h.port;
  }

  get pid(): number {
    return this.h.pid;
  }

  /**
   * Polling GetTable as often as FRR is polled would stall gobgpd for most of
   * the run, so it is asked only once it has gone idle: the table is then
   * either complete, and complete since the end of its last busy moment, or
   * the daemon is stuck and the wait times out.
   */
  async waitForRoutes(w: WaitSpec): Promise<Reached> {
    let count = 0;
    let askedAt = 0;
    for (;;) {
      const why = w.aborted() ?? (processGone(this.pid) ? 'gobgpd exited' : undefined);
      if (why !== undefined) return { ok: false, count, reason: why };
      const idle = w.cpu.idleMs(w.since);
      const busyEnd = w.cpu.lastBusyAt;
      if (idle >= GOBGP_QUIET_MS && busyEnd !== undefined && busyEnd > askedAt) {
        count = await this.api.ipv4Destinations().catch(() => count);
        // The question itself makes gobgpd busy; ask again only after more work of its own.
        askedAt = nowMs();
        if (count >= w.routes) return { ok: true, at: busyEnd, count, busyEnd };
      }
      if (nowMs() > w.deadline) {
        count = await this.api.ipv4Destinations().catch(() => count);
        return count >= w.routes ? { ok: true, at: nowMs(), count } : { ok: false, count, reason: 'timeout' };
      }
      await sleep(w.cpu.intervalMs);
    }
  }

  async stop(): Promise<void> {
    this.unregister();
    this.api.close();
    await this.h.stop();
  }
}

const gobgp: ReceiverKind = {
  name: 'gobgp',
  ...PROBES.gobgp,
  async start(s: ReceiverSetup): Promise<Receiver> {
    const address = ADDRESSES.gobgp;
    await portsFree([[address, 179], [address, GOBGP_API_PORT]], 'gobgpd');
    const config = gobgpConfig({
      asn: s.localAs,
      routerId: address,
      port: 179,
      localAddresses: [address],
      neighbors: [{ address: s.peerAddress, peerAs: s.peerAs, localAddress: address, families: ['ipv4-unicast'], passive: true }],
    });
    const h = await startGobgp({ name: 'bench-gobgp', address, port: 179, config, apiPort: GOBGP_API_PORT });
    try {
      return new GobgpReceiver(h, await GobgpApiClient.open(address, GOBGP_API_PORT));
    } catch (e) {
      await h.stop();
      throw e;
    }
  },
};

export const RECEIVER_KINDS: Readonly<Record<ReceiverName, ReceiverKind>> = { vmmid, frr, gobgp };
