/** Helpers for API tests: configs, a logger that remembers, and promise forms of gRPC calls. */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { ApiConfig } from '../../src/config/types.js';
import type { Log, LogFields } from '../../src/core/log.js';

export function apiConfig(over: Partial<ApiConfig> = {}): ApiConfig {
  return {
    enabled: true,
    address: '127.0.0.1',
    port: 0,
    agents: [],
    operators: [],
    tokens: [],
    allowAnonymous: true,
    watchBuffer: 1000,
    ...over,
  };
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: LogFields;
}

/** A Log that keeps every line (children add their fields). */
export function captureLog(lines: LogLine[] = [], base: LogFields = {}): Log & { readonly lines: LogLine[] } {
  const at = (level: string) => (msg: string, fields?: LogFields) => lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (fields) => captureLog(lines, { ...base, ...fields }),
  };
}

/** `await unary((cb) => client.getPeer(req, cb))`. */
export function unary<T>(start: (cb: (e: grpc.ServiceError | null, v?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    start((e, v) => (e ? reject(e) : v === undefined ? reject(new Error('empty reply')) : resolve(v)));
  });
}

export function isServiceError(e: unknown): e is grpc.ServiceError {
  return e instanceof Error && 'code' in e && typeof e.code === 'number';
}

/** Fails unless `p` rejects with `code`; the message must match `details` when given. Returns the error. */
export async function rejectsWith(p: Promise<unknown>, code: grpc.status, details?: RegExp | string): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isServiceError(e), `expected a gRPC error, got ${String(e)}`);
    assert.equal(grpc.status[e.code], grpc.status[code], `status (details: ${e.details})`);
    if (typeof details === 'string') assert.equal(e.details, details);
    else if (details) assert.match(e.details, details);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, but the call succeeded`);
}

/** Every message of a server stream, or the stream's error. */
export function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    stream.on('data', (m: T) => out.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

/** Resolves with the first `n` messages of a stream (which goes on). */
export function take<T>(stream: grpc.ClientReadableStream<T>, n: number, timeoutMs = 10_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${out.length} of ${n} messages within ${timeoutMs} ms`)), timeoutMs);
    const onData = (m: T): void => {
      out.push(m);
      if (out.length < n) return;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      resolve(out);
    };
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    stream.on('data', onData);
    stream.on('error', onError);
  });
}

/** The status a stream ends with (OK when it ended without an error). */
export function streamStatus(stream: grpc.ClientReadableStream<unknown>): Promise<grpc.StatusObject> {
  return new Promise((resolve) => stream.on('status', (s: grpc.StatusObject) => resolve(s)));
}
