import { ErrorCode, HeaderSubcode } from './constants.js';

/** What a NOTIFICATION carries (RFC 4271 §4.5). */
export interface Notify {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** An error that ends the session: the peer is told why with `notify`. */
export interface FatalError {
  readonly kind: 'fatal';
  readonly notify: Notify;
  /** For logs: what was wrong, in words. */
  readonly reason: string;
}

/**
 * RFC 7606 §2 approaches, from least to most disruptive. "session-reset" is a
 * FatalError; the other two keep the session up.
 */
export type UpdateErrorAction = 'attribute-discard' | 'treat-as-withdraw';

/** A path attribute problem the session survives (RFC 7606). */
export interface AttrError {
  readonly action: UpdateErrorAction;
  readonly attrType: number;
  readonly reason: string;
}

export function fatal(code: number, subcode: number, reason: string, data: Buffer = EMPTY): FatalError {
  return { kind: 'fatal', notify: { code, subcode, data }, reason };
}

export const EMPTY: Buffer = Buffer.alloc(0);

export function u16Data(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}

export function headerError(subcode: HeaderSubcode, reason: string, data: Buffer = EMPTY): FatalError {
  return fatal(ErrorCode.MessageHeader, subcode, reason, data);
}
