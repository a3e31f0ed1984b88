import { readFileSync, statSync } from 'node:fs';
import { isScalar, isSeq } from 'yaml';
import { isLoopback } from '../core/ip.js';
import { suggest } from './errors.js';
import {
  IP_EXPECTED, bool, endpoint, filePath, int, ip, list, nonEmptyStr, readMap, type Check, type Ctx, type Val,
} from './schema.js';
import type { AgentConfig, ApiConfig, ListenConfig, TlsConfig, TokenConfig } from './types.js';

const API_KEYS = ['listen', 'tls', 'agents', 'operators', 'tokens', 'allow-anonymous', 'watch-buffer'];
const TLS_KEYS = ['cert', 'key', 'client-ca'];
const AGENT_KEYS = ['name', 'vteps', 'networks'];
const TOKEN_KEYS = ['name', 'token', 'token-file'];

const DEFAULT_API_LISTEN: ListenConfig = { enabled: true, address: '127.0.0.1', port: 50051 };
const DEFAULT_WATCH_BUFFER = 10000;
/** Bearer tokens shorter than this are guessable. */
const MIN_TOKEN_LENGTH = 16;

/**
 * No `api:` section, no API: a config that never asked for one must not
 * take port 50051 (the built-in default config does ask, on loopback).
 */
export const DEFAULT_API: ApiConfig = {
  ...DEFAULT_API_LISTEN,
  enabled: false,
  agents: [],
  operators: [],
  tokens: [],
  allowAnonymous: true,
  watchBuffer: DEFAULT_WATCH_BUFFER,
};

/**
 * Reads a file named in the config now, so a typo fails at load rather than
 * at the first connection. Only regular files: a FIFO or device would block.
 */
