/**
 * AnnounceVm → UPDATE on the wire: the real vmmid daemon (journal store on,
 * so every reply waits for an fdatasync) with `peers` established iBGP
 * route-reflector clients, driven over its gRPC API.
 *   latency: N announcements one after another; for each, the time until the
 *            reply and until the last peer has received the UPDATE with the MAC.
 *   rate:    N more announcements from `concurrency` callers at once; VMs per
 *            second until the last reply, and until every peer has every MAC.
 * FRR has no agent API to compare with (routes come from its kernel/zebra),
 * and GoBGP's AddPath takes EVPN paths as protobuf Any messages this bench
 * does not build; the numbers are vmmid's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { L2VPN_EVPN } from '../src/bgp/wire/family.js';
import { type VmmiClient, connect, unaryCall } from '../src/api/client.js';
import { VMMID_NODE_FLAGS } from '../src/cli/node-flags.js';
import { repoRoot, track, waitFor } from '../interop/harness/index.js';
import { onCleanup } from './cleanup.js';
import { count, fixed, table } from './format.js';
import { LoadGen, nowMs } from './loadgen.js';

export const API_DEFAULTS = { announcements: 10_000, peers: 4, concurrency: 64 } as const;

const VMMID = '127.0.7.1';
const BGP_PORT = 179;
const API_PORT = 50061;
const ASN = 65000;
const peerAddress = (i: number): string => `127.0.7.${11 + i}`;

/** Every bench MAC is 02:b0:00:xx:xx:xx; on the wire it follows its length octet (48). */
const MARK = Buffer.from([48, 0x02, 0xb0, 0x00]);
const macOf = (i: number): string =>
  `02:b0:00:${[(i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
const ipOf = (i: number): string => `10.${100 + ((i >> 16) & 0xff)}.${(i >> 8) & 0xff}.${i & 0xff}`;

export interface ApiBenchOptions {
  readonly announcements: number;
  readonly peers: number;
  readonly concurrency: number;
  /** Run vmmid under --cpu-prof, writing into this directory. */
  readonly cpuProfDir?: string;
}

export interface BenchVmmidSetup {
  readonly address: string;
  readonly bgpPort: number;
  readonly apiPort: number;
  /** Passive iBGP route-reflector clients (l2vpn-evpn): the receiving peers. */
  readonly peers: readonly string[];
  readonly vni: number;
  readonly vteps: readonly string[];
  readonly store: string;
}

/** The vmmid of the api and mobility suites: network blue, the API on plain text for agent "bench", store on. */
export function benchVmmidConfig(o: BenchVmmidSetup): string {
  const neighbors = o.peers.map((a) =>
    [
      `  - address: ${a}`,
      `    remote-as: ${ASN}`,
      `    local-address: ${o.address}`,
      '    passive: true',
      '    families: [l2vpn-evpn]',
      '    route-reflector-client: true',
    ].join('\n'),
  );
  return [
    `router-id: ${o.address}`,
    `asn: ${ASN}`,
    `listen: { address: ${o.address}, port: ${o.bgpPort} }`,
    // info: the "started" line is what tells the bench vmmid is up.
    'log-level: info',
    'neighbors:',
    ...neighbors,
    'networks:',
    `  - { name: blue, vni: ${o.vni} }`,
    `store: ${o.store}`,
    'api:',
    `  listen: { address: ${o.address}, port: ${o.apiPort} }`,
    '  agents:',
    `    - { name: bench, vteps: [${o.vteps.join(', ')}], networks: [blue] }`,
    '',
  ].join('\n');
}

/** When each peer first saw each MAC, by announcement number. */
class Arrivals {
  readonly seen: Float64Array[];
  private readonly complete: Float64Array;
  private readonly counts: Uint8Array;
  private waiters = new Map<number, () => void>();
  lastComplete = 0;

  constructor(total: number, private readonly peers: number) {
    this.seen = Array.from({ length: peers }, () => new Float64Array(total).fill(Number.NaN));
    this.complete = new Float64Array(total).fill(Number.NaN);
    this.counts = new Uint8Array(total);
  }

  onUpdate(peer: number, body: Buffer, at: number): void {
    const seen = this.seen[peer]!;
    for (let k = body.indexOf(MARK); k >= 0; k = body.indexOf(MARK, k + MARK.length)) {
      const i = (body[k + 4]! << 16) | (body[k + 5]! << 8) | body[k + 6]!;
      if (i >= seen.length || !Number.isNaN(seen[i]!)) continue;
      seen[i] = at;
      if (++this.counts[i]! === this.peers) {
        this.complete[i] = at;
        this.lastComplete = Math.max(this.lastComplete, at);
        this.waiters.get(i)?.();
        this.waiters.delete(i);
      }
    }
  }

  /** Resolves once every peer has announcement i. */
  everywhere(i: number): Promise<number> {
    if (!Number.isNaN(this.complete[i]!)) return Promise.resolve(this.complete[i]!);
    return new Promise((res) => this.waiters.set(i, () => res(this.complete[i]!)));
  }

  done(from: number, to: number): boolean {
    for (let i = from; i < to; i++) if (this.counts[i]! < this.peers) return false;
    return true;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function startVmmid(file: string, cpuProfDir?: string): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const prof = cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir];
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
  const child = spawn(process.execPath, [...VMMID_NODE_FLAGS, ...prof, join(repoRoot(), 'dist/src/cli/vmmid.js'), '--config', file, '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) track(child.pid);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  const unregister = onCleanup('vmmid (api bench)', stop);
  try {
    await waitFor(() => out.includes('"event":"started"') || child.exitCode !== null, { what: 'vmmid started', timeoutMs: 15_000 });
  } catch (e) {
    await stop();
    throw e;
  }
  if (child.exitCode !== null) throw new Error(`vmmid exited: ${out}`);
  return {
    child,
    async stop() {
      unregister();
      await stop();
    },
  };
}

function announce(c: VmmiClient, i: number): Promise<unknown> {
  return unaryCall((cb) => c.mobility.announceVm({ vmId: `vm-${i}`, network: { name: 'blue' }, mac: macOf(i), ips: [ipOf(i)], vtep: '10.0.0.21' }, cb));
}

export async function runApi(o: ApiBenchOptions): Promise<boolean> {
  const n = o.announcements;
  console.log(`api: AnnounceVm → UPDATE at ${o.peers} established peers; ${count(n)} sequential, then ${count(n)} from ${o.concurrency} callers (store on, fdatasync per reply)`);
  const dir = mkdtempSync(join(tmpdir(), 'vmmi-api-bench-'));
  const file = join(dir, 'vmmid.yaml');
  writeFileSync(
    file,
    benchVmmidConfig({
      address: VMMID, bgpPort: BGP_PORT, apiPort: API_PORT, peers: Array.from({ length: o.peers }, (_, i) => peerAddress(i)),
      vni: 10100, vteps: ['10.0.0.21'], store: join(dir, 'store'),
    }),
  );
  const vmmid = await startVmmid(file, o.cpuProfDir);
  const arrivals = new Arrivals(2 * n, o.peers);
  const peers: LoadGen[] = [];
  let client: VmmiClient | undefined;
  try {
    for (let p = 0; p < o.peers; p++) {
      peers.push(
        await LoadGen.connect({
          host: VMMID, port: BGP_PORT, localAddress: peerAddress(p), asn: ASN, routerId: peerAddress(p), holdTime: 90,
          connectTimeoutMs: 10_000, families: [L2VPN_EVPN], onUpdate: (body, at) => arrivals.onUpdate(p, body, at),
        }),
      );
    }
    client = connect({ api: `${VMMID}:${API_PORT}` });
    const c = client;
    await announce(c, 2 * n + 1).catch(() => undefined); // warm-up: channel, TLS-free handshake, JIT (its MAC is out of range)

    const acks: number[] = [];
    const wire: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = nowMs();
      await announce(c, i);
      acks.push(nowMs() - t0);
      wire.push((await arrivals.everywhere(i)) - t0);
    }

    const t0 = nowMs();
    let next = n;
    let lastAck = 0;
    const worker = async (): Promise<void> => {
      while (next < 2 * n) {
        const i = next++;
        await announce(c, i);
        lastAck = nowMs();
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    await waitFor(() => arrivals.done(n, 2 * n), { what: 'every peer has every VM', timeoutMs: 120_000, intervalMs: 5 });
    const allWire = arrivals.lastComplete;

    acks.sort((a, b) => a - b);
    wire.sort((a, b) => a - b);
    console.log(
      table(
        ['measure', 'median ms', 'p99 ms', 'max ms'],
        [
          ['AnnounceVm reply (stored)', fixed(percentile(acks, 50), 2), fixed(percentile(acks, 99), 2), fixed(acks.at(-1)!, 2)],
          [`UPDATE at all ${o.peers} peers`, fixed(percentile(wire, 50), 2), fixed(percentile(wire, 99), 2), fixed(wire.at(-1)!, 2)],
        ],
      ),
    );
    const ackRate = n / ((lastAck - t0) / 1000);
    const wireRate = n / ((allWire - t0) / 1000);
    console.log(
      `sustained, ${o.concurrency} callers: ${count(ackRate)} announcements/s acknowledged, ${count(wireRate)}/s on the wire at every peer ` +
        `(${fixed((allWire - t0) / 1000, 2)} s for ${count(n)})`,
    );
    return true;
  } finally {
    client?.close();
    for (const p of peers) p.destroy();
    await vmmid.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
