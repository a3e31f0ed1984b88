/**
 * Server streams that respect the client's pace. A watch forwards an
 * Observable in order, keeping at most `bound` events while the client's
 * HTTP/2 window is full; one more and the client is told it is too slow
 * (RESOURCE_EXHAUSTED) instead of the daemon buffering without limit. A
 * listing writes an iterable as fast as the client reads it.
 */
import * as grpc from '@grpc/grpc-js';
import type { Observable, Subscription } from 'rxjs';
import type { Log } from '../core/log.js';
import { endWithError, toStatus } from './status.js';

export interface StreamOptions<T> {
  /**
   * Written first, as fast as the client reads (not counted against the
   * bound): a snapshot the live events then update. The source is
   * subscribed before it is read, so no event falls between the two; events
   * that arrive meanwhile wait (and count against the bound).
   */
  readonly initial?: Iterable<T>;
}

/**
 * Writes every item of `source` to the call, in order, and ends the call when
 * the source completes (or with the source's error as status). While
 * `call.write` says the stream is full, items wait here; past `bound` waiting
 * items the subscription is dropped and the call ends with RESOURCE_EXHAUSTED.
 * A cancelled, closed or failed call unsubscribes.
 */
export function streamFrom<Req, T>(
  source: Observable<T>,
  call: grpc.ServerWritableStream<Req, T>,
  bound: number,
  log: Log,
  options: StreamOptions<T> = {},
): void {
  let queue: T[] = [];
  let head = 0;
  let blocked = false;
  let completed = false;
  let done = false;
  let sub: Subscription | undefined;
  let snapshot: Iterator<T> | undefined;

  const finish = (): void => {
    if (done) return;
    done = true;
    sub?.unsubscribe();
    queue = [];
    head = 0;
    snapshot = undefined;
    call.off('drain', onDrain);
    call.off('cancelled', finish);
    call.off('close', finish);
    call.off('error', finish);
  };

  const fail = (e: unknown): void => {
    if (done) return;
    finish();
    endWithError(call, toStatus(e, log, call.getPath()));
  };

  const waiting = (): number => queue.length - head;

  /** Writes the snapshot, then what waits, until the stream is full; ends the call once all is out. */
  const pump = (): void => {
    try {
      while (!blocked && !done) {
        if (snapshot) {
          const r = snapshot.next();
          if (r.done) snapshot = undefined;
          else if (!call.write(r.value)) blocked = true;
          continue;
        }
        if (head >= queue.length) break;
        const item = queue[head]!;
        head++;
        if (!call.write(item)) blocked = true;
      }
    } catch (e) {
      fail(e);
      return;
    }
    if (done) return;
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (completed && !snapshot && waiting() === 0 && !blocked) {
      finish();
      call.end();
    }
  };

  function onDrain(): void {
    if (done) return;
    blocked = false;
    pump();
  }

  const push = (item: T): void => {
    if (done) return;
    if (!blocked && !snapshot && waiting() === 0) {
      if (!call.write(item)) blocked = true;
      return;
    }
    queue.push(item);
    if (waiting() > bound) {
      finish();
      log.warn(`watch consumer ${call.getPeer()} too slow: more than ${bound} events waiting; stream ended`);
      endWithError(call, { code: grpc.status.RESOURCE_EXHAUSTED, details: `consumer too slow: more than ${bound} events waiting` });
    }
  };

  if (call.cancelled || call.destroyed) return;
  call.on('drain', onDrain);
  call.once('cancelled', finish);
  call.once('close', finish);
  call.once('error', finish);
  try {
    snapshot = options.initial?.[Symbol.iterator]();
  } catch (e) {
    fail(e);
    return;
  }
  sub = source.subscribe({
    next: push,
    error: fail,
    complete: () => {
      if (done) return;
      completed = true;
      pump();
    },
  });
  // The source may have failed, completed or overflowed while subscribing.
  if (done) {
    sub.unsubscribe();
    return;
  }
  pump();
}

/**
 * Writes the items as the client takes them (waiting for 'drain' when the
 * stream is full). Resolves true when all were written, false when the call
 * was cancelled or closed first; it does not end the call.
 */
export async function writeAll<Req, T>(call: grpc.ServerWritableStream<Req, T>, items: Iterable<T>): Promise<boolean> {
  for (const item of items) {
    if (call.cancelled || call.destroyed || call.writableEnded) return false;
    if (!call.write(item) && !(await drained(call))) return false;
  }
  return !(call.cancelled || call.destroyed);
}

/** Resolves true on 'drain', false if the call goes away first. */
function drained<Req, T>(call: grpc.ServerWritableStream<Req, T>): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (ok: boolean): void => {
      call.off('drain', onDrain);
      call.off('cancelled', onGone);
      call.off('close', onGone);
      call.off('error', onGone);
      resolve(ok);
    };
    const onDrain = (): void => settle(true);
    const onGone = (): void => settle(false);
    call.once('drain', onDrain);
    call.once('cancelled', onGone);
    call.once('close', onGone);
    call.once('error', onGone);
  });
}
