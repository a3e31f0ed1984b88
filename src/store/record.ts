/**
 * The journal's line format and the checks every record passes, both when
 * it is written and when it is read back, so the store never writes a line
 * it would refuse at the next start.
 */
import { isIP } from 'node:net';
import { type Result, err, ok } from '../core/result.js';

/** One VM as the store keeps it; the key is (network, mac). */
export interface VmRecord {
  readonly vmId: string;
  /** Network name. */
  readonly network: string;
  /** Lower-case colon form: the key compares as text, so one spelling only. */
  readonly mac: string;
  readonly ips: readonly string[];
  readonly vtep: string;
  /** RFC 7432 §15 sequence number (uint32). */
  readonly seq: number;
  /** Identity that announced it. */
  readonly agent: string;
  /** ms since epoch. */
  readonly since: number;
  /** RFC 7432 §15.2 static MAC; absent in lines written before it existed. */
  readonly sticky?: boolean;
}

/** One journal line: `{"op":"put",...record}` or `{"op":"del","network":…,"mac":…}`. */
export type JournalOp =
  | { readonly op: 'put'; readonly record: VmRecord }
  | { readonly op: 'del'; readonly network: string; readonly mac: string };

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const UINT32_MAX = 0xffff_ffff;

/** The map key for (network, mac); NUL cannot occur in either part. */
export function vmKey(network: string, mac: string): string {
  return `${network}\u0000${mac}`;
}

export function encodeOp(op: JournalOp): string {
  // Field order fixed by hand so the file reads the same way every time.
  if (op.op === 'del') return `${JSON.stringify({ op: 'del', network: op.network, mac: op.mac })}\n`;
  const r = op.record;
  const line = {
    op: 'put', vmId: r.vmId, network: r.network, mac: r.mac, ips: r.ips, vtep: r.vtep, seq: r.seq, agent: r.agent, since: r.since,
    ...(r.sticky === true ? { sticky: true } : {}),
  };
  return `${JSON.stringify(line)}\n`;
}

/** Why a line is refused: `json` lines may be a torn write, `record` lines never are. */
export interface LineError {
  readonly kind: 'json' | 'record';
  readonly reason: string;
}

/** Parses one line without its newline. */
export function decodeOp(text: string): Result<JournalOp, LineError> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return err({ kind: 'json', reason: `not JSON (${e instanceof Error ? e.message : String(e)})` });
  }
  if (!isObject(v)) return err({ kind: 'record', reason: 'not a JSON object' });
  switch (v['op']) {
    case 'put': {
      const r = checkRecord(v);
      return r.ok ? ok({ op: 'put', record: r.value }) : err({ kind: 'record', reason: r.error });
    }
    case 'del': {
      const k = checkKey(v['network'], v['mac']);
      return k.ok ? ok({ op: 'del', ...k.value }) : err({ kind: 'record', reason: k.error });
    }
    default:
      return err({ kind: 'record', reason: `op is ${JSON.stringify(v['op'])}, expected "put" or "del"` });
  }
}

/**
 * Checks the shape of a record and copies the known fields, so an object
 * with extra properties (a caller's, or a newer version's line) stores only these.
 */
export function checkRecord(v: Readonly<Record<string, unknown>>): Result<VmRecord, string> {
  const key = checkKey(v['network'], v['mac']);
  if (!key.ok) return key;
  const { network, mac } = key.value;
  const { vmId, ips, vtep, seq, agent, since, sticky } = v;
  if (typeof vmId !== 'string' || vmId === '') return err('vmId must be a non-empty string');
  if (!Array.isArray(ips) || !ips.every((ip): ip is string => typeof ip === 'string' && isIP(ip) !== 0)) {
    return err('ips must be an array of IP addresses');
  }
  if (typeof vtep !== 'string' || isIP(vtep) === 0) return err('vtep must be an IP address');
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > UINT32_MAX) return err('seq must be an integer 0..4294967295');
  if (typeof agent !== 'string') return err('agent must be a string');
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) return err('since must be a non-negative integer (ms since epoch)');
  if (sticky !== undefined && typeof sticky !== 'boolean') return err('sticky must be true or false');
  return ok({ vmId, network, mac, ips: [...ips], vtep, seq, agent, since, ...(sticky === true ? { sticky: true } : {}) });
}

export function checkKey(network: unknown, mac: unknown): Result<{ network: string; mac: string }, string> {
  if (typeof network !== 'string' || network === '') return err('network must be a non-empty string');
  if (network.includes('\u0000')) return err('network must not contain NUL');
  if (typeof mac !== 'string' || !MAC.test(mac)) return err(`mac must be lower-case colon form (52:54:00:aa:bb:01), got ${JSON.stringify(mac)}`);
  return ok({ network, mac });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
