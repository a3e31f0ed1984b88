import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AsPathSegmentType, Origin } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import { parsePrefix } from '../../src/bgp/wire/prefix.js';
import type { Speaker } from '../../src/speaker.js';
import { eventually, startSpeaker } from '../support/speakers.js';

// Two vmmid speakers in one process, on their own loopback addresses.
function yaml(opts: { me: string; other: string; asn: number; peerAs: number; passive?: boolean; extra?: string }): string {
  return `
router-id: ${opts.me}
asn: ${opts.asn}
listen: { address: ${opts.me}, port: 1179 }
neighbors:
  - address: ${opts.other}
    remote-as: ${opts.peerAs}
    port: 1179
    local-address: ${opts.me}
    passive: ${opts.passive ?? false}
    hold-time: 9
    connect-retry: 1
    families: [ipv4-unicast, ipv6-unicast]
${opts.extra ?? ''}`;
}

function key(prefix: string): string {
  const p = parsePrefix(prefix);
  assert.ok(p.ok);
  return p.value.key;
}

describe('two vmmid speakers over loopback', () => {
  const running: Speaker[] = [];
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
  });

  test('iBGP, both active: the connection collision resolves to one Established session and routes flow', async () => {
    const a = await startSpeaker(
      yaml({
        me: '127.0.3.1', other: '127.0.3.2', asn: 65000, peerAs: 65000,
        extra: `originate:\n  - { family: ipv4-unicast, prefix: 10.31.0.0/24, next-hop: 10.0.0.1, med: 5, communities: ["65000:7"] }\n  - { family: ipv6-unicast, prefix: "2001:db8:31::/48", next-hop: "2001:db8::31" }`,
      }),
    );
    const b = await startSpeaker(yaml({ me: '127.0.3.2', other: '127.0.3.1', asn: 65000, peerAs: 65000 }));
    running.push(a, b);
    const pa = a.peers.get('127.0.3.2')!;
    const pb = b.peers.get('127.0.3.1')!;
    await eventually('both Established', () => pa.state === 'Established' && pb.state === 'Established');
    const path = await eventually('10.31.0.0/24 at B', () => b.rib.best(IPV4_UNICAST, key('10.31.0.0/24')));
    assert.equal(path.source.id, '127.0.3.1');
    assert.equal(path.attrs.origin, Origin.Igp);
    assert.deepEqual([...path.attrs.nextHop!], [10, 0, 0, 1]);
    assert.equal(path.attrs.med, 5);
    assert.equal(path.attrs.localPref, 100);
    assert.deepEqual(path.attrs.asPath, []);
    assert.deepEqual(path.attrs.communities, [65000 * 65536 + 7]);
    const v6 = await eventually('2001:db8:31::/48 at B', () => b.rib.best(IPV6_UNICAST, key('2001:db8:31::/48')));
    assert.equal(v6.attrs.nextHop!.subarray(0, 16).toString('hex'), '20010db8000000000000000000000031');
    // RFC 4271 §6.8: the surviving session stays up; no flapping after the collision.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pa.state, 'Established');
    assert.equal(pb.state, 'Established');

    assert.ok(a.withdrawOriginated(IPV4_UNICAST, '10.31.0.0/24'));
    await eventually('withdraw at B', () => b.rib.best(IPV4_UNICAST, key('10.31.0.0/24')) === undefined);
  });

  test('eBGP with a passive side: AS_PATH prepended, LOCAL_PREF not sent, many routes packed', async () => {
    const a = await startSpeaker(yaml({ me: '127.0.3.3', other: '127.0.3.4', asn: 65003, peerAs: 65004 }));
    const b = await startSpeaker(yaml({ me: '127.0.3.4', other: '127.0.3.3', asn: 65004, peerAs: 65003, passive: true }));
    running.push(a, b);
    for (let i = 0; i < 5000; i++) {
      a.originate({
        family: 'ipv4-unicast', prefix: `10.${40 + (i >> 8)}.${i & 255}.0/24`, prefixAddress: '', prefixLength: 24,
        nextHop: '10.0.0.3', localPref: 300, communities: [], origin: 'igp', asPath: [],
      });
    }
    await eventually('B has 5000 routes', () => b.rib.count(IPV4_UNICAST) === 5000, 15_000);
    const p = b.rib.best(IPV4_UNICAST, key('10.40.7.0/24'))!;
    assert.deepEqual(p.attrs.asPath, [{ type: AsPathSegmentType.AsSequence, asns: [65003] }]);
    assert.equal(p.attrs.localPref, undefined);
    assert.equal(p.source.ibgp, false);
    const sent = a.peers.get('127.0.3.4')!.status().messagesOut;
    // 5000 /24s with one attribute set pack into a handful of 4 KB UPDATEs (about 1000 per message).
    assert.ok(sent < 20, `expected packed UPDATEs, A sent ${sent} messages`);
  });
});
