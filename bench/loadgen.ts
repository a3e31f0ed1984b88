/**
 * A minimal BGP speaker: OPEN, KEEPALIVE, then a pre-encoded UPDATE stream
 * as fast as the receiver takes it. Everything is encoded before connecting,
 * so the sender spends its time in write(2) and the receiver sets the pace.
 * The rr suite also uses it as a receiving client: it hands each UPDATE body
 * it frames to `onUpdate` and decodes nothing itself.
 */
import { type Socket, connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ipv4ToNumber } from '../src/core/ip.js';
import { buildOpen } from '../src/bgp/session/negotiate.js';
import { CapabilityCode, CeaseSubcode, ErrorCode, MessageType } from '../src/bgp/wire/constants.js';
import type { Notify } from '../src/bgp/wire/errors.js';
import { type FamilyKey, IPV4_UNICAST } from '../src/bgp/wire/family.js';
import { Framer } from '../src/bgp/wire/framer.js';
import { KEEPALIVE, encodeMessage } from '../src/bgp/wire/message.js';
import { decodeNotification, describeNotification } from '../src/bgp/wire/notification.js';
import { decodeOpen } from '../src/bgp/wire/open.js';
import type { WireStream } from './table.js';

export interface LoadGenOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress: string;
  readonly asn: number;
  readonly routerId: string;
  readonly holdTime: number;
  readonly connectTimeoutMs: number;
  /** Default: IPv4 unicast only. */
  readonly families?: readonly FamilyKey[];
  /**
   * Also advertise the graceful restart capability (as a helper, preserving
   * nothing). FRR and GoBGP send End-of-RIB only to peers that do, and the rr
   * suite waits for it to know a reflector has finished its initial
   * advertisement to a client.
   */
  readonly gracefulRestart?: boolean;
  /** Every UPDATE body received, with the time its chunk arrived (before any of the chunk was framed). */
  readonly onUpdate?: (body: Buffer, at: number) => void;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class LoadGen {
  /** Set once the session fails: a NOTIFICATION, a reset, or a protocol error. */
  failure?: Error;
  private readonly framer = new Framer();
  private keepalive?: NodeJS.Timeout;
  private onFail: ((e: Error) => void)[] = [];
  updatesReceived = 0;

  private constructor(private readonly socket: Socket) {}

  /** Connects and completes the OPEN exchange; resolves when both sides are Established. */
  static async connect(o: LoadGenOptions): Promise<LoadGen> {
    const routerId = ipv4ToNumber(o.routerId);
    if (routerId === undefined) throw new Error(`router id ${o.routerId} is not IPv4`);
    const socket = connect({ host: o.host, port: o.port, localAddress: o.localAddress });
    socket.setNoDelay(true);
    const g = new LoadGen(socket);
    const families = o.families ?? [IPV4_UNICAST];
    const open = buildOpen({ asn: o.asn, routerId, holdTime: o.holdTime, families, gracefulRestartTime: 0 });
    // Only what a table sender needs: its families and 4-octet ASNs (no extended messages, no route refresh).
    const caps = open.capabilities.filter(
      (c) =>
        c.code === CapabilityCode.Multiprotocol ||
        c.code === CapabilityCode.FourOctetAs ||
        (o.gracefulRestart === true && c.code === CapabilityCode.GracefulRestart),
    );
    const onUpdate = o.onUpdate;
    return new Promise<LoadGen>((resolve, reject) => {
      const noSession = (): void => fail(new Error(`no BGP session with ${o.host}:${o.port} after ${o.connectTimeoutMs} ms`));
      const timer = setTimeout(noSession, o.connectTimeoutMs);
      let theirHold = -1;
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        g.destroy();
        reject(e);
      };
      g.onFail.push(fail);
      socket.once('connect', () => socket.write(encodeMessage({ type: MessageType.Open, open: { ...open, capabilities: caps } })));
      socket.on('error', (e) => g.fail(new Error(`${o.host}:${o.port}: ${e.message}`)));
      socket.on('close', () => g.fail(new Error(`${o.host}:${o.port} closed the connection`)));
      socket.on('data', (chunk: Buffer) => {
        const at = onUpdate === undefined ? 0 : nowMs();
        g.framer.push(chunk);
        for (let f = g.framer.next(); f !== undefined; f = g.framer.next()) {
          if ('kind' in f) return g.fail(new Error(`bad message from ${o.host}: ${f.reason}`));
          switch (f.type) {
            case MessageType.Open: {
              const r = decodeOpen(f.body);
              if (!r.ok) return g.fail(new Error(`bad OPEN from ${o.host}: ${r.error.reason}`));
              if (!r.value.capabilities.some((c) => c.code === CapabilityCode.FourOctetAs)) {
                return g.fail(new Error(`${o.host} does not support 4-octet ASNs`));
              }
              theirHold = r.value.holdTime;
              socket.write(KEEPALIVE);
              break;
            }
            case MessageType.Keepalive:
              if (theirHold >= 0 && !settled) {
                settled = true;
                clearTimeout(timer);
                g.startKeepalives(Math.min(o.holdTime, theirHold));
                resolve(g);
              }
              break;
            case MessageType.Notification: {
              const n = decodeNotification(f.body);
              return g.fail(new Error(`NOTIFICATION from ${o.host}: ${n.ok ? describeNotification(n.value) : 'unreadable'}`));
            }
            case MessageType.Update:
              // For a sender, what the peer sends (its routes, End-of-RIB) is not what is measured.
              g.updatesReceived++;
              onUpdate?.(f.body, at);
              break;
          }
        }
      });
    });
  }

  private startKeepalives(hold: number): void {
    if (hold === 0) return;
    // Written between whole chunks, so it never lands inside an UPDATE.
    this.keepalive = setInterval(() => this.socket.write(KEEPALIVE), (hold * 1000) / 3);
    this.keepalive.unref();
  }

  private fail(e: Error): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const f of this.onFail) f(e);
  }

  /**
   * Writes the stream, waiting for 'drain' whenever the socket buffer is
   * full. `startedAt` is taken just before the first UPDATE byte is handed to
   * the socket; `done` resolves with the time the last byte (End-of-RIB)
   * reached the kernel.
   */
  send(stream: WireStream): { readonly startedAt: number; readonly done: Promise<number> } {
    const s = this.socket;
    let i = 0;
    const startedAt = nowMs();
    const done = new Promise<number>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const off = (): void => {
        s.off('drain', pump);
        this.onFail = this.onFail.filter((f) => f !== onFail);
      };
      const onFail = (e: Error): void => {
        off();
        reject(e);
      };
      this.onFail.push(onFail);
      function pump(): void {
        while (i < stream.chunks.length) {
          if (!s.write(stream.chunks[i++]!)) return;
        }
        s.off('drain', pump);
        // Writes complete in order, so this callback means the whole stream has left user space.
        s.write(stream.endOfRib, (e) => {
          off();
          if (e) reject(e);
          else resolve(nowMs());
        });
      }
      s.on('drain', pump);
      pump();
    });
    return { startedAt, done };
  }

  /** Writes one whole message; returns the time just before it was handed to the socket. */
  sendMessage(message: Buffer): number {
    if (this.failure) throw this.failure;
    const at = nowMs();
    this.socket.write(message);
    return at;
  }

  /** Cease / Administrative Shutdown, then close. */
  close(): void {
    clearInterval(this.keepalive);
    if (this.socket.destroyed) return;
    const n: Notify = { code: ErrorCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data: Buffer.alloc(0) };
    this.failure ??= new Error('closed by the bench');
    this.socket.end(encodeMessage({ type: MessageType.Notification, notification: n }));
    setTimeout(() => this.socket.destroy(), 500).unref();
  }

  destroy(): void {
    clearInterval(this.keepalive);
    this.socket.destroy();
  }
}
