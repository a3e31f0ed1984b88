import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig, formatConfigErrors, parseConfig } from '../../src/config/index.js';

const base = 'router-id: 192.0.2.1\nasn: 65000\n';

test('metrics: off unless configured; on in the built-in default config', () => {
  const off = parseConfig(base, 'a.yaml');
  assert.ok(off.ok);
  assert.equal(off.value.metrics.enabled, false);
  assert.deepEqual(defaultConfig().metrics, { enabled: true, address: '127.0.0.1', port: 9179 });
  const on = parseConfig(`${base}metrics: { address: 127.0.0.2, port: 9100 }\n`, 'a.yaml');
  assert.ok(on.ok);
  assert.deepEqual(on.value.metrics, { enabled: true, address: '127.0.0.2', port: 9100 });
  const no = parseConfig(`${base}metrics: false\n`, 'a.yaml');
  assert.ok(no.ok && !no.value.metrics.enabled);
});

test('a bad metrics port names the file, line and field', () => {
  const r = parseConfig(`${base}metrics:\n  port: 70000\n`, 'vmmid.yaml');
  assert.ok(!r.ok);
  assert.equal(formatConfigErrors(r.error), 'vmmid.yaml:4:9: metrics.port: expected a port 0..65535 (0 = ephemeral), got 70000');
});

test('route reflection: cluster-id and route-reflector-client (iBGP only)', () => {
  const ok = parseConfig(`${base}cluster-id: 10.9.9.9\nneighbors:\n  - { address: 192.0.2.2, remote-as: 65000, route-reflector-client: true }\n`, 'rr.yaml');
  assert.ok(ok.ok);
  assert.equal(ok.value.clusterId, 0x0a090909);
  assert.equal(ok.value.neighbors[0]?.routeReflectorClient, true);
  const bad = parseConfig(`${base}neighbors:\n  - { address: 192.0.2.2, remote-as: 65001, route-reflector-client: true }\n`, 'rr.yaml');
  assert.ok(!bad.ok);
  assert.equal(
    formatConfigErrors(bad.error),
    'rr.yaml:4:69: neighbors[0].route-reflector-client: route-reflector-client applies to iBGP neighbors only (RFC 4456: remote-as must equal asn)',
  );
});
