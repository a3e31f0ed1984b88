import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Subject } from 'rxjs';
import { ApiError, invalidArgument, notFound, serverStream, unary } from '../../src/api/status.js';
import { streamFrom, writeAll } from '../../src/api/watch.js';
import { captureLog } from './support.js';

type Reply = { err: (Partial<grpc.StatusObject> & Error) | null; value: unknown };

function runUnary(handler: grpc.handleUnaryCall<unknown, unknown>): Promise<Reply> {
  return new Promise((resolve) => {
    const call = {} as grpc.ServerUnaryCall<unknown, unknown>;
    handler(call, (err, value) => resolve({ err: err as Reply['err'], value }));
  });
}

/**
 * A stand-in for a grpc-js server stream: an object-mode Writable whose
 * writes complete only when the test says so (`release`), like a client that
 * reads slowly; `ended` resolves with the status grpc-js would send.
 */
class FakeStream extends Writable {
  cancelled = false;
  readonly written: unknown[] = [];
  private pending: (() => void)[] = [];
  status?: { code: grpc.status; details: string };
  readonly ended: Promise<{ code: grpc.status; details: string }>;

  constructor(highWaterMark: number, autoRelease = false) {
    super({ objectMode: true, highWaterMark });
    let done: (s: { code: grpc.status; details: string }) => void = () => {};
    this.ended = new Promise((r) => (done = r));
    // What grpc-js does with an 'error' event of a server stream: it becomes the status.
    this.on('error', (e: Error & { code?: number; details?: string }) => {
      this.status = { code: e.code ?? grpc.status.UNKNOWN, details: e.details ?? e.message };
      done(this.status);
    });
    this.on('finish', () => done(this.status ?? { code: grpc.status.OK, details: 'OK' }));
    this.autoRelease = autoRelease;
  }

  private autoRelease: boolean;

  override _write(chunk: unknown, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(chunk);
    if (this.autoRelease) setImmediate(cb);
    else this.pending.push(cb);
  }

  /** Lets the client "read" everything written so far. */
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const cb of p) cb();
  }

  getPeer(): string {
    return 'fake-peer';
  }

  getPath(): string {
    return '/test/Watch';
  }

  asCall<T>(): grpc.ServerWritableStream<unknown, T> {
    return this as unknown as grpc.ServerWritableStream<unknown, T>;
  }
}

describe('status mapping', () => {
  test('unary: the value is the reply; an ApiError keeps its status and message', async () => {
    const log = captureLog();
    assert.deepEqual(await runUnary(unary(log, 'Ok', async () => ({ fine: true }))), { err: null, value: { fine: true } });
    const r = await runUnary(unary(log, 'Missing', async () => { throw notFound('neighbor 10.0.0.1 is not configured'); }));
    assert.equal(r.err?.code, grpc.status.NOT_FOUND);
    assert.equal(r.err?.details, 'neighbor 10.0.0.1 is not configured');
    assert.equal(log.lines.length, 0, 'expected errors are not logged as errors');
  });

  test('unary: any other error, thrown or rejected, is INTERNAL with its message, logged with its stack', async () => {
    const log = captureLog();
    const r = await runUnary(unary(log, 'Boom', async () => { throw new TypeError('boom'); }));
    assert.equal(r.err?.code, grpc.status.INTERNAL);
    assert.equal(r.err?.details, 'internal error: boom');
    assert.equal(log.lines[0]?.level, 'error');
    assert.match(log.lines[0]!.msg, /^Boom: internal error: TypeError: boom\n\s+at /);
    const sync = await runUnary(unary(log, 'Sync', () => { throw new Error('sync'); }));
    assert.equal(sync.err?.code, grpc.status.INTERNAL);
    assert.equal(sync.err?.details, 'internal error: sync');
    const odd = await runUnary(unary(log, 'Odd', async () => Promise.reject('a string')));
    assert.equal(odd.err?.details, 'internal error: a string');
  });

  test('serverStream: a rejection ends the call with the status', async () => {
    const s = new FakeStream(16, true);
    serverStream(captureLog(), 'Bad', async () => { throw invalidArgument('filter.mac: nope'); })(s.asCall());
    assert.deepEqual(await s.ended, { code: grpc.status.INVALID_ARGUMENT, details: 'filter.mac: nope' });
    const t = new FakeStream(16, true);
    serverStream(captureLog(), 'Bug', async () => { throw new RangeError('bug'); })(t.asCall());
    assert.deepEqual(await t.ended, { code: grpc.status.INTERNAL, details: 'internal error: bug' });
    assert.ok(new ApiError(grpc.status.ALREADY_EXISTS, 'x') instanceof Error);
  });
});

describe('streamFrom and writeAll', () => {
  test('events stay in order through a full stream and the call ends when the source completes', async () => {
    const s = new FakeStream(2);
    const src = new Subject<number>();
    streamFrom(src, s.asCall<number>(), 100, captureLog(), { initial: [-3, -2, -1] });
    for (let i = 0; i < 20; i++) src.next(i);
    src.complete();
    for (let n = 0; n < 50 && s.written.length < 23; n++) {
      s.release();
      await new Promise((r) => setImmediate(r));
    }
    s.release();
    assert.deepEqual(await s.ended, { code: grpc.status.OK, details: 'OK' });
    assert.deepEqual(s.written, [-3, -2, -1, ...Array.from({ length: 20 }, (_, i) => i)]);
    assert.equal(src.observed, false);
  });

  test('more than `bound` waiting events: unsubscribed and RESOURCE_EXHAUSTED', async () => {
    const log = captureLog();
    const s = new FakeStream(2);
    const src = new Subject<number>();
    streamFrom(src, s.asCall<number>(), 5, log);
    for (let i = 0; i < 10; i++) src.next(i);
    assert.equal(src.observed, false, 'the source is dropped at once');
    s.release();
    const st = await s.ended;
    assert.deepEqual(st, { code: grpc.status.RESOURCE_EXHAUSTED, details: 'consumer too slow: more than 5 events waiting' });
    assert.match(log.lines[0]!.msg, /fake-peer too slow/);
  });

  test('a cancelled call unsubscribes; a source error becomes the status', async () => {
    const s = new FakeStream(16, true);
    const src = new Subject<number>();
    streamFrom(src, s.asCall<number>(), 5, captureLog());
    assert.equal(src.observed, true);
    s.cancelled = true;
    s.emit('cancelled');
    assert.equal(src.observed, false);

    const t = new FakeStream(16, true);
    const failing = new Subject<number>();
    streamFrom(failing, t.asCall<number>(), 5, captureLog());
    failing.error(new Error('rib gone'));
    assert.deepEqual(await t.ended, { code: grpc.status.INTERNAL, details: 'internal error: rib gone' });
  });

  test('writeAll waits for drain and stops when the call goes away', async () => {
    const s = new FakeStream(2);
    const done = writeAll(s.asCall<number>(), [1, 2, 3, 4, 5]);
    for (let n = 0; n < 10; n++) {
      s.release();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await done, true);
    assert.deepEqual(s.written, [1, 2, 3, 4, 5]);
    const t = new FakeStream(1);
    const stopped = writeAll(t.asCall<number>(), [1, 2, 3, 4, 5]);
    t.emit('cancelled');
    assert.equal(await stopped, false);
  });
});
