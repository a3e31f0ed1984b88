import { type Result, err, ok } from '../../core/result.js';
import { ErrorCode, RouteRefreshSubcode, type RouteRefreshSubtype } from './constants.js';
import { type FatalError, fatal } from './errors.js';
import type { Writer } from './writer.js';

/** RFC 2918 §3 / RFC 7313 §3: AFI(2) Subtype(1) SAFI(1). */
export interface RouteRefresh {
  readonly afi: number;
  readonly subtype: RouteRefreshSubtype;
  readonly safi: number;
}

export function decodeRouteRefresh(body: Buffer, raw: Buffer): Result<RouteRefresh, FatalError> {
  if (body.length !== 4) {
    // RFC 7313 §5: the data is the whole message.
    return err(fatal(ErrorCode.RouteRefresh, RouteRefreshSubcode.InvalidMessageLength, `ROUTE-REFRESH body of ${body.length} bytes`, Buffer.from(raw)));
  }
  return ok({ afi: body.readUInt16BE(0), subtype: body[2]! as RouteRefreshSubtype, safi: body[3]! });
}

export function encodeRouteRefresh(w: Writer, m: RouteRefresh): void {
  w.u16(m.afi).u8(m.subtype).u8(m.safi);
}
