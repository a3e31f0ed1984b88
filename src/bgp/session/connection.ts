import type { Socket } from 'node:net';
import { Framer } from '../wire/framer.js';

/** One TCP connection of a peer and the framing state of its input. */
export class Connection {
  readonly framer = new Framer();
  closed = false;

  constructor(
    readonly socket: Socket,
    /** Accepted from the peer (true) or initiated by us (false): collision resolution needs it (RFC 4271 §6.8). */
    readonly inbound: boolean,
  ) {
    socket.setNoDelay(true);
  }

  /** Sends what is queued (a NOTIFICATION, say), then closes; forces it if the peer does not read. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    const force = setTimeout(() => this.socket.destroy(), 1000);
    force.unref();
    this.socket.once('close', () => clearTimeout(force));
  }
}
