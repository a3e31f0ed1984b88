import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { after, test } from 'node:test';
import { buildOpen } from '../../src/bgp/session/negotiate.js';
import { MessageType, RouteRefreshSubtype } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST, type FamilyKey, familyAfi, familySafi, familyName } from '../../src/bgp/wire/family.js';
import { Framer } from '../../src/bgp/wire/framer.js';
import { KEEPALIVE, type Message, decodeMessage, encodeMessage } from '../../src/bgp/wire/message.js';
import type { Speaker } from '../../src/speaker.js';
import { eventually, startSpeaker } from '../support/speakers.js';

// A vmmi reflector, a vmmi client that originates IPv4 and IPv6 routes, and a raw client that asks for one family again.
const RR = '127.0.3.40';
const ORIGIN = '127.0.3.41';
const RAW = '127.0.3.42';
const running: Speaker[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(running.map((s) => s.stop()));
});

/** What the raw client read, in order: per UPDATE the families of the routes it carried, and route-refresh markers. */
type Seen = { readonly kind: 'routes'; readonly family: string } | { readonly kind: 'eor'; readonly family: string } | { readonly kind: 'refresh'; readonly subtype: number };

function rawClient(): { socket: Socket; seen: Seen[] } {
  const seen: Seen[] = [];
  const s = connect({ host: RR, port: 1179, localAddress: RAW });
  sockets.push(s);
  const framer = new Framer();
  framer.maxLength = 65535;
  s.on('connect', () => {
    const open = buildOpen({ asn: 65000, routerId: 0x7f00032a, holdTime: 90, families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestartTime: 0 });
    s.write(encodeMessage({ type: MessageType.Open, open }));
    setInterval(() => s.write(KEEPALIVE), 1000).unref();
  });
  s.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    for (let f = framer.next(); f !== undefined && !('kind' in f); f = framer.next()) {
      const m = decodeMessage(f, { fourOctetAs: true });
      assert.ok(m.ok, 'every message from the reflector decodes');
      if (m.value.type === MessageType.Open) s.write(KEEPALIVE);
      record(m.value, seen);
    }
  });
  return { socket: s, seen };
}

function record(m: Message, seen: Seen[]): void {
  if (m.type === MessageType.RouteRefresh) seen.push({ kind: 'refresh', subtype: m.refresh.subtype });
  if (m.type !== MessageType.Update) return;
  const u = m.update;
  if (u.endOfRib !== undefined) seen.push({ kind: 'eor', family: familyName(u.endOfRib) });
  else if (u.nlri.length > 0) seen.push({ kind: 'routes', family: familyName(IPV4_UNICAST) });
  else if (u.mpReach && u.mpReach.nlri.length > 0) seen.push({ kind: 'routes', family: familyName(u.mpReach.family) });
}

function refresh(s: Socket, family: FamilyKey): void {
  s.write(encodeMessage({ type: MessageType.RouteRefresh, refresh: { afi: familyAfi(family), safi: familySafi(family), subtype: RouteRefreshSubtype.Normal } }));
}

test('a member of a shared Outbound that asks for one family gets that family again, framed by BoRR/EoRR, and rejoins', async () => {
  const rr = await startSpeaker(`
router-id: ${RR}
asn: 65000
listen: { address: ${RR}, port: 1179 }
neighbors:
  - { address: ${ORIGIN}, remote-as: 65000, port: 1179, passive: true, route-reflector-client: true, families: [ipv4-unicast, ipv6-unicast] }
  - { address: ${RAW}, remote-as: 65000, port: 1179, passive: true, route-reflector-client: true, families: [ipv4-unicast, ipv6-unicast] }
`);
  running.push(rr);
  const origin = await startSpeaker(`
router-id: ${ORIGIN}
asn: 65000
listen: false
neighbors:
  - { address: ${RR}, remote-as: 65000, port: 1179, local-address: ${ORIGIN}, connect-retry: 1, families: [ipv4-unicast, ipv6-unicast] }
originate:
  - { family: ipv4-unicast, prefix: 10.81.0.0/16, next-hop: 10.0.0.1 }
  - { family: ipv6-unicast, prefix: 2001:db8:81::/48, next-hop: 2001:db8::1 }
`);
  running.push(origin);
  const raw = rawClient();
  const routesOf = (family: FamilyKey, from = 0): number => raw.seen.slice(from).filter((x) => x.kind === 'routes' && x.family === familyName(family)).length;
  await eventually('the raw client has both routes', () => routesOf(IPV4_UNICAST) === 1 && routesOf(IPV6_UNICAST) === 1);
  await eventually('both clients on the shared Outbound', () => rr.groups.sharedMembers() === 2);

  const mark = raw.seen.length;
  refresh(raw.socket, IPV6_UNICAST);
  await eventually('EoRR', () => raw.seen.slice(mark).some((x) => x.kind === 'refresh' && x.subtype === RouteRefreshSubtype.EndOfRouteRefresh));
  assert.deepEqual(raw.seen.slice(mark), [
    { kind: 'refresh', subtype: RouteRefreshSubtype.BeginningOfRouteRefresh },
    { kind: 'routes', family: 'ipv6-unicast' },
    { kind: 'refresh', subtype: RouteRefreshSubtype.EndOfRouteRefresh },
  ], 'the IPv6 route again, and nothing of IPv4');
  await eventually('the raw client rejoins the shared Outbound', () => rr.groups.sharedMembers() === 2);
  // And the group still serves it: a new route reaches it once.
  const before = raw.seen.length;
  origin.originate({ family: 'ipv4-unicast', prefix: '10.82.0.0/16', prefixAddress: '', prefixLength: 16, nextHop: '10.0.0.1', communities: [], origin: 'igp', asPath: [] });
  await eventually('the new route', () => routesOf(IPV4_UNICAST, before) === 1);
});
