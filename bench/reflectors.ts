/**
 * The three route reflectors of the rr suite behind one interface: each
 * starts on its own 127.0.6.x address with every client (the injector and
 * the receivers) as a passive iBGP route-reflector client for l2vpn-evpn,
 * and gives the process id for its CPU time and peak RSS.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  frrConfig,
  gobgpConfig,
  killAndWait,
  processGone,
  startFrr,
  startGobgp,
  waitFor,
} from '../interop/harness/index.js';
import type { ReceiverName } from './args.js';
import { onCleanup } from './cleanup.js';
import { PROBES, portsFree, spawnNode } from './receivers.js';
import { VMMID_NODE_FLAGS } from '../src/cli/node-flags.js';

export const RR_ADDRESSES = { vmmid: '127.0.6.1', frr: '127.0.6.2', gobgp: '127.0.6.3', injector: '127.0.6.10' } as const;
export const RR_AS = 65000;

/** The receivers' addresses: 127.0.6.11 upwards. */
export function receiverAddress(i: number): string {
  return `127.0.6.${11 + i}`;
}

export interface ReflectorSetup {
  /** Every peer, injector first; all are route-reflector clients, as PEs are. */
  readonly clients: readonly string[];
  readonly cpuProfDir?: string;
  readonly heapProfDir?: string;
  /** Names the profiles of this run. */
  readonly runName: string;
}

/** process.memoryUsage() and the V8 heap spaces of the vmmid reflector, in bytes. */
export type MemoryReport = Readonly<Record<string, number>>;

export interface Reflector {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /** Why it is gone, if it is. */
  exited(): string | undefined;
  /** vmmid only: its own view of its memory. */
  memory?(): Promise<MemoryReport | undefined>;
  /** vmmid only: writes a V8 heap snapshot to `path`; false if it could not. */
  heapSnapshot?(path: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface ReflectorKind {
  readonly name: ReceiverName;
  /** Undefined when usable, else why not. */
  unavailable(): string | undefined;
  version(): Promise<string>;
  /**
   * How long to wait, once every session is up, for End-of-RIB on all of
   * them before injecting anyway: FRR holds a new peer's first advertisement
   * for its coalesce time, and End-of-RIB says that is over. GoBGP sends none
   * to these clients (graceful restart is not configured on it) and has no
   * such hold, so it gets a short wait.
   */
  readonly endOfRibWaitMs: number;
  start(s: ReflectorSetup): Promise<Reflector>;
}

// vmmid -----------------------------------------------------------------------

const VMMID_RR = join(dirname(fileURLToPath(import.meta.url)), 'vmmid-rr.js');
const VMMID_PORT = 1179;

class VmmidReflector implements Reflector {
  readonly address = RR_ADDRESSES.vmmid;
  readonly port = VMMID_PORT;
  private exitedWith?: string;
  private stderr = '';
  private readonly lines: ((o: Record<string, unknown>) => void)[] = [];
  private readonly unregister: () => void;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly pid: number,
  ) {
    this.unregister = onCleanup(`vmmid reflector (pid ${pid})`, () => this.stop());
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof v === 'object' && v !== null) for (const l of [...this.lines]) l(v as Record<string, unknown>);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    child.once('exit', (code, signal) => {
      this.exitedWith = `vmmid reflector exited (${signal ?? `code ${code}`}): ${this.stderr.trim().slice(-500)}`;
    });
  }

  exited(): string | undefined {
    return this.exitedWith;
  }

  /** Resolves with the first line whose event is `event`, or undefined after `timeoutMs` or an exit. */
  private next(event: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const done = (v: Record<string, unknown> | undefined): void => {
        clearTimeout(timer);
        clearInterval(dead);
        const i = this.lines.indexOf(listener);
        if (i >= 0) this.lines.splice(i, 1);
        resolve(v);
      };
      const listener = (o: Record<string, unknown>): void => {
        if (o.event === event) done(o);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const dead = setInterval(() => {
        if (this.exitedWith !== undefined) done(undefined);
      }, 20);
      this.lines.push(listener);
    });
  }

  async listening(timeoutMs: number): Promise<void> {
    const v = await this.next('listening', timeoutMs);
    if (v === undefined) throw new Error(this.exitedWith ?? `vmmid reflector did not listen within ${timeoutMs} ms`);
  }

  async memory(): Promise<MemoryReport | undefined> {
    if (this.child.stdin.destroyed || this.exitedWith !== undefined) return undefined;
    const reply = this.next('memory', 5_000);
    this.child.stdin.write('memory\n');
    const v = await reply;
    if (v === undefined) return undefined;
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k] = x;
    return out;
  }

  async heapSnapshot(path: string): Promise<boolean> {
    if (this.child.stdin.destroyed || this.exitedWith !== undefined) return false;
    // A snapshot of a million-route heap takes a while, and doubles the reflector's memory meanwhile.
    const reply = this.next('snapshot', 120_000);
    this.child.stdin.write(`snapshot ${path}\n`);
    return (await reply) !== undefined;
  }

  async stop(): Promise<void> {
    this.unregister();
    if (!this.child.stdin.destroyed) this.child.stdin.end();
    await killAndWait(this.pid, 'vmmid reflector');
  }
}

