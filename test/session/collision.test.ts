/**
 * RFC 4271 §6.8 against a peer whose inbound connection never speaks: our
 * outgoing connection gets the peer's OPEN (higher BGP Identifier) while a
 * connection from the peer is held. That held connection has sent no OPEN
 * (the peer already gave it up), so the session must go on over ours rather
 * than switch to a dead socket.
 */
import { test } from 'node:test';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { once } from 'node:events';
import { buildOpen } from '../../src/bgp/session/negotiate.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { KEEPALIVE, encodeMessage } from '../../src/bgp/wire/message.js';
import { MessageType } from '../../src/bgp/wire/constants.js';
import { eventually, startSpeaker } from '../support/speakers.js';

const US = '127.0.5.31';
const PEER = '127.0.5.32';
const PORT = 1179;

test('a held inbound connection that has sent no OPEN does not win the collision over a working one', async (t) => {
  const sockets: Socket[] = [];
  // The peer: accepts our connection and answers with OPEN (BGP Identifier above ours) and KEEPALIVE.
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    // It first opens a connection to us that it will never use (as a peer that just lost a collision of its own).
    const silent = connect({ host: US, port: PORT, localAddress: PEER });
    silent.on('error', () => undefined);
    sockets.push(silent);
    silent.once('connect', () => {
      setTimeout(() => {
        const open = buildOpen({ asn: 65000, routerId: 0x7f000520, holdTime: 9, families: [IPV4_UNICAST], gracefulRestartTime: 0 });
        s.write(encodeMessage({ type: MessageType.Open, open }));
        s.write(KEEPALIVE);
      }, 100);
    });
  });
  server.listen(PORT, PEER);
  await once(server, 'listening');
  const speaker = await startSpeaker(`
router-id: ${US}
asn: 65000
listen: { address: ${US}, port: ${PORT} }
neighbors:
  - { address: ${PEER}, remote-as: 65000, port: ${PORT}, local-address: ${US}, hold-time: 9, connect-retry: 1, families: [ipv4-unicast] }
`);
  t.after(async () => {
    await speaker.stop();
    for (const s of sockets) s.destroy();
    server.close();
  });
  const peer = speaker.peers.get(PEER)!;
  await eventually('Established over our own connection', () => peer.state === 'Established', 5_000);
});
