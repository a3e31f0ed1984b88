/**
 * How vmmictl fails, for scripts: an exit code per kind of failure and one
 * line on stderr, `vmmictl: <STATUS_NAME>: <details>`.
 *
 *   0 ok                              5 ALREADY_EXISTS
 *   1 usage (bad options, files)      6 PERMISSION_DENIED, UNAUTHENTICATED
 *   2 any other server error          7 FAILED_PRECONDITION
 *   3 INVALID_ARGUMENT                8 UNAVAILABLE (vmmid cannot be reached)
 *   4 NOT_FOUND
 *
 * A reply that is a refusal (PrepareMigration's `reasons`) exits like the
 * status it stands for, with its own lines: `vmmictl: migration refused: …`.
 */
import * as grpc from '@grpc/grpc-js';
import { isServiceError } from '../../api/client.js';

export const EXIT = {
  ok: 0,
  usage: 1,
  server: 2,
  invalidArgument: 3,
  notFound: 4,
  alreadyExists: 5,
  denied: 6,
  failedPrecondition: 7,
  unavailable: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for a call that ended with `code`. */
export function exitCodeOf(code: grpc.status): ExitCode {
  switch (code) {
    case grpc.status.OK:
      return EXIT.ok;
    case grpc.status.INVALID_ARGUMENT:
      return EXIT.invalidArgument;
    case grpc.status.NOT_FOUND:
      return EXIT.notFound;
    case grpc.status.ALREADY_EXISTS:
      return EXIT.alreadyExists;
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.UNAUTHENTICATED:
      return EXIT.denied;
    case grpc.status.FAILED_PRECONDITION:
      return EXIT.failedPrecondition;
    case grpc.status.UNAVAILABLE:
      return EXIT.unavailable;
    default:
      return EXIT.server;
  }
}

/** "NOT_FOUND" for 5; the number itself for a code grpc-js does not name. */
export function statusName(code: grpc.status): string {
  const name: unknown = grpc.status[code];
  return typeof name === 'string' ? name : `STATUS_${code}`;
}

/** A mistake in how vmmictl was called, found before (or instead of) asking vmmid: exit 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An error status vmmictl decided on itself (e.g. a listing that stalled past --timeout). */
export class ClientStatusError extends Error {
  override readonly name = 'ClientStatusError';
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

/**
 * vmmid answered OK, but what it answered means the command did not do what
 * was asked (a migration refused with reasons): each line goes to stderr as
 * `vmmictl: <line>`, and vmmictl exits with `exitCode`.
 */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    readonly exitCode: ExitCode,
    readonly lines: readonly string[],
  ) {
    super(lines.join('; '));
  }
}

/**
 * Prints what went wrong and returns the exit code. `api` is named when vmmid
 * could not be reached, since that is usually a wrong --api or a daemon
 * without an `api:` section.
 */
export function reportError(e: unknown, api: string, stderr: NodeJS.WritableStream = process.stderr): ExitCode {
  if (isServiceError(e) || e instanceof ClientStatusError) {
    const where = e.code === grpc.status.UNAVAILABLE ? ` (vmmid API at ${api})` : '';
    // grpc-js ends connection failures with an empty "Resolution note:".
    const details = e.details.replace(/\s*Resolution note:\s*$/, '');
    stderr.write(`vmmictl: ${statusName(e.code)}: ${details}${where}\n`);
    return exitCodeOf(e.code);
  }
  if (e instanceof CommandFailed) {
    for (const line of e.lines) stderr.write(`vmmictl: ${line}\n`);
    return e.exitCode;
  }
  if (e instanceof UsageError) {
    stderr.write(`vmmictl: ${e.message}\n`);
    return EXIT.usage;
  }
  // Client-side setup: unreadable --ca/--cert/--key/--token-file, inconsistent TLS options.
  const message = e instanceof Error ? e.message : String(e);
  stderr.write(`vmmictl: ${message}\n`);
  return EXIT.usage;
}
