/**
 * Field validators over the YAML node tree. Each takes a located value and
 * either returns the converted value or records an error and returns
 * undefined, so one pass collects every problem in the file.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import { bytesToIp, ipv6ToBytes } from '../core/ip.js';
import { suggest, type ConfigError } from './errors.js';
import type { ListenConfig } from './types.js';

/** A YAML node with the source offset errors should point at and its field path. */
export interface Val {
  readonly node: unknown;
  readonly offset: number;
  readonly path: string;
}

export type Check<T> = (ctx: Ctx, v: Val) => T | undefined;

export class Ctx {
  readonly errors: ConfigError[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document,
  ) {}

  /** Errors in file order, which is how an operator fixes them. */
  sortedErrors(): ConfigError[] {
    return [...this.errors].sort((a, b) => a.line - b.line || a.col - b.col);
  }

  report(offset: number, path: string, message: string): void {
    const { line, col } = this.lines.linePos(offset);
    this.errors.push({ file: this.file, line, col, path, message });
  }

  lineOf(offset: number): number {
    return this.lines.linePos(offset).line;
  }

  /** Records "expected X, got Y" at v and returns undefined for the caller to pass on. */
  fail(v: Val, expected: string, extra = ''): undefined {
    this.report(v.offset, v.path, `expected ${expected}, got ${describe(v.node)}${extra}`);
    return undefined;
  }

  /** Wraps a child node; aliases are followed but errors stay at the use site. */
  val(node: unknown, path: string, fallback: number): Val {
    return { node: this.resolve(node), offset: offsetOf(node) ?? fallback, path };
  }

  resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }
}

function offsetOf(node: unknown): number | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range?.[0];
  return undefined;
}

export function describe(node: unknown): string {
  if (isScalar(node)) {
    const v: unknown = node.value;
    if (v === null || v === undefined) return node.range && node.range[0] === node.range[1] ? 'an empty value' : 'null';
    if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
    return String(v);
  }
  if (node === null || node === undefined) return 'an empty value';
  if (isMap(node)) return node.items.length === 0 ? 'an empty mapping' : 'a mapping';
  if (isSeq(node)) return node.items.length === 0 ? 'an empty list' : 'a list';
  return 'an unresolved alias';
}

/** `key:` with nothing after it, `~`, `null`, and a flow-map key without a value (`{ key }`) all read as null. */
export const isNull = (v: Val): boolean =>
  v.node === null || v.node === undefined || (isScalar(v.node) && (v.node.value === null || v.node.value === undefined));
export const joinPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** The keys of one YAML mapping, after unknown keys have been reported. */
export class Fields {
  constructor(
    private readonly ctx: Ctx,
    readonly self: Val,
    private readonly byKey: ReadonlyMap<string, Val>,
  ) {}

  /** Absent and explicit-null values (`key:` with nothing after it) both mean "use the default". */
  get(key: string): Val | undefined {
    const v = this.byKey.get(key);
    return v === undefined || isNull(v) ? undefined : v;
  }

  optional<T>(key: string, check: Check<T>): T | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : check(this.ctx, v);
  }

  required<T>(key: string, check: Check<T>, expected: string): T | undefined {
    const v = this.byKey.get(key);
    if (v === undefined) {
      this.ctx.report(this.self.offset, joinPath(this.self.path, key), `required, expected ${expected}`);
      return undefined;
    }
    return isNull(v) ? this.ctx.fail(v, expected) : check(this.ctx, v);
  }
}

export function readMap(ctx: Ctx, v: Val, known: readonly string[]): Fields | undefined {
  if (!isMap(v.node)) return ctx.fail(v, 'a mapping');
  const byKey = new Map<string, Val>();
  for (const pair of v.node.items) {
    const keyNode = ctx.resolve(pair.key);
    const keyOffset = offsetOf(pair.key) ?? v.offset;
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
      ctx.report(keyOffset, v.path, `expected a plain key such as "${known[0] ?? ''}", got ${describe(keyNode)}`);
      continue;
    }
    const key = String(keyNode.value);
    const path = joinPath(v.path, key);
    if (!known.includes(key)) {
      const hint = suggest(key, known);
      ctx.report(keyOffset, path, hint ? `unknown key, did you mean "${hint}"?` : `unknown key; known keys: ${known.join(', ')}`);
      continue;
    }
    // yaml already reports duplicate keys; the first one is the one validated.
    if (!byKey.has(key)) byKey.set(key, ctx.val(pair.value, path, keyOffset));
  }
  return new Fields(ctx, v, byKey);
}

export function list<T>(item: Check<T>, expected: string): Check<T[]> {
  return (ctx, v) => {
    if (!isSeq(v.node)) return ctx.fail(v, expected);
    const out: T[] = [];
    let ok = true;
    v.node.items.forEach((node, i) => {
      const r = item(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset));
      if (r === undefined) ok = false;
      else out.push(r);
    });
    return ok ? out : undefined;
  };
}

/** Integer in [min, max]; YAML floats and numeric strings are refused so typos cannot slip through. */
export function int(min: number, max: number, expected: string): Check<number> {
  return (ctx, v) => {
    const n = isScalar(v.node) ? v.node.value : undefined;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
    return ctx.fail(v, expected);
  };
}

