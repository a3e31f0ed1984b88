import { type Server, type Socket, createServer } from 'node:net';
import type { Log } from '../../core/log.js';

/** Where the BGP listener ended up (port 0 in config asks the OS for one). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Accepts BGP connections and hands each to the peer configured for its
 * source address; connections from anyone else are closed at once, as FRR
 * and GoBGP do.
 */
export class Listener {
  private server?: Server;

  constructor(
    private readonly route: (remoteAddress: string, socket: Socket) => boolean,
    private readonly log: Log,
  ) {}

  listen(address: string, port: number): Promise<Endpoint> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log.error(`BGP listener error: ${e.message}`));
        const a = server.address();
        resolve(typeof a === 'object' && a ? { address: a.address, port: a.port } : { address, port });
      });
    });
  }

  private onConnection(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!this.route(remote, socket)) {
      if (!socket.destroyed && socket.listenerCount('data') === 0) {
        this.log.info(`connection from unconfigured address ${remote} closed`);
        socket.destroy();
      }
    }
  }

  close(): Promise<void> {
    const s = this.server;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
