/** Runs vmmi for interop tests: in process (to read its RIB directly) or as the real vmmid binary. */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VMMID_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { parseConfig } from '../../src/config/index.js';
import { type LogFields, type Log, silentLogger } from '../../src/core/log.js';
import { parsePrefix } from '../../src/bgp/wire/prefix.js';
import type { FamilyKey } from '../../src/bgp/wire/family.js';
import type { Path } from '../../src/rib/path.js';
import { Speaker } from '../../src/speaker.js';
import { makeRunDir, repoRoot, track, waitFor } from '../harness/index.js';

export interface VmmiNeighbor {
  readonly address: string;
  readonly remoteAs: number;
  readonly port?: number;
  readonly passive?: boolean;
  readonly holdTime?: number;
  readonly families?: readonly string[];
  readonly shutdownMessage?: string;
  readonly rrClient?: boolean;
}

export interface VmmiRoute {
  readonly family: 'ipv4-unicast' | 'ipv6-unicast';
  readonly prefix: string;
  readonly nextHop: string;
  readonly med?: number;
  readonly communities?: readonly string[];
}

export interface VmmiOptions {
  readonly address: string;
  readonly asn: number;
  readonly port?: number;
  readonly clusterId?: string;
  readonly neighbors: readonly VmmiNeighbor[];
  readonly originate?: readonly VmmiRoute[];
  /** More top-level YAML (networks:, api:, store:), appended as is. */
  readonly extraYaml?: string;
}

export function vmmiYaml(o: VmmiOptions): string {
  const lines = [`router-id: ${o.address}`, `asn: ${o.asn}`, `listen: { address: ${o.address}, port: ${o.port ?? 179} }`];
  if (o.clusterId !== undefined) lines.push(`cluster-id: ${o.clusterId}`);
  lines.push('neighbors:');
  for (const n of o.neighbors) {
    lines.push(
      `  - address: ${n.address}`,
      `    remote-as: ${n.remoteAs}`,
      `    port: ${n.port ?? 179}`,
      `    local-address: ${o.address}`,
      `    passive: ${n.passive ?? false}`,
      `    hold-time: ${n.holdTime ?? 9}`,
      '    connect-retry: 1',
      `    families: [${(n.families ?? ['ipv4-unicast', 'ipv6-unicast']).join(', ')}]`,
    );
    if (n.shutdownMessage !== undefined) lines.push(`    shutdown-message: ${JSON.stringify(n.shutdownMessage)}`);
    if (n.rrClient === true) lines.push('    route-reflector-client: true');
  }
  lines.push('originate:');
  for (const r of o.originate ?? []) {
    const extra = [r.med !== undefined ? `med: ${r.med}` : '', r.communities ? `communities: [${r.communities.map((c) => `"${c}"`).join(', ')}]` : '']
      .filter((x) => x !== '')
      .join(', ');
    lines.push(`  - { family: ${r.family}, prefix: "${r.prefix}", next-hop: "${r.nextHop}"${extra ? `, ${extra}` : ''} }`);
  }
  if ((o.originate ?? []).length === 0) lines[lines.length - 1] = 'originate: []';
  // Without api: the built-in port 50051 would be shared by every vmmid a test run starts.
  if (!(o.extraYaml ?? '').includes('api:')) lines.push('api: { listen: false }');
  return `${lines.join('\n')}\n${o.extraYaml ?? ''}`;
}

/** A logger that keeps entries in memory, so a test can assert on what vmmi logged. */
export class MemoryLog implements Log {
  constructor(
    readonly entries: { level: string; msg: string; fields: LogFields }[] = [],
    private readonly base: LogFields = {},
  ) {}
  private add(level: string, msg: string, fields?: LogFields): void {
    this.entries.push({ level, msg, fields: { ...this.base, ...fields } });
  }
  error(msg: string, fields?: LogFields): void {
    this.add('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.add('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.add('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.add('debug', msg, fields);
  }
  child(fields: LogFields): Log {
    return new MemoryLog(this.entries, { ...this.base, ...fields });
  }
}

export async function startVmmi(o: VmmiOptions, log: Log = silentLogger()): Promise<Speaker> {
  const r = parseConfig(vmmiYaml(o), 'interop.yaml');
  if (!r.ok) throw new Error(`bad interop config: ${JSON.stringify(r.error)}`);
  const s = new Speaker(r.value, log);
  await s.start();
  return s;
}

export async function vmmiEstablished(s: Speaker, peer: string): Promise<void> {
  await waitFor(() => s.peers.get(peer)?.state, { what: `vmmi → ${peer} Established`, until: (st) => st === 'Established', timeoutMs: 20_000 });
}

export function vmmiBest(s: Speaker, family: FamilyKey, prefix: string): Path | undefined {
  const p = parsePrefix(prefix);
  if (!p.ok) throw new Error(p.error);
  return s.rib.best(family, p.value.key);
}

export interface VmmidProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code and how long after the call it came. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** The real daemon, as an operator runs it: `vmmid --config FILE --log-format json`. */
export async function spawnVmmid(name: string, o: VmmiOptions): Promise<VmmidProcess> {
  const dir = await makeRunDir(name);
  const file = join(dir, 'vmmid.yaml');
  writeFileSync(file, vmmiYaml(o));
  const child = spawn(process.execPath, [...VMMID_NODE_FLAGS, join(repoRoot(), 'dist/src/cli/vmmid.js'), '--config', file, '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  if (child.pid !== undefined) track(child.pid);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  await waitFor(() => out.includes('"event":"started"') || child.exitCode !== null, { what: 'vmmid started', timeoutMs: 15_000 });
  if (child.exitCode !== null) throw new Error(`vmmid exited ${child.exitCode}: ${out}`);
  return {
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const t0 = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - t0 };
    },
  };
}
