/**
 * The gRPC server of vmmid: MobilityService (agents), ControlService
 * (operators), grpc.health.v1 and server reflection, on one port. Plain text
 * only on loopback; with `api.tls` a server certificate and, with
 * `client-ca`, required client certificates (mTLS).
 *
 * Closing ends every open stream with UNAVAILABLE at once (so a watcher
 * knows to reconnect elsewhere and shutdown does not wait for it), lets unary
 * calls finish for a moment, then drops what is left.
 */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { isLoopback } from '../core/ip.js';
import type { Log } from '../core/log.js';
import type { Endpoint } from '../bgp/session/listener.js';
import type { ApiConfig } from '../config/types.js';
import type { ControlServiceHandlers } from '../../gen/proto/vmmi/v1/ControlService.js';
import type { MobilityServiceHandlers } from '../../gen/proto/vmmi/v1/MobilityService.js';
import { CONTROL_SERVICE, LOADER_OPTIONS, MOBILITY_SERVICE, loadVmmiProto } from './proto.js';

export interface ApiHandlers {
  readonly control: ControlServiceHandlers;
  readonly mobility?: MobilityServiceHandlers;
}

export interface ApiServer {
  /** Where it listens (the real port when `api.port` was 0). */
  readonly endpoint: Endpoint;
  readonly health: HealthImplementation;
  close(): Promise<void>;
}

const HEALTH_SERVICE = 'grpc.health.v1.Health';
/** How long close() lets calls in progress finish before the connections are dropped. */
const SHUTDOWN_GRACE_MS = 1_000;

async function credentials(api: ApiConfig): Promise<grpc.ServerCredentials> {
  const tls = api.tls;
  if (!tls) {
    // The config loader refuses this too; a second check costs nothing and guards other callers.
    if (!isLoopback(api.address)) {
      throw new Error(`api: plain text is allowed only on a loopback address, not ${api.address}; configure api.tls`);
    }
    return grpc.ServerCredentials.createInsecure();
  }
  const [cert, key, ca] = await Promise.all([
    readFile(tls.cert),
    readFile(tls.key),
    tls.clientCa !== undefined ? readFile(tls.clientCa) : Promise.resolve(null),
  ]);
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}

type Listener = Parameters<grpc.ServerInterceptingCall['start']>[0];
type Status = Parameters<grpc.ServerInterceptingCall['sendStatus']>[0];

/** A server-streaming call the server can end itself when it closes. */
class TrackedStream extends grpc.ServerInterceptingCall {
  private listener?: Listener;

  constructor(
    next: grpc.ServerInterceptingCallInterface,
    private readonly done: (c: TrackedStream) => void,
  ) {
    super(next);
  }

  override start(listener: Listener): void {
    this.listener = listener;
    super.start({
      onReceiveMetadata: (m) => listener.onReceiveMetadata(m),
      onReceiveMessage: (m) => listener.onReceiveMessage(m),
      onReceiveHalfClose: () => listener.onReceiveHalfClose(),
      onCancel: () => {
        this.done(this);
        listener.onCancel();
      },
    });
  }

  override sendStatus(status: Status): void {
    this.done(this);
    super.sendStatus(status);
  }

  /** The handler sees a cancellation (and stops writing); the client gets `details` as UNAVAILABLE. */
  end(details: string): void {
    this.listener?.onCancel();
    this.sendStatus({ code: grpc.status.UNAVAILABLE, details, metadata: null });
  }
}

function bindAsync(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (e, port) => (e ? reject(e) : resolve(port)));
  });
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export async function startApiServer(api: ApiConfig, handlers: ApiHandlers, log: Log): Promise<ApiServer> {
  const creds = await credentials(api);
  const streams = new Set<TrackedStream>();
  const trackStreams: grpc.ServerInterceptor = (method, call) => {
    if (!method.responseStream) return new grpc.ServerInterceptingCall(call);
    const tracked = new TrackedStream(call, (c) => streams.delete(c));
    streams.add(tracked);
    return tracked;
  };
  const server = new grpc.Server({ interceptors: [trackStreams] });
  const { proto, definition } = loadVmmiProto();
  const services: string[] = [CONTROL_SERVICE, HEALTH_SERVICE];
  if (handlers.mobility) {
    server.addService(proto.vmmi.v1.MobilityService.service, handlers.mobility);
    services.push(MOBILITY_SERVICE);
  }
  server.addService(proto.vmmi.v1.ControlService.service, handlers.control);
  const health = new HealthImplementation(Object.fromEntries(['', ...services].map((s) => [s, 'SERVING' as const])));
  health.addToServer(server);
  const healthDefinition = protoLoader.loadSync(healthProtoPath, LOADER_OPTIONS);
  new ReflectionService({ ...definition, ...healthDefinition }, { services }).addToServer(server);

  let port: number;
  try {
    port = await bindAsync(server, hostPort(api.address, api.port), creds);
  } catch (e) {
    server.forceShutdown();
    throw new Error(`api: cannot listen on ${hostPort(api.address, api.port)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const endpoint: Endpoint = { address: api.address, port };
  log.info(`API listening on ${hostPort(api.address, port)} (${api.tls ? (api.tls.clientCa ? 'mTLS' : 'TLS') : 'plain text'})`, {
    event: 'api-listen',
    address: api.address,
    port,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      for (const s of ['', ...services]) health.setStatus(s, 'NOT_SERVING');
      for (const s of [...streams]) s.end('vmmid API is shutting down');
      const force = setTimeout(() => {
        log.info('API: calls still open after the grace period are dropped');
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));

  return { endpoint, health, close };
}