function readNamedFile(ctx: Ctx, v: Val): { path: string; data: Buffer } | undefined {
  const p = filePath(ctx, v);
  if (p === undefined) return undefined;
  try {
    if (!statSync(p).isFile()) {
      ctx.report(v.offset, v.path, `cannot read ${p}: not a regular file`);
      return undefined;
    }
    return { path: p, data: readFileSync(p) };
  } catch (e) {
    ctx.report(v.offset, v.path, `cannot read ${p}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

const readableFile: Check<string> = (ctx, v) => readNamedFile(ctx, v)?.path;

const tls: Check<TlsConfig> = (ctx, v) => {
  const f = readMap(ctx, v, TLS_KEYS);
  if (!f) return undefined;
  const cert = f.required('cert', readableFile, 'the path of a PEM certificate (chain)');
  const key = f.required('key', readableFile, 'the path of a PEM private key');
  const clientCa = f.optional('client-ca', readableFile);
  if (cert === undefined || key === undefined || (f.get('client-ca') && clientCa === undefined)) return undefined;
  return { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) };
};

/** A list whose items must differ; `key` gives the text compared and shown. */
function distinct<T>(item: Check<T>, expected: string, what: string, key: (t: T) => string): Check<T[]> {
  return (ctx, v) => {
    if (!isSeq(v.node) || v.node.items.length === 0) return ctx.fail(v, expected);
    const items = list(item, expected)(ctx, v);
    if (items === undefined) return undefined;
    const keys = items.map(key);
    let ok = true;
    keys.forEach((k, i) => {
      if (keys.indexOf(k) === i) return;
      ok = false;
      const at = ctx.val(isSeq(v.node) ? v.node.items[i] : undefined, `${v.path}[${i}]`, v.offset);
      ctx.report(at.offset, at.path, `duplicate ${what} ${k}`);
    });
    return ok ? items : undefined;
  };
}

const VTEPS_EXPECTED = 'a non-empty list of VTEP addresses (IPv4 or IPv6)';
const vteps = distinct(ip(undefined, IP_EXPECTED), VTEPS_EXPECTED, 'VTEP', (a) => a.text);

/** Network names that must be configured under `networks:`; unchecked when that section is itself broken. */
function networkRefs(known: ReadonlySet<string> | undefined): Check<string[]> {
  const expected = 'a non-empty list of network names from networks:';
  const item: Check<string> = (ctx, v) => {
    const name = nonEmptyStr(ctx, v);
    if (name === undefined || known === undefined || known.has(name)) return name;
    const hint = suggest(name, [...known]);
    const have = known.size === 0 ? 'no networks are configured' : `configured: ${[...known].join(', ')}`;
    ctx.report(v.offset, v.path, `unknown network "${name}"${hint ? `, did you mean "${hint}"?` : ` (${have})`}`);
    return undefined;
  };
  return distinct(item, expected, 'network', (n) => n);
}

function readAgents(ctx: Ctx, v: Val, networks: ReadonlySet<string> | undefined): AgentConfig[] | undefined {
  if (!isSeq(v.node)) return ctx.fail(v, 'a list of agents such as - { name: hv1, vteps: [10.0.0.21], networks: [blue] }');
  const seen = new Map<string, string>();
  const out: AgentConfig[] = [];
  v.node.items.forEach((node, i) => {
    const a = readAgent(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset), networks, seen);
    if (a) out.push(a);
  });
  return out.length === v.node.items.length ? out : undefined;
}

function readAgent(
  ctx: Ctx,
  v: Val,
  networks: ReadonlySet<string> | undefined,
  seen: Map<string, string>,
): AgentConfig | undefined {
  const f = readMap(ctx, v, AGENT_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  const name = f.required('name', nonEmptyStr, 'the agent\'s certificate name or token name');
  const nameVal = f.get('name');
  if (name !== undefined && nameVal) {
    const first = seen.get(name);
    if (first) ctx.report(nameVal.offset, nameVal.path, `duplicate agent "${name}", already configured at ${first}`);
    else seen.set(name, `${v.path} (line ${ctx.lineOf(nameVal.offset)})`);
  }
  const addresses = f.required('vteps', vteps, VTEPS_EXPECTED);
  const nets = f.required('networks', networkRefs(networks), 'a non-empty list of network names from networks:');
  if (ctx.errors.length > before || name === undefined || addresses === undefined || nets === undefined) return undefined;
  return { name, vteps: addresses.map((a) => a.text), networks: nets };
}

/** The secret is never echoed: error messages only say how long it is. */
function tokenText(ctx: Ctx, v: Val, text: string, source: string): string | undefined {
  if (text.length >= MIN_TOKEN_LENGTH) return text;
  ctx.report(v.offset, v.path, `${source} is ${text.length} characters long: a token needs at least ${MIN_TOKEN_LENGTH}`);
  return undefined;
}

const literalToken: Check<string> = (ctx, v) => {
  const s = isScalar(v.node) ? v.node.value : undefined;
  if (typeof s !== 'string') {
    ctx.report(v.offset, v.path, `expected a token of at least ${MIN_TOKEN_LENGTH} characters (quote it if it looks like a number)`);
    return undefined;
  }
  return tokenText(ctx, v, s, 'the token');
};

/** Read at load and trimmed, so a trailing newline from `echo > file` is not part of the token. */
const tokenFile: Check<string> = (ctx, v) => {
  const file = readNamedFile(ctx, v);
  return file && tokenText(ctx, v, file.data.toString('utf8').trim(), `the token in ${file.path}`);
};

function readTokens(ctx: Ctx, v: Val): TokenConfig[] | undefined {
  if (!isSeq(v.node)) return ctx.fail(v, 'a list of tokens such as - { name: ops, token-file: ops.token }');
  const seen = new Map<string, string>();
  const out: TokenConfig[] = [];
  v.node.items.forEach((node, i) => {
    const t = readToken(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset), seen);
    if (t) out.push(t);
  });
  return out.length === v.node.items.length ? out : undefined;
}

/** Names may repeat (two tokens for one identity while rotating); secrets may not. */
function readToken(ctx: Ctx, v: Val, seen: Map<string, string>): TokenConfig | undefined {
  const f = readMap(ctx, v, TOKEN_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  const name = f.required('name', nonEmptyStr, 'the identity the token authenticates as');
  const literalVal = f.get('token');
  const fileVal = f.get('token-file');
  let token: string | undefined;
  if (literalVal && fileVal) {
    ctx.report(fileVal.offset, fileVal.path, 'set only one of token and token-file');
  } else if (literalVal) {
    token = literalToken(ctx, literalVal);
  } else if (fileVal) {
    token = tokenFile(ctx, fileVal);
  } else {
    ctx.report(v.offset, v.path, 'set one of token (the secret) or token-file (a file holding it)');
  }
  const at = fileVal ?? literalVal;
  if (token !== undefined && at) {
    const first = seen.get(token);
    if (first) ctx.report(at.offset, at.path, `the same token is already used by ${first}: every token must be different`);
    else seen.set(token, `${v.path} (line ${ctx.lineOf(at.offset)})`);
  }
  if (ctx.errors.length > before || name === undefined || token === undefined) return undefined;
  return { name, token };
}

/**
 * `api:`. `networks` are the configured network names agents may refer to,
 * undefined when `networks:` is itself broken (then references are not checked).
 */
export function readApi(ctx: Ctx, v: Val | undefined, networks: ReadonlySet<string> | undefined): ApiConfig | undefined {
  if (v === undefined) return DEFAULT_API;
  const f = readMap(ctx, v, API_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  const listen = f.optional('listen', endpoint(DEFAULT_API_LISTEN)) ?? DEFAULT_API_LISTEN;
  const listenVal = f.get('listen');
  const tlsVal = f.get('tls');
  const tlsConfig = f.optional('tls', tls);
  if (tlsVal === undefined && listen.enabled && !isLoopback(listen.address) && listenVal) {
    ctx.report(listenVal.offset, listenVal.path, 'plain-text API only on loopback: add api.tls or listen on 127.0.0.1');
  }
  const agentsVal = f.get('agents');
  const agents = agentsVal ? readAgents(ctx, agentsVal, networks) : [];
  const operators = f.optional('operators', list(nonEmptyStr, 'a list of identities (certificate or token names)')) ?? [];
  const tokensVal = f.get('tokens');
  const tokens = tokensVal ? readTokens(ctx, tokensVal) : [];
  const anonymous = f.optional('allow-anonymous', bool);
  const anonymousVal = f.get('allow-anonymous');
  if (anonymous === true && tlsVal && anonymousVal) {
    ctx.report(anonymousVal.offset, anonymousVal.path, 'anonymous callers are only allowed on a plain-text loopback API');
  }
  const watchBuffer = f.optional('watch-buffer', int(1, 1000000, 'a number of events 1..1000000')) ?? DEFAULT_WATCH_BUFFER;
  if (ctx.errors.length > before || agents === undefined || tokens === undefined) return undefined;
  return {
    ...listen,
    ...(tlsConfig !== undefined ? { tls: tlsConfig } : {}),
    agents,
    operators,
    tokens,
    allowAnonymous: anonymous ?? tlsVal === undefined,
    watchBuffer,
  };
}
