import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { after, test } from 'node:test';
import { buildOpen } from '../../src/bgp/session/negotiate.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { Framer } from '../../src/bgp/wire/framer.js';
import { KEEPALIVE, encodeMessage } from '../../src/bgp/wire/message.js';
import { MessageType } from '../../src/bgp/wire/constants.js';
import type { Speaker } from '../../src/speaker.js';
import { eventually, startSpeaker } from '../support/speakers.js';

// A vmmi reflector with a fast vmmi client and a raw client that stops reading.
const RR = '127.0.3.30';
const FAST = '127.0.3.31';
const SLOW = '127.0.3.32';
const running: Speaker[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(running.map((s) => s.stop()));
});

/** A client that takes the initial table (up to End-of-RIB), then never reads again but keeps its session alive. */
function slowClient(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ host: RR, port: 1179, localAddress: SLOW });
    sockets.push(s);
    const framer = new Framer();
    framer.maxLength = 65535;
    s.on('connect', () => {
      s.write(encodeMessage({ type: MessageType.Open, open: buildOpen({ asn: 65000, routerId: 0x7f00031f + 1, holdTime: 90, families: [IPV4_UNICAST], gracefulRestartTime: 0 }) }));
      setInterval(() => s.write(KEEPALIVE), 1000).unref();
    });
    s.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f !== undefined && !('kind' in f); f = framer.next()) {
        if (f.type === MessageType.Open) s.write(KEEPALIVE);
        // The End-of-RIB for IPv4 is the empty UPDATE: caught up, now stop reading.
        if (f.type === MessageType.Update && f.body.length === 4) {
          s.pause();
          resolve(s);
        }
      }
    });
  });
}

test('a member that stops reading is split off its group; the others get every route meanwhile', async () => {
  const rr = await startSpeaker(`
router-id: ${RR}
asn: 65000
listen: { address: ${RR}, port: 1179 }
neighbors:
  - { address: ${FAST}, remote-as: 65000, port: 1179, passive: true, route-reflector-client: true }
  - { address: ${SLOW}, remote-as: 65000, port: 1179, passive: true, route-reflector-client: true }
`);
  running.push(rr);
  rr.groups.stuckMs = 300;
  const fast = await startSpeaker(`
router-id: ${FAST}
asn: 65000
listen: false
neighbors:
  - { address: ${RR}, remote-as: 65000, port: 1179, local-address: ${FAST}, connect-retry: 1 }
`);
  running.push(fast);
  await slowClient();
  await eventually('both clients on the shared Outbound', () => rr.groups.sharedMembers() === 2);
  // Far more than the slow client's socket buffers hold: one UPDATE of ~450 bytes per route (its own communities).
  const filler = Array.from({ length: 100 }, (_, k) => 65000 * 65536 + k);
  for (let i = 0; i < 60_000; i++) {
    rr.originate({
      family: 'ipv4-unicast', prefix: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, prefixAddress: '', prefixLength: 32,
      nextHop: '10.0.0.1', communities: [...filler, i], origin: 'igp', asPath: [],
    });
  }
  await eventually('the fast client has every route while the slow one reads nothing', () => fast.rib.count(IPV4_UNICAST) === 60_000, 20_000);
  assert.equal(rr.groups.sharedMembers(), 1, 'the slow client was split off; the fast one stays shared');
  assert.equal(rr.peers.get(SLOW)?.state, 'Established', 'the slow client keeps its session');
});
