import { type Result, err, ok } from '../../core/result.js';
import { CeaseSubcode, ErrorCode } from './constants.js';
import type { FatalError, Notify } from './errors.js';
import { fatal } from './errors.js';
import type { Writer } from './writer.js';

/** RFC 4271 §4.5: ErrorCode(1) ErrorSubcode(1) Data. */
export function decodeNotification(body: Buffer): Result<Notify, FatalError> {
  if (body.length < 2) return err(fatal(ErrorCode.MessageHeader, 2, 'NOTIFICATION shorter than 2 bytes'));
  return ok({ code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) });
}

export function encodeNotification(w: Writer, n: Notify): void {
  w.u8(n.code).u8(n.subcode).bytes(n.data);
}

/** RFC 9003 §2: Cease with Administrative Shutdown or Reset may carry Length(1) + UTF-8 text. */
export function shutdownData(message: string): Buffer {
  let text = Buffer.from(message, 'utf8');
  if (text.length > 255) {
    // Cut at a character boundary so the text stays valid UTF-8.
    let end = 255;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  return Buffer.concat([Buffer.from([text.length]), text]);
}

export function shutdownMessage(n: Notify): string | undefined {
  const isShutdown =
    n.code === ErrorCode.Cease &&
    (n.subcode === CeaseSubcode.AdministrativeShutdown || n.subcode === CeaseSubcode.AdministrativeReset);
  if (!isShutdown || n.data.length < 1) return undefined;
  const len = n.data[0]!;
  if (len === 0 || n.data.length < 1 + len) return undefined;
  return n.data.subarray(1, 1 + len).toString('utf8');
}

const CODES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    0: 'Unspecific',
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    // RFC 9234 §4.2 / IANA: 11 (8 to 10 are deprecated).
    11: 'Role Mismatch',
  },
  3: {
    0: 'Unspecific',
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease / Administrative Shutdown: "maintenance"" — the meaning of a NOTIFICATION for logs. */
export function describeNotification(n: Notify): string {
  const code = CODES[n.code] ?? `code ${n.code}`;
  const sub = SUBCODES[n.code]?.[n.subcode] ?? `subcode ${n.subcode}`;
  const text = shutdownMessage(n);
  const base = n.code === ErrorCode.HoldTimerExpired ? code : `${code} / ${sub}`;
  return text !== undefined ? `${base}: "${text}"` : base;
}
