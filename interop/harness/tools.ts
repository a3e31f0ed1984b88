/**
 * Shared plumbing for interop tests: locating peer binaries, running commands,
 * per-test work directories, loopback address allocation, polling and process teardown.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** Address families in FRR's spelling; gobgp.ts maps them to GoBGP's afi-safi names. */
export type Family = 'ipv4-unicast' | 'ipv6-unicast' | 'l2vpn-evpn' | 'ipv4-vpn' | 'ipv6-vpn';

export const INSTALL_HINT = 'install with apt-get install -y frr gobgpd exabgp tshark';

/** FRR's daemons live outside PATH on Debian; FRR_BIN overrides for other layouts. */
export const FRR_BIN = process.env.FRR_BIN ?? '/usr/lib/frr';

export type PeerBinary = 'bgpd' | 'vtysh' | 'gobgpd' | 'gobgp' | 'tshark' | 'exabgp' | 'frr' | 'gobgp-suite';

export type PeerCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable on PATH (or FRR_BIN for bgpd), or undefined. */
export function which(binary: string): string | undefined {
  if (binary.includes('/')) return isExecutable(binary) ? binary : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  if (binary === 'bgpd' || binary === 'zebra') dirs.unshift(FRR_BIN);
  for (const d of dirs) {
    const p = join(d, binary);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/**
 * Whether a peer implementation is usable here. 'frr' means bgpd + vtysh,
 * 'gobgp-suite' means gobgpd + gobgp. tshark also needs capture rights on lo,
 * which a plain install does not grant to non-root users.
 */
export function requirePeer(binary: PeerBinary): PeerCheck {
  const parts: readonly string[] =
    binary === 'frr' ? ['bgpd', 'vtysh'] : binary === 'gobgp-suite' ? ['gobgpd', 'gobgp'] : [binary];
  const missing = parts.filter((b) => which(b) === undefined);
  if (missing.length > 0) return { ok: false, reason: `${missing.join(', ')} missing` };
  if (binary === 'tshark' && process.getuid?.() !== 0) {
    const dumpcap = which('dumpcap');
    if (dumpcap === undefined) return { ok: false, reason: 'dumpcap missing (tshark cannot capture)' };
  }
  return { ok: true };
}

/**
 * Missing peers skip a test locally but fail it in CI, where a skipped interop
 * test would silently hide a broken image. The caller must return afterwards.
 */
export function skipOrFail(t: TestContext, reason: string): void {
  const msg = `${reason}, ${INSTALL_HINT}`;
  if (process.env.CI === 'true') throw new Error(`interop peer unavailable in CI: ${msg}`);
  t.skip(msg);
}

/** requirePeer over several binaries; false means the test was skipped and must return. */
export function needPeers(t: TestContext, ...binaries: PeerBinary[]): boolean {
  const reasons = binaries.flatMap((b) => {
    const r = requirePeer(b);
    return r.ok ? [] : [r.reason];
  });
  if (reasons.length === 0) return true;
  skipOrFail(t, reasons.join('; '));
  return false;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs a command without a shell; never rejects, so callers decide what a failure means. */
export function run(file: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res) => {
    execFile(
      file,
      [...args],
      { timeout: opts.timeoutMs ?? 15_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        let code = 0;
        if (error !== null) {
          // A number is the exit status; a string (ENOENT, ...) means it never ran; null means killed.
          const c: unknown = (error as NodeJS.ErrnoException).code;
          code = typeof c === 'number' ? c : typeof c === 'string' ? 127 : 128;
          if (typeof c !== 'number') stderr = `${stderr}${stderr === '' ? '' : '\n'}${error.message}`;
        }
        res({ stdout, stderr, code });
      },
    );
  });
}

/** Like run() but rejects on a non-zero exit with the command line and its output. */
export async function runOk(file: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

let cachedRoot: string | undefined;

/** The repository root, found from this file so it works from both interop/ and dist/interop/. */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'vmmi') {
        cachedRoot = dir;
        return dir;
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json of vmmi) not found');
    dir = up;
  }
}

