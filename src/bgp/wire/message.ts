import { type Result, assertNever, err, ok } from '../../core/result.js';
import type { DecodeContext } from './attributes-decode.js';
import { HeaderSubcode, MessageType } from './constants.js';
import { type FatalError, type Notify, headerError } from './errors.js';
import type { Frame } from './framer.js';
import { type Open, decodeOpen, encodeOpen } from './open.js';
import { decodeNotification, encodeNotification } from './notification.js';
import { type RouteRefresh, decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.js';
import { type Update, decodeUpdate } from './update.js';
import { Writer } from './writer.js';

/** Every BGP message, decoded. UPDATEs are encoded by update-encode.ts, which packs many routes. */
export type Message =
  | { readonly type: MessageType.Open; readonly open: Open }
  | { readonly type: MessageType.Update; readonly update: Update }
  | { readonly type: MessageType.Notification; readonly notification: Notify }
  | { readonly type: MessageType.Keepalive }
  | { readonly type: MessageType.RouteRefresh; readonly refresh: RouteRefresh };

export type OutMessage = Exclude<Message, { type: MessageType.Update }>;

/** Decodes a framed message. Never throws: any problem is a FatalError for the session to send. */
export function decodeMessage(frame: Frame, ctx: DecodeContext): Result<Message, FatalError> {
  switch (frame.type) {
    case MessageType.Open: {
      const r = decodeOpen(frame.body);
      return r.ok ? ok({ type: MessageType.Open, open: r.value }) : r;
    }
    case MessageType.Update: {
      const r = decodeUpdate(frame.body, ctx);
      return r.ok ? ok({ type: MessageType.Update, update: r.value }) : r;
    }
    case MessageType.Notification: {
      const r = decodeNotification(frame.body);
      return r.ok ? ok({ type: MessageType.Notification, notification: r.value }) : r;
    }
    case MessageType.Keepalive:
      return ok({ type: MessageType.Keepalive });
    case MessageType.RouteRefresh: {
      const r = decodeRouteRefresh(frame.body, frame.raw);
      return r.ok ? ok({ type: MessageType.RouteRefresh, refresh: r.value }) : r;
    }
    default:
      return err(headerError(HeaderSubcode.BadMessageType, `message type ${frame.type}`, Buffer.from([frame.type])));
  }
}

/** Header + body for every message but UPDATE. */
export function encodeMessage(m: OutMessage): Buffer {
  const w = new Writer(64);
  w.fill(0xff, 16);
  const lenAt = w.reserve(2);
  w.u8(m.type);
  switch (m.type) {
    case MessageType.Open:
      encodeOpen(w, m.open);
      break;
    case MessageType.Notification:
      encodeNotification(w, m.notification);
      break;
    case MessageType.Keepalive:
      break;
    case MessageType.RouteRefresh:
      encodeRouteRefresh(w, m.refresh);
      break;
    default:
      assertNever(m, 'message');
  }
  w.patchU16(lenAt, w.pos);
  return w.toBuffer();
}

export const KEEPALIVE: Buffer = encodeMessage({ type: MessageType.Keepalive });
