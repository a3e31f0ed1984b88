/**
 * Cheap route counters for FRR and GoBGP. Their CLIs cost a process start per
 * question (vtysh about 26 ms, gobgp about 8 ms here), which limits how often
 * they can be polled without taking CPU from the daemon under test. These
 * clients keep one connection open and ask in well under a millisecond, so
 * the daemons are polled as often as vmmid is.
 */
import { type ClientHttp2Session, connect as h2connect, constants as h2 } from 'node:http2';
import { type Socket, connect } from 'node:net';

/**
 * FRR's vtysh protocol on a daemon's vty socket: the command and a NUL go
 * in; the output comes back followed by three NULs and the command's return
 * code.
 */
export class VtyClient {
  /** Replies are a few KiB, so joining chunks as they come costs nothing. */
  private pending: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (s: string) => void; reject: (e: Error) => void };
  private closedWith?: Error;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('vty socket closed')));
  }

  static open(path: string): Promise<VtyClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new VtyClient(s));
      });
    });
  }

  private fail(e: Error): void {
    this.closedWith ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  private onData(d: Buffer): void {
    const b = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    const n = b.length;
    if (n < 4 || b[n - 4] !== 0 || b[n - 3] !== 0 || b[n - 2] !== 0) {
      this.pending = b;
      return;
    }
    this.pending = Buffer.alloc(0);
    const code = b[n - 1]!;
    const text = b.toString('utf8', 0, n - 4);
    const w = this.waiting;
    this.waiting = undefined;
    if (code === 0) w?.resolve(text);
    else w?.reject(new Error(`vty command failed (code ${code}): ${text.slice(0, 200)}`));
  }

  /** One command at a time, as vtysh does. */
  command(cmd: string): Promise<string> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.waiting) return Promise.reject(new Error('vty command already in flight'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`${cmd}\0`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function varint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let mul = 1;
  for (let i = at; i < buf.length; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new Error('truncated protobuf varint');
}

/**
 * GoBGP's gRPC API without a gRPC library: GetTable is one unary call, and
 * both its messages are a few protobuf fields. gobgpd serves plaintext HTTP/2.
 */
export class GobgpApiClient {
  private constructor(private readonly session: ClientHttp2Session) {}

  static open(address: string, port: number): Promise<GobgpApiClient> {
    return new Promise((resolve, reject) => {
      const s = h2connect(`http://${address}:${port}`);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        // An error later fails the call in flight; the session must not crash the bench.
        s.on('error', () => undefined);
        resolve(new GobgpApiClient(s));
      });
    });
  }

  /** Destinations in the global (Loc-)RIB of IPv4 unicast. */
  ipv4Destinations(): Promise<number> {
    // GetTableRequest { type: GLOBAL (0, the default, so absent), family (2): { afi (1): AFI_IP, safi (2): SAFI_UNICAST } }
    const msg = Buffer.from([0x12, 0x04, 0x08, 0x01, 0x10, 0x01]);
    const frame = Buffer.alloc(5 + msg.length);
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    return new Promise((resolve, reject) => {
      const req = this.session.request({
        [h2.HTTP2_HEADER_METHOD]: 'POST',
        [h2.HTTP2_HEADER_PATH]: '/apipb.GobgpApi/GetTable',
        [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [h2.HTTP2_HEADER_TE]: 'trailers',
      });
      const parts: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('trailers', (t) => {
        status = String(t['grpc-status'] ?? '');
        message = String(t['grpc-message'] ?? '');
      });
      req.on('response', (hdr) => {
        // A failing call may answer with headers only ("trailers-only").
        if (hdr['grpc-status'] !== undefined) {
          status = String(hdr['grpc-status']);
          message = String(hdr['grpc-message'] ?? '');
        }
      });
      req.on('error', reject);
      req.on('end', () => {
        if (status !== undefined && status !== '0') return reject(new Error(`GetTable: gRPC status ${status} ${message}`));
        const body = Buffer.concat(parts);
        if (body.length < 5) return reject(new Error('GetTable: empty reply'));
        const reply = body.subarray(5, 5 + body.readUInt32BE(1));
        // GetTableResponse { num_destination (1), num_path (2), num_accepted (3) }; zero fields are left out.
        let destinations = 0;
        for (let at = 0; at < reply.length; ) {
          const tag = varint(reply, at);
          if ((tag.value & 7) !== 0) return reject(new Error(`GetTable: unexpected wire type in field ${tag.value >> 3}`));
          const v = varint(reply, tag.next);
          if (tag.value >> 3 === 1) destinations = v.value;
          at = v.next;
        }
        resolve(destinations);
      });
      req.end(frame);
    });
  }

  close(): void {
    this.session.destroy();
  }
}
