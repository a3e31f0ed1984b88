import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { parsePrefix } from '../../src/bgp/wire/prefix.js';
import type { Speaker } from '../../src/speaker.js';
import { eventually, startSpeaker } from '../support/speakers.js';

// A vmmi route reflector and three vmmi clients, all in one process on 127.0.3.2x.
const RR = '127.0.3.20';
const clients = ['127.0.3.21', '127.0.3.22', '127.0.3.23'];
const running: Speaker[] = [];
after(() => Promise.all(running.map((s) => s.stop())));

function key(p: string): string {
  const r = parsePrefix(p);
  assert.ok(r.ok);
  return r.value.key;
}

test('clients of one update group share one Outbound once caught up, and every route reaches every client', async () => {
  const rr = await startSpeaker(`
router-id: ${RR}
asn: 65000
cluster-id: 10.255.9.9
listen: { address: ${RR}, port: 1179 }
neighbors:
${clients.map((c) => `  - { address: ${c}, remote-as: 65000, port: 1179, local-address: ${RR}, connect-retry: 1, passive: true, route-reflector-client: true }`).join('\n')}
`);
  running.push(rr);
  const cs: Speaker[] = [];
  for (const [i, c] of clients.entries()) {
    const s = await startSpeaker(`
router-id: ${c}
asn: 65000
listen: false
neighbors:
  - { address: ${RR}, remote-as: 65000, port: 1179, local-address: ${c}, connect-retry: 1 }
originate:
  - { family: ipv4-unicast, prefix: 10.7${i}.0.0/16, next-hop: 10.0.0.${i + 1} }
`);
    cs.push(s);
    running.push(s);
  }
  for (const [i, s] of cs.entries()) {
    for (const j of [0, 1, 2].filter((x) => x !== i)) {
      const p = await eventually(`client ${i} has client ${j}'s route`, () => s.rib.best(IPV4_UNICAST, key(`10.7${j}.0.0/16`)));
      assert.equal(p.attrs.originatorId, cs[j]!.config.routerIdNumber);
      assert.deepEqual(p.attrs.clusterList, [0x0aff0909]);
    }
  }
  // All three sessions end up on the group's one shared Outbound.
  await eventually('one shared Outbound', () => rr.groups.sharedCount() === 1 && rr.groups.sharedMembers() === 3);
  // A change after the merge reaches every client (written once, to all).
  cs[0]!.originate({ family: 'ipv4-unicast', prefix: '10.79.0.0/16', prefixAddress: '', prefixLength: 16, nextHop: '10.0.0.9', communities: [], origin: 'igp', asPath: [] });
  for (const s of cs.slice(1)) await eventually('new route everywhere', () => s.rib.best(IPV4_UNICAST, key('10.79.0.0/16')));
  // The echo back to the originating client is dropped there (its own ORIGINATOR_ID, RFC 4456 §8).
  assert.equal(cs[0]!.rib.destination(IPV4_UNICAST, key('10.79.0.0/16'))?.paths.length, 1);
});