const vmmid: ReflectorKind = {
  name: 'vmmid',
  endOfRibWaitMs: 5_000,
  unavailable: () => PROBES.vmmid.unavailable(VMMID_RR),
  version: () => PROBES.vmmid.version(),
  async start(s: ReflectorSetup): Promise<Reflector> {
    // As vmmid itself runs.
    const flags: string[] = [...VMMID_NODE_FLAGS];
    if (s.cpuProfDir !== undefined) {
      mkdirSync(s.cpuProfDir, { recursive: true });
      flags.push('--cpu-prof', '--cpu-prof-dir', s.cpuProfDir, '--cpu-prof-name', `${s.runName}.cpuprofile`);
    }
    if (s.heapProfDir !== undefined) {
      mkdirSync(s.heapProfDir, { recursive: true });
      flags.push('--heap-prof', '--heap-prof-dir', s.heapProfDir, '--heap-prof-name', `${s.runName}.heapprofile`);
    }
    const address = RR_ADDRESSES.vmmid;
    await portsFree([[address, VMMID_PORT]], 'vmmid reflector');
    const args = [address, String(VMMID_PORT), String(RR_AS), address, ...s.clients];
    const { child, pid } = await spawnNode(VMMID_RR, flags, args, 'vmmid reflector');
    const r = new VmmidReflector(child, pid);
    try {
      await r.listening(10_000);
    } catch (e) {
      await r.stop();
      throw e;
    }
    return r;
  },
};

// FRR and GoBGP ---------------------------------------------------------------

/** A daemon the interop harness started. */
class DaemonReflector implements Reflector {
  private readonly unregister: () => void;

  constructor(
    what: string,
    private readonly h: { readonly address: string; readonly port: number; readonly pid: number; stop(): Promise<void> },
  ) {
    this.unregister = onCleanup(`${what} (pid ${h.pid})`, () => this.stop());
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

  exited(): string | undefined {
    return processGone(this.h.pid) ? 'the daemon exited' : undefined;
  }

  async stop(): Promise<void> {
    this.unregister();
    await this.h.stop();
  }
}

/**
 * FRR 8.4 with its defaults: iBGP advertisement-interval (MRAI) 0, no
 * `bgp update-delay`, and a subgroup coalesce time of 1 s + 50 ms per peer
 * for a new peer's first advertisement (the bench waits for End-of-RIB on
 * every session before it injects, so that one is not in the times).
 */
const frr: ReflectorKind = {
  name: 'frr',
  endOfRibWaitMs: 5_000,
  ...PROBES.frr,
  async start(s: ReflectorSetup): Promise<Reflector> {
    const address = RR_ADDRESSES.frr;
    await portsFree([[address, 179]], 'bgpd');
    const config = frrConfig({
      routerId: address,
      asn: RR_AS,
      routerExtra: [`bgp cluster-id ${address}`],
      neighbors: s.clients.map((a) => ({
        address: a,
        remoteAs: RR_AS,
        updateSource: address,
        families: ['l2vpn-evpn'],
        passive: true,
        rrClient: true,
      })),
    });
    const h = await startFrr({ name: 'bench-rr-frr', address, port: 179, config });
    return new DaemonReflector('FRR bgpd', h);
  },
};

const GOBGP_API_PORT = 50051;

const gobgp: ReflectorKind = {
  name: 'gobgp',
  endOfRibWaitMs: 1_000,
  ...PROBES.gobgp,
  async start(s: ReflectorSetup): Promise<Reflector> {
    const address = RR_ADDRESSES.gobgp;
    await portsFree([[address, 179], [address, GOBGP_API_PORT]], 'gobgpd');
    const config = gobgpConfig({
      asn: RR_AS,
      routerId: address,
      port: 179,
      localAddresses: [address],
      neighbors: s.clients.map((a) => ({
        address: a,
        peerAs: RR_AS,
        localAddress: address,
        families: ['l2vpn-evpn'],
        passive: true,
        rrClient: true,
      })),
    });
    const h = await startGobgp({ name: 'bench-rr-gobgp', address, port: 179, config, apiPort: GOBGP_API_PORT });
    return new DaemonReflector('gobgpd', h);
  },
};

export const REFLECTOR_KINDS: Readonly<Record<ReceiverName, ReflectorKind>> = { vmmid, frr, gobgp };

/** Waits until `cond` holds or `timeoutMs` passes; resolves with whether it held. */
export async function until(cond: () => boolean, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  return waitFor(() => cond(), { what: 'condition', until: (v) => v, timeoutMs, intervalMs }).then(
    () => true,
    () => false,
  );
}
