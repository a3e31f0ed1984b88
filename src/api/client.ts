/**
 * A typed client of vmmid's API, for vmmictl and tests: one channel, both
 * services, and credentials from files (mTLS), a bearer token, or none
 * (plain text to a loopback API).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ControlServiceClient } from '../../gen/proto/vmmi/v1/ControlService.js';
import type { MobilityServiceClient } from '../../gen/proto/vmmi/v1/MobilityService.js';
import { isLoopback } from '../core/ip.js';
import { loadVmmiProto } from './proto.js';

export interface ClientOptions {
  /** host:port */
  readonly api: string;
  /** CA that signed the server's certificate: turns TLS on. */
  readonly ca?: string;
  /** Client certificate and key files, for mTLS. */
  readonly cert?: string;
  readonly key?: string;
  /** Sent as `authorization: Bearer <token>`; needs TLS unless the API is on loopback. */
  readonly token?: string;
  /** The name to check the server certificate against, when it differs from the host in `api`. */
  readonly serverName?: string;
}

export interface VmmiClient {
  readonly mobility: MobilityServiceClient;
  readonly control: ControlServiceClient;
  close(): void;
}

function credentials(o: ClientOptions): grpc.ChannelCredentials {
  if (o.ca === undefined) {
    if (o.cert !== undefined || o.key !== undefined) throw new Error('--cert/--key need --ca (the CA of the server certificate)');
    return grpc.credentials.createInsecure();
  }
  if ((o.cert === undefined) !== (o.key === undefined)) throw new Error('--cert and --key go together');
  return grpc.credentials.createSsl(
    readFileSync(o.ca),
    o.key !== undefined ? readFileSync(o.key) : null,
    o.cert !== undefined ? readFileSync(o.cert) : null,
  );
}

/** Interceptor that adds the bearer token to every call (works over plain text too, unlike call credentials). */
function tokenInterceptor(token: string): grpc.Interceptor {
  return (options, next) =>
    new grpc.InterceptingCall(next(options), {
      start(metadata, listener, nextStart) {
        metadata.set('authorization', `Bearer ${token}`);
        nextStart(metadata, listener);
      },
    });
}

/** The host part of "host:port", "[v6]:port" or "v6" alone. */
function hostOf(api: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(api);
  if (v6) return v6[1]!;
  const i = api.lastIndexOf(':');
  return i > 0 && api.indexOf(':') === i ? api.slice(0, i) : api;
}

export function connect(o: ClientOptions): VmmiClient {
  // A bearer token in plain text is anyone's on the path: only to this host.
  if (o.token !== undefined && o.ca === undefined && !isLoopback(hostOf(o.api))) {
    throw new Error(`a token needs TLS (--ca) unless the API is on this host; ${o.api} is not a loopback address`);
  }
  const { proto } = loadVmmiProto();
  const options: grpc.ClientOptions = {};
  if (o.serverName !== undefined) options['grpc.ssl_target_name_override'] = o.serverName;
  if (o.token !== undefined) options.interceptors = [tokenInterceptor(o.token)];
  const creds = credentials(o);
  const mobility = new proto.vmmi.v1.MobilityService(o.api, creds, options);
  // The second client shares the first one's channel.
  const control = new proto.vmmi.v1.ControlService(o.api, creds, { ...options, channelOverride: mobility.getChannel() });
  return {
    mobility,
    control,
    close() {
      mobility.close();
      control.close();
    },
  };
}

/** Promise form of a unary call: `await unaryCall((cb) => client.announceVm(req, cb))`. */
export function unaryCall<T>(start: (cb: (e: grpc.ServiceError | null, v?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    start((e, v) => (e ? reject(e) : v === undefined ? reject(new Error('empty reply')) : resolve(v)));
  });
}

export function isServiceError(e: unknown): e is grpc.ServiceError {
  return e instanceof Error && typeof (e as Partial<grpc.ServiceError>).code === 'number';
}
