import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, startSpeaker } from '../support/speakers.js';
import { Speaker } from '../../src/speaker.js';
import { silentLogger } from '../../src/core/log.js';
import { configFrom } from '../support/speakers.js';

const peerYaml = (me: string, other: string, extra = ''): string => `
router-id: ${me}
asn: 65000
listen: { address: ${me}, port: 1179 }
${extra}
neighbors:
  - { address: ${other}, remote-as: 65000, port: 1179, local-address: ${me}, connect-retry: 1 }
`;

test('GET /metrics reports peer state, prefixes received and RIB size in Prometheus text format', async (t) => {
  const a = new Speaker(configFrom(peerYaml('127.0.3.5', '127.0.3.6', 'metrics: { address: 127.0.3.5, port: 0 }')), silentLogger());
  const ep = await a.start();
  const b = await startSpeaker(
    `${peerYaml('127.0.3.6', '127.0.3.5')}originate:\n  - { family: ipv4-unicast, prefix: 10.88.0.0/24, next-hop: 10.0.0.8 }\n  - { family: ipv4-unicast, prefix: 10.88.1.0/24, next-hop: 10.0.0.8 }\n`,
  );
  t.after(() => Promise.all([a.stop(), b.stop()]));
  assert.ok(ep.metrics);
  await eventually('A learns 2 routes', () => a.rib.count(1 << 8 | 1) === 2);
  const res = await fetch(`http://127.0.3.5:${ep.metrics.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /^vmmi_bgp_peer_state\{peer="127\.0\.3\.6"\} 6$/m);
  assert.match(text, /^vmmi_bgp_peer_prefixes_received\{peer="127\.0\.3\.6",family="ipv4-unicast"\} 2$/m);
  assert.match(text, /^vmmi_rib_destinations\{family="ipv4-unicast"\} 2$/m);
  assert.match(text, /^vmmi_bgp_messages_total\{peer="127\.0\.3\.6",direction="in"\} [1-9]\d*$/m);
  assert.match(text, /^vmmi_update_groups 1$/m);
  assert.equal((await fetch(`http://127.0.3.5:${ep.metrics.port}/other`)).status, 404);
});