/** A fresh .run/interop/<name>-XXXXXX directory; kept after the test so logs can be read. */
export async function makeRunDir(name: string): Promise<string> {
  const base = join(repoRoot(), '.run', 'interop');
  mkdirSync(base, { recursive: true });
  return mkdtemp(join(base, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
}

export function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface WaitOptions<T> {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Describes the awaited condition in the timeout error. */
  readonly what: string;
  /** Done when this returns true; without it, done when fn's value is truthy. */
  readonly until?: (value: T) => boolean;
}

export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

function show(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  let s: string;
  try {
    s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 1500 ? `${s.slice(0, 1500)}…` : s;
}

/**
 * Polls fn until the condition holds. A throw from fn counts as "not yet" so
 * daemons that are still starting can be probed; the timeout error quotes the
 * last value or error seen, which is usually what explains the failure.
 */
export function waitFor<T>(fn: () => Promise<T> | T, opts: WaitOptions<T> & { readonly until: (value: T) => boolean }): Promise<T>;
export function waitFor<T>(fn: () => Promise<T> | T, opts: Omit<WaitOptions<T>, 'until'>): Promise<Truthy<T>>;
export async function waitFor<T>(fn: () => Promise<T> | T, opts: WaitOptions<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = '(never observed)';
  for (;;) {
    try {
      const v = await fn();
      if (opts.until ? opts.until(v) : Boolean(v)) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}; last observed: ${show(last)}`);
    }
    await sleep(intervalMs);
  }
}

// Loopback allocation ---------------------------------------------------------

interface Block {
  readonly third: number;
  next: number;
}

const blocks = new Map<string, Block>();
const heldLocks: string[] = [];

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// 127.0.0.x is the default for many tools and 127.0.1.x is used by the shared lab scripts.
const FIRST_THIRD = 16;
const THIRDS = 254 - FIRST_THIRD + 1;

/**
 * Claims a 127.0.N.0/24 block for `scope` (normally the test file's import.meta.url)
 * and hands out its addresses in order. N comes from a hash of the scope so a
 * file usually gets the same block; a lock file under .run/interop/loopback
 * moves it on when another live process already holds that block.
 */
export function freeLoopback(scope: string): string {
  let block = blocks.get(scope);
  if (block === undefined) {
    const lockDir = join(repoRoot(), '.run', 'interop', 'loopback');
    mkdirSync(lockDir, { recursive: true });
    const h = createHash('sha256').update(resolve(scope.replace(/^file:\/\//, ''))).digest();
    const start = h.readUInt16BE(0) % THIRDS;
    for (let i = 0; i < THIRDS && block === undefined; i++) {
      const third = FIRST_THIRD + ((start + i) % THIRDS);
      if ([...blocks.values()].some((b) => b.third === third)) continue;
      const lock = join(lockDir, String(third));
      if (claim(lock)) {
        heldLocks.push(lock);
        block = { third, next: 1 };
      }
    }
    if (block === undefined) throw new Error('no free 127.0.N.0/24 block for interop tests');
    blocks.set(scope, block);
  }
  if (block.next > 254) throw new Error(`loopback block 127.0.${block.third}.0/24 exhausted for ${scope}`);
  return `127.0.${block.third}.${block.next++}`;
}

function claim(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const owner = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    if (Number.isFinite(owner) && owner !== process.pid && pidAlive(owner)) return false;
    // Stale lock from a crashed run: take it over.
    writeFileSync(lock, String(process.pid));
    return true;
  }
}

// Process teardown -------------------------------------------------------------

const tracked = new Set<number>();

/** Daemons still running when the test process exits get SIGTERM, so a failed test leaks nothing. */
export function track(pid: number): void {
  tracked.add(pid);
}

export function untrack(pid: number): void {
  tracked.delete(pid);
}

process.on('exit', () => {
  for (const pid of tracked) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const lock of heldLocks) {
    try {
      unlinkSync(lock);
    } catch {
      // already removed
    }
  }
});

/**
 * True once pid no longer names a live process. Daemonized bgpd is reparented
 * to PID 1, which in a container may not reap it, so a zombie counts as gone.
 */
export function processGone(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves only when the process is gone. */
export async function killAndWait(pid: number, what: string, graceMs = 5_000): Promise<void> {
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(pid, s);
    } catch {
      // exited between checks
    }
  };
  if (!processGone(pid)) {
    signal('SIGTERM');
    try {
      await waitFor(() => processGone(pid), { what: `${what} (pid ${pid}) to exit`, timeoutMs: graceMs, intervalMs: 50 });
    } catch {
      signal('SIGKILL');
      await waitFor(() => processGone(pid), { what: `${what} (pid ${pid}) to die after SIGKILL`, timeoutMs: 5_000, intervalMs: 50 });
    }
  }
  untrack(pid);
}