export const AS_EXPECTED = 'an AS number 1..4294967295';
export const asNumber = int(1, 4294967295, AS_EXPECTED);
export const uint32 = int(0, 4294967295, 'an integer 0..4294967295');

export const HOLD_TIME_EXPECTED = 'a hold time of 0 or 3..65535 seconds';
export const holdTime: Check<number> = (ctx, v) => {
  const n = int(0, 65535, HOLD_TIME_EXPECTED)(ctx, v);
  if (n === 1 || n === 2) return ctx.fail(v, HOLD_TIME_EXPECTED, ' (RFC 4271 §4.2 forbids 1 and 2)');
  return n;
};

export const connectRetry = int(1, 65535, 'a connect retry time of 1..65535 seconds');

export const bool: Check<boolean> = (ctx, v) => {
  const b = isScalar(v.node) ? v.node.value : undefined;
  return typeof b === 'boolean' ? b : ctx.fail(v, 'true or false');
};

export const str: Check<string> = (ctx, v) => {
  const s = isScalar(v.node) ? v.node.value : undefined;
  return typeof s === 'string' ? s : ctx.fail(v, 'a string');
};

export function oneOf<T extends string>(values: readonly T[], expected = `one of ${values.join(', ')}`): Check<T> {
  return (ctx, v) => {
    const s = isScalar(v.node) ? v.node.value : undefined;
    if (typeof s === 'string' && (values as readonly string[]).includes(s)) return s as T;
    const hint = typeof s === 'string' ? suggest(s, values) : undefined;
    return ctx.fail(v, expected, hint ? `, did you mean "${hint}"?` : '');
  };
}

export type IpVersion = 4 | 6;

/** Parses an address; IPv6 comes back in RFC 5952 form so it compares equal to socket addresses. */
export function parseIp(s: string): { version: IpVersion; text: string } | undefined {
  if (isIPv4(s)) return { version: 4, text: s };
  const bytes = !s.includes('%') && isIPv6(s) ? ipv6ToBytes(s) : undefined;
  return bytes ? { version: 6, text: bytesToIp(bytes) } : undefined;
}

export const IP_EXPECTED = 'an IPv4 or IPv6 address';
export const ipExpected = (version: IpVersion): string =>
  version === 4 ? 'an IPv4 address like 192.0.2.1' : 'an IPv6 address like 2001:db8::1';

/** An address of the given version (or either when undefined). */
export function ip(version?: IpVersion, expected?: string): Check<{ version: IpVersion; text: string }> {
  return (ctx, v) => {
    const s = isScalar(v.node) ? v.node.value : undefined;
    const parsed = typeof s === 'string' ? parseIp(s) : undefined;
    if (parsed && (version === undefined || parsed.version === version)) return parsed;
    const zone = typeof s === 'string' && s.includes('%') ? ' (zone indexes are not supported)' : '';
    return ctx.fail(v, expected ?? (version ? ipExpected(version) : IP_EXPECTED), zone);
  };
}

/** Non-empty text; names and identities. */
export const nonEmptyStr: Check<string> = (ctx, v) => {
  const s = isScalar(v.node) ? v.node.value : undefined;
  return typeof s === 'string' && s.trim() !== '' ? s : ctx.fail(v, 'a non-empty string');
};

/** The file name parseConfig is given for the embedded config; its relative paths resolve against the working directory. */
export const BUILT_IN_CONFIG_NAME = '<built-in default config>';

/** Relative paths in a config file are relative to the file's folder, not to where the daemon was started. */
export function configPath(ctx: Ctx, text: string): string {
  const base = ctx.file === BUILT_IN_CONFIG_NAME ? process.cwd() : dirname(resolve(ctx.file));
  return resolve(base, text);
}

/** A file-system path, returned absolute (see configPath). */
export const filePath: Check<string> = (ctx, v) => {
  const s = isScalar(v.node) ? v.node.value : undefined;
  if (typeof s !== 'string' || s.trim() === '') return ctx.fail(v, 'a non-empty path');
  if (s.includes('\0')) return ctx.fail(v, 'a path without NUL characters');
  return configPath(ctx, s);
};

const LISTEN_KEYS = ['enabled', 'address', 'port'];

/**
 * A listening endpoint: a mapping of enabled/address/port, or `false` (`true`
 * keeps the defaults). Used by `listen`, `metrics` and `api.listen`.
 */
export function endpoint(defaults: ListenConfig): Check<ListenConfig> {
  return (ctx, v) => {
    if (isScalar(v.node) && typeof v.node.value === 'boolean') return { ...defaults, enabled: v.node.value };
    if (!isScalar(v.node)) {
      const f = readMap(ctx, v, LISTEN_KEYS);
      if (!f) return undefined;
      const before = ctx.errors.length;
      const l: ListenConfig = {
        enabled: f.optional('enabled', bool) ?? true,
        address: f.optional('address', ip(undefined, IP_EXPECTED))?.text ?? defaults.address,
        port: f.optional('port', int(0, 65535, 'a port 0..65535 (0 = ephemeral)')) ?? defaults.port,
      };
      return ctx.errors.length > before ? undefined : l;
    }
    return ctx.fail(v, `a mapping with ${LISTEN_KEYS.join(', ')}, or false`);
  };
}
