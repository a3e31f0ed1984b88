import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { LOG_LEVELS } from '../core/log.js';
import { ipv4ToNumber } from '../core/ip.js';
import { err, ok, type Result } from '../core/result.js';
import { readApi } from './api.js';
import { readGateway } from './gateway.js';
import type { ConfigError } from './errors.js';
import { readNeighbors } from './neighbors.js';
import { readNetworks } from './networks.js';
import { readOriginate } from './originate.js';
import {
  AS_EXPECTED, Ctx, Fields, asNumber, connectRetry, endpoint, holdTime, int, ip, oneOf, filePath, readMap, type Check, type Val,
} from './schema.js';
import type { Config, ListenConfig } from './types.js';

const TOP_KEYS = [
  'router-id', 'asn', 'listen', 'metrics', 'cluster-id', 'hold-time', 'connect-retry', 'log-level', 'neighbors', 'originate',
  'networks', 'store', 'api', 'migration-timeout', 'dc-gateway',
];
const DEFAULT_LISTEN: ListenConfig = { enabled: true, address: '127.0.0.1', port: 1179 };
/** Prometheus endpoint: off unless configured (the built-in default config turns it on). */
const DEFAULT_METRICS: ListenConfig = { enabled: false, address: '127.0.0.1', port: 9179 };
const DEFAULT_HOLD_TIME = 90;
const DEFAULT_CONNECT_RETRY = 5;
const ROUTER_ID_EXPECTED = 'a non-zero IPv4 address like 192.0.2.1';

/** RFC 6286 §2.1: the BGP Identifier is a non-zero 32-bit number. */
const routerId: Check<{ text: string; n: number }> = (ctx, v) => {
  const addr = ip(4, ROUTER_ID_EXPECTED)(ctx, v);
  const n = addr && ipv4ToNumber(addr.text);
  if (addr === undefined || n === undefined) return undefined;
  return n === 0 ? ctx.fail(v, ROUTER_ID_EXPECTED) : { text: addr.text, n };
};

const MAX_YAML_PROBLEMS = 10;

/** Deeply broken input can yield thousands of identical parser errors; a screenful is enough. */
function reportYamlProblems(ctx: Ctx, problems: readonly { pos: [number, number]; message: string }[]): void {
  const seen = new Set<string>();
  let shown = 0;
  for (const p of problems) {
    const key = `${p.pos[0]} ${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (shown++ < MAX_YAML_PROBLEMS) ctx.report(p.pos[0], '', `invalid YAML: ${p.message}`);
  }
  if (shown > MAX_YAML_PROBLEMS) {
    const last = problems[problems.length - 1]?.pos[0] ?? 0;
    ctx.report(last, '', `invalid YAML: ${shown - MAX_YAML_PROBLEMS} more problems not shown`);
  }
}

/** Reads config text; every problem found is returned, nothing is thrown. */
export function parseConfig(text: string, fileName: string): Result<Config, ConfigError[]> {
  try {
    return parse(text, fileName);
  } catch (e) {
    // A bug here must still reach the operator as a config error, not a stack trace.
    const message = `internal error while reading the config: ${e instanceof Error ? e.message : String(e)}`;
    return err([{ file: fileName, line: 0, col: 0, path: '', message }]);
  }
}

export async function loadConfigFile(path: string): Promise<Result<Config, ConfigError[]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const message = `cannot read config file: ${e instanceof Error ? e.message : String(e)}`;
    return err([{ file: path, line: 0, col: 0, path: '', message }]);
  }
  return parseConfig(text, path);
}

function parse(text: string, file: string): Result<Config, ConfigError[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const ctx = new Ctx(file, lines, doc);
  // After a syntax error the tree is a guess; schema errors on it would mislead.
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    reportYamlProblems(ctx, yamlProblems);
    return err(ctx.sortedErrors());
  }
  const root: Val = ctx.val(doc.contents, '', 0);
  // An empty file is an empty mapping, so the operator learns which keys are required.
  const f = doc.contents === null ? new Fields(ctx, root, new Map()) : readMap(ctx, root, TOP_KEYS);
  if (!f) return err(ctx.sortedErrors());

  const id = f.required('router-id', routerId, ROUTER_ID_EXPECTED);
  const asn = f.required('asn', asNumber, AS_EXPECTED);
  const clusterId = f.optional('cluster-id', routerId);
  const listenConfig = f.optional('listen', endpoint(DEFAULT_LISTEN)) ?? DEFAULT_LISTEN;
  const metrics = f.optional('metrics', endpoint(DEFAULT_METRICS)) ?? DEFAULT_METRICS;
  const globalHold = f.optional('hold-time', holdTime) ?? DEFAULT_HOLD_TIME;
  const globalRetry = f.optional('connect-retry', connectRetry) ?? DEFAULT_CONNECT_RETRY;
  const logLevel = f.optional('log-level', oneOf(LOG_LEVELS)) ?? 'info';
  const defaults = { asn, holdTime: globalHold, connectRetry: globalRetry };
  const neighbors = readNeighbors(ctx, f.get('neighbors'), defaults) ?? [];
  const originate = readOriginate(ctx, f.get('originate')) ?? [];
  const networks = readNetworks(ctx, f.get('networks'), asn);
  const store = f.optional('store', filePath);
  const api = readApi(ctx, f.get('api'), networks.names);
  const migrationTimeout = f.optional('migration-timeout', int(1, 86400, 'seconds 1..86400')) ?? 60;
  const dcGateway = readGateway(ctx, f.get('dc-gateway'), networks.networks ?? []);

  if (ctx.errors.length > 0 || id === undefined || asn === undefined || networks.networks === undefined || api === undefined) {
    return err(ctx.sortedErrors());
  }
  return ok({
    routerId: id.text,
    routerIdNumber: id.n,
    clusterId: clusterId?.n ?? id.n,
    asn,
    listen: listenConfig,
    metrics,
    holdTime: globalHold,
    connectRetry: globalRetry,
    logLevel,
    neighbors,
    originate,
    networks: networks.networks,
    ...(store !== undefined ? { store } : {}),
    api,
    migrationTimeoutMs: migrationTimeout * 1000,
    ...(dcGateway !== undefined ? { dcGateway } : {}),
  });
}
