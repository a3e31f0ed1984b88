/**
 * Domain errors → gRPC status. Handlers throw `ApiError` with the status a
 * client can act on; anything else is a bug of ours and leaves as INTERNAL
 * with its message (and its stack in the log). grpc-js never sees a thrown
 * exception, so no call ends as UNKNOWN and no handler takes the daemon down.
 */
import * as grpc from '@grpc/grpc-js';
import type { Log } from '../core/log.js';

export class ApiError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const invalidArgument = (message: string): ApiError => new ApiError(grpc.status.INVALID_ARGUMENT, message);
export const notFound = (message: string): ApiError => new ApiError(grpc.status.NOT_FOUND, message);
export const failedPrecondition = (message: string): ApiError => new ApiError(grpc.status.FAILED_PRECONDITION, message);
export const permissionDenied = (message: string): ApiError => new ApiError(grpc.status.PERMISSION_DENIED, message);
export const unauthenticated = (message: string): ApiError => new ApiError(grpc.status.UNAUTHENTICATED, message);
export const alreadyExists = (message: string): ApiError => new ApiError(grpc.status.ALREADY_EXISTS, message);
export const resourceExhausted = (message: string): ApiError => new ApiError(grpc.status.RESOURCE_EXHAUSTED, message);
export const unavailable = (message: string): ApiError => new ApiError(grpc.status.UNAVAILABLE, message);

/** What grpc-js sends for an error: a status code and details. */
export interface StatusError {
  readonly code: grpc.status;
  readonly details: string;
}

/** The status an error leaves the server with; anything but an ApiError is logged with its stack. */
export function toStatus(e: unknown, log: Log, rpc: string): StatusError {
  if (e instanceof ApiError) return { code: e.code, details: e.message };
  const message = e instanceof Error ? e.message : String(e);
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  log.error(`${rpc}: internal error: ${stack}`, { rpc });
  return { code: grpc.status.INTERNAL, details: `internal error: ${message}` };
}

/** grpc-js wants an Error carrying `code` and `details` (a ServiceError without metadata is fine). */
export function serviceError(s: StatusError): Partial<grpc.StatusObject> & Error {
  return Object.assign(new Error(s.details), { code: s.code, details: s.details });
}

/**
 * A unary handler from an async function: its value is the reply, what it
 * throws becomes the status (see `toStatus`).
 */
export function unary<Req, Res>(
  log: Log,
  rpc: string,
  fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let result: Promise<Res>;
    try {
      result = fn(call);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (value) => callback(null, value),
      (e: unknown) => callback(serviceError(toStatus(e, log, rpc))),
    ).catch((e: unknown) => log.error(`${rpc}: reply failed: ${e instanceof Error ? e.message : String(e)}`, { rpc }));
  };
}

/**
 * A server-streaming handler from an async function that writes to the call
 * and ends it (itself, or through `streamFrom`). A rejection ends the call
 * with the error's status, after what was already written, unless the client
 * has gone.
 */
export function serverStream<Req, Res>(
  log: Log,
  rpc: string,
  fn: (call: grpc.ServerWritableStream<Req, Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    let result: Promise<void>;
    try {
      result = fn(call);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.catch((e: unknown) => endWithError(call, toStatus(e, log, rpc)));
  };
}

/**
 * Ends a stream with a status after what is already queued. grpc-js turns an
 * 'error' event of a server stream into its status and ends the call.
 */
export function endWithError<Req, Res>(call: grpc.ServerWritableStream<Req, Res>, s: StatusError): void {
  if (call.cancelled || call.writableEnded || call.destroyed) return;
  call.emit('error', serviceError(s));
}
