/**
 * The options every API command shares (where vmmid is, how to authenticate,
 * output form, deadline) and the run-one-command shell around a handler:
 * connect, call, print, and turn whatever went wrong into an exit code.
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import type { Argv } from 'yargs';
import { type ClientOptions, type VmmiClient, connect } from '../../api/client.js';
import { EXIT, UsageError, reportError } from './errors.js';

export const DEFAULT_API = '127.0.0.1:50051';

const GLOBAL_GROUP = 'Connection and output:';

export function globalOptions<T>(y: Argv<T>) {
  return y
    .option('api', {
      type: 'string',
      default: process.env['VMMI_API'] || DEFAULT_API,
      defaultDescription: `$VMMI_API or ${DEFAULT_API}`,
      describe: 'vmmid API address HOST:PORT',
      requiresArg: true,
    })
    .option('ca', { type: 'string', describe: 'CA certificate (PEM) of the API server: turns TLS on', requiresArg: true })
    .option('cert', { type: 'string', describe: 'client certificate (PEM), for mTLS; needs --ca and --key', requiresArg: true })
    .option('key', { type: 'string', describe: 'client private key (PEM), for mTLS', requiresArg: true })
    .option('token', { type: 'string', describe: 'bearer token (api.tokens)', requiresArg: true, conflicts: 'token-file' })
    .option('token-file', { type: 'string', describe: 'file holding the bearer token', requiresArg: true })
    .option('server-name', { type: 'string', describe: 'name to check the server certificate against', requiresArg: true })
    .option('json', { type: 'boolean', default: false, describe: 'machine output: JSON of the API messages' })
    .option('timeout', { type: 'number', default: 10, describe: 'seconds each call may take (0: no limit)', requiresArg: true })
    .group(['api', 'ca', 'cert', 'key', 'token', 'token-file', 'server-name', 'json', 'timeout'], GLOBAL_GROUP);
}

/** The parsed global options, as every command handler receives them. */
export type Globals = ReturnType<typeof globalOptions<object>> extends Argv<infer G> ? G : never;

/** What a command handler works with. */
export interface Ctl {
  readonly client: VmmiClient;
  readonly json: boolean;
  readonly api: string;
  /** Per-call limit in milliseconds; 0: none. */
  readonly timeoutMs: number;
  /** Options for a unary call: the deadline. */
  unaryOptions(): grpc.CallOptions;
  /** Writes to stdout. */
  out(text: string): void;
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`--token-file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (text === '') throw new UsageError(`--token-file ${file} is empty`);
  return text;
}

function clientOptions(g: Globals): ClientOptions {
  const token = g['token-file'] !== undefined ? readToken(g['token-file']) : g.token;
  return {
    api: g.api,
    ...(g.ca !== undefined ? { ca: g.ca } : {}),
    ...(g.cert !== undefined ? { cert: g.cert } : {}),
    ...(g.key !== undefined ? { key: g.key } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(g['server-name'] !== undefined ? { serverName: g['server-name'] } : {}),
  };
}

function timeoutMs(g: Globals): number {
  if (!Number.isFinite(g.timeout) || g.timeout < 0) throw new UsageError(`--timeout: expected seconds >= 0, got ${String(g.timeout)}`);
  return Math.round(g.timeout * 1000);
}

/**
 * Runs one command against vmmid: connects with the global options, runs
 * `fn`, closes the channel, and sets the exit code (printing the error, if
 * any). Never throws, so yargs never prints its usage for a server error.
 */
export async function withApi(g: Globals, fn: (ctl: Ctl) => Promise<void>): Promise<void> {
  let client: VmmiClient | undefined;
  try {
    const ms = timeoutMs(g);
    client = connect(clientOptions(g));
    const ctl: Ctl = {
      client,
      json: g.json,
      api: g.api,
      timeoutMs: ms,
      unaryOptions: () => (ms > 0 ? { deadline: Date.now() + ms } : {}),
      out: (text) => void process.stdout.write(text),
    };
    await fn(ctl);
    process.exitCode = EXIT.ok;
  } catch (e) {
    process.exitCode = reportError(e, g.api);
  } finally {
    client?.close();
  }
}

/** An integer option within [min, max], or a usage error naming it. */
export function intOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name}: expected an integer ${min}..${max}, got ${String(value)}`);
  }
  return value;
}
