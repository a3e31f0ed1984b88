/**
 * How API messages look on a terminal and in scripts. People get aligned
 * tables (table.ts); `--json` gets the messages themselves: one document for
 * a unary reply, an array for a finished listing (written as it streams in),
 * one object per line for a watch.
 */
import type { FamilyCount__Output } from '../../../gen/proto/vmmi/v1/FamilyCount.js';
import type { Route__Output } from '../../../gen/proto/vmmi/v1/Route.js';
import type { Timestamp__Output } from '../../../gen/proto/google/protobuf/Timestamp.js';
import { formatTable } from './table.js';

/**
 * Drops proto-loader's synthetic keys of proto3 `optional` fields
 * (`_med: "med"`): they name the field that is set, which JSON already shows.
 * No vmmi proto field starts with an underscore.
 */
function replacer(key: string, value: unknown): unknown {
  return key.startsWith('_') ? undefined : value;
}

/** One message as an indented JSON document. */
export function jsonDocument(value: unknown): string {
  return `${JSON.stringify(value, replacer, 2)}\n`;
}

/** One message on one line (JSON lines, for watches). */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value, replacer)}\n`;
}

/**
 * A JSON array written item by item, one item per line, so a listing of a
 * million routes is never held in memory. Nothing is written before the first
 * item or `end()`, so a call that fails up front prints nothing to stdout; a
 * call that fails half-way leaves the array unterminated (invalid JSON) rather
 * than passing a partial listing off as a whole one.
 */
export class JsonArrayWriter {
  private count = 0;
  constructor(private readonly write: (text: string) => void) {}

  push(value: unknown): void {
    this.write(`${this.count === 0 ? '[\n' : ',\n'}${JSON.stringify(value, replacer)}`);
    this.count++;
  }

  end(): void {
    this.write(this.count === 0 ? '[]\n' : '\n]\n');
  }
}

/** An array of messages as one JSON document (for listings that arrive whole). */
export function jsonArray(values: readonly unknown[]): string {
  const w: string[] = [];
  const a = new JsonArrayWriter((t) => w.push(t));
  for (const v of values) a.push(v);
  a.end();
  return w.join('');
}

export const dash = (s: string | undefined | null): string => (s === undefined || s === null || s === '' ? '-' : s);

export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

export const list = (xs: readonly string[], sep = ', '): string => (xs.length === 0 ? '-' : xs.join(sep));

/** Milliseconds since the epoch of a proto Timestamp; undefined when unset. */
export function timestampMs(ts: Timestamp__Output | null | undefined): number | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds);
  if (!Number.isFinite(seconds) || (seconds === 0 && ts.nanos === 0)) return undefined;
  return seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

export function isoTime(ts: Timestamp__Output | null | undefined): string {
  const ms = timestampMs(ts);
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

/** "45s", "3m12s", "2h05m", "3d04h": how long ago, as BGP show commands print uptimes. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}

export function age(ts: Timestamp__Output | null | undefined, now = Date.now()): string {
  const ms = timestampMs(ts);
  return ms === undefined ? '-' : duration((now - ms) / 1000);
}

/** uint64 counts arrive as decimal strings (longs: String). */
export function total(counts: readonly FamilyCount__Output[]): string {
  return String(counts.reduce((n, c) => n + BigInt(c.count || '0'), 0n));
}

/** "l2vpn-evpn 3, ipv4-unicast 0", or "-". */
export function perFamily(counts: readonly FamilyCount__Output[]): string {
  return list(counts.map((c) => `${c.family} ${c.count}`));
}

/** "*>" best, "*" another valid path; "s" appended for a stale one (RFC 4724). */
function status(r: Route__Output): string {
  return `${r.best ? '*>' : '*'}${r.stale ? 's' : ''}`;
}

function labels(r: Route__Output): string {
  const ls = r.evpn?.labels ?? r.vpn?.labels ?? [];
  return list(ls.map(String), '/');
}

/** Everything but the next hop and AS path, short: "lp 100", "med 5", communities, extended communities. */
export function routeAttributes(r: Route__Output): string {
  const a = r.attributes;
  if (!a) return '-';
  const parts: string[] = [];
  if (a.localPref !== undefined && a.localPref !== null) parts.push(`lp ${a.localPref}`);
  if (a.med !== undefined && a.med !== null) parts.push(`med ${a.med}`);
  parts.push(...a.communities, ...a.extendedCommunities);
  if (a.pmsiTunnel) parts.push(`pmsi ${a.pmsiTunnel}`);
  if (a.originatorId) parts.push(`originator ${a.originatorId}`);
  if (a.clusterList.length > 0) parts.push(`cluster-list ${a.clusterList.join(' ')}`);
  return list(parts, ' ');
}

export const ROUTE_COLUMNS = ['S', 'PREFIX', 'NEXT HOP', 'SOURCE', 'LABELS', 'AS PATH', 'ATTRIBUTES'] as const;

export function routeRow(r: Route__Output): string[] {
  const a = r.attributes;
  return [status(r), r.prefix, dash(a?.nextHop), dash(r.source), labels(r), dash(a?.asPath), routeAttributes(r)];
}

export function routeTable(routes: readonly Route__Output[]): string {
  return formatTable([...ROUTE_COLUMNS], routes.map(routeRow));
}

/**
 * "received N routes…" on a terminal's stderr while a long listing streams
 * in: shown once the listing has run for `after` ms, redrawn every `every`
 * ms with `\r`, erased by `stop()`. Does nothing unless enabled (stderr is a
 * TTY and the output is not JSON).
 */
export class Progress {
  private count = 0;
  private shown = false;
  private readonly startTimer: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;

  constructor(
    enabled: boolean,
    private readonly noun: string,
    private readonly stream: { write(text: string): unknown } = process.stderr,
    after = 1000,
    private readonly every = 250,
  ) {
    if (!enabled) return;
    this.startTimer = setTimeout(() => {
      this.draw();
      this.tick = setInterval(() => this.draw(), this.every);
      this.tick.unref();
    }, after);
    this.startTimer.unref();
  }

  add(n = 1): void {
    this.count += n;
  }

  private draw(): void {
    this.shown = true;
    this.stream.write(`\rreceived ${this.count} ${this.noun}…\x1b[K`);
  }

  stop(): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.tick) clearInterval(this.tick);
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
