import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DEFAULT_CONFIG_YAML, FAMILY_AFI_SAFI, FAMILY_NAMES, defaultConfig, familyFromAfiSafi, formatConfigErrors,
  loadConfigFile, parseConfig, type Config,
} from '../../src/config/index.js';

function valid(text: string): Config {
  const r = parseConfig(text, 'vmmid.yaml');
  if (!r.ok) assert.fail(formatConfigErrors(r.error));
  return r.value;
}

const FULL = `
router-id: 127.0.1.1
asn: 65000
listen: { address: 127.0.1.1, port: 179 }
hold-time: 30
connect-retry: 7
log-level: debug
neighbors:
  - address: 127.0.1.2
    remote-as: 65000
  - address: 127.0.1.3
    remote-as: 65001
    port: 1790
    local-address: 127.0.1.1
    passive: true
    hold-time: 0
    connect-retry: 2
    families: [ipv4-unicast, ipv6-unicast, l2vpn-evpn, ipv4-vpn, ipv6-vpn]
    description: spine 1
    shutdown-message: maintenance, back at 14:00
originate:
  - { family: ipv4-unicast, prefix: 10.10.0.0/24, next-hop: 10.0.0.1 }
  - prefix: 10.20.0.0/16
    med: 10
    local-pref: 200
    communities: ["65000:1", 65000:2, no-export, 4294967295]
    origin: incomplete
    as-path: [65001, 4200000000]
`;

test('a full config resolves every default', () => {
  const c = valid(FULL);
  assert.equal(c.routerId, '127.0.1.1');
  assert.equal(c.routerIdNumber, 0x7f000101);
  assert.equal(c.asn, 65000);
  assert.deepEqual(c.listen, { enabled: true, address: '127.0.1.1', port: 179 });
  assert.equal(c.holdTime, 30);
  assert.equal(c.connectRetry, 7);
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual(c.neighbors[0], {
    address: '127.0.1.2',
    remoteAs: 65000,
    ibgp: true,
    port: 179,
    passive: false,
    holdTime: 30,
    connectRetry: 7,
    families: ['ipv4-unicast'],
    routeReflectorClient: false,
  });
  assert.equal(c.clusterId, c.routerIdNumber, 'cluster-id defaults to the router id');
  assert.deepEqual(c.neighbors[1], {
    address: '127.0.1.3',
    remoteAs: 65001,
    ibgp: false,
    port: 1790,
    localAddress: '127.0.1.1',
    passive: true,
    holdTime: 0,
    connectRetry: 2,
    families: [...FAMILY_NAMES],
    routeReflectorClient: false,
    description: 'spine 1',
    shutdownMessage: 'maintenance, back at 14:00',
  });
  assert.deepEqual(c.originate[0], {
    family: 'ipv4-unicast',
    prefix: '10.10.0.0/24',
    prefixAddress: '10.10.0.0',
    prefixLength: 24,
    nextHop: '10.0.0.1',
    communities: [],
    origin: 'igp',
    asPath: [],
  });
  assert.deepEqual(c.originate[1], {
    family: 'ipv4-unicast',
    prefix: '10.20.0.0/16',
    prefixAddress: '10.20.0.0',
    prefixLength: 16,
    med: 10,
    localPref: 200,
    communities: [65000 * 65536 + 1, 65000 * 65536 + 2, 0xffffff01, 0xffffffff],
    origin: 'incomplete',
    asPath: [65001, 4200000000],
  });
});

test('minimal config: hold time 90, connect retry 5, listen on 127.0.0.1:1179', () => {
  const c = valid('router-id: 192.0.2.1\nasn: 4200000000\nneighbors:\n  - { address: 192.0.2.2, remote-as: 1 }\n');
  assert.deepEqual(c.listen, { enabled: true, address: '127.0.0.1', port: 1179 });
  assert.equal(c.logLevel, 'info');
  assert.equal(c.neighbors[0]?.holdTime, 90);
  assert.equal(c.neighbors[0]?.connectRetry, 5);
  assert.deepEqual(c.originate, []);
});

test('listen can be disabled either way, and port 0 is allowed', () => {
  const base = 'router-id: 1.1.1.1\nasn: 1\n';
  assert.equal(valid(`${base}listen: false\n`).listen.enabled, false);
  assert.equal(valid(`${base}listen: { enabled: false }\n`).listen.enabled, false);
  assert.deepEqual(valid(`${base}listen: { address: "::", port: 0 }\n`).listen, { enabled: true, address: '::', port: 0 });
});

test('IPv6 neighbor and IPv6 originate, addresses in RFC 5952 form', () => {
  const c = valid(`
router-id: 10.0.0.1
asn: 65000
neighbors:
  - address: 2001:DB8:0:0::0001
    remote-as: 65002
    local-address: 2001:db8::2
    families: [ipv6-unicast]
originate:
  - { family: ipv6-unicast, prefix: 2001:db8:100::/48, next-hop: 2001:db8::2 }
  - { prefix: ::/0 }
`);
  assert.equal(c.neighbors[0]?.address, '2001:db8::1');
  assert.equal(c.neighbors[0]?.localAddress, '2001:db8::2');
  assert.deepEqual(c.neighbors[0]?.families, ['ipv6-unicast']);
  assert.equal(c.originate[0]?.family, 'ipv6-unicast');
  assert.equal(c.originate[0]?.prefix, '2001:db8:100::/48');
  assert.equal(c.originate[0]?.nextHop, '2001:db8::2');
  assert.equal(c.originate[1]?.family, 'ipv6-unicast');
  assert.equal(c.originate[1]?.prefix, '::/0');
});

test('the embedded default config', () => {
  const c = defaultConfig();
  assert.deepEqual(c, valid(DEFAULT_CONFIG_YAML));
  assert.equal(c.routerId, '127.0.0.1');
  assert.equal(c.asn, 65000);
  assert.deepEqual(c.listen, { enabled: true, address: '127.0.0.1', port: 1179 });
  assert.deepEqual(c.neighbors, []);
  assert.deepEqual(c.originate, []);
});

test('loadConfigFile reads a file and names it in errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmmi-config-'));
  try {
    const good = join(dir, 'good.yaml');
    await writeFile(good, DEFAULT_CONFIG_YAML);
    const r = await loadConfigFile(good);
    assert.ok(r.ok);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'router-id: 1.1.1.1\nasn: x\n');
    const b = await loadConfigFile(bad);
    assert.ok(!b.ok);
    assert.equal(formatConfigErrors(b.error), `${bad}:2:6: asn: expected an AS number 1..4294967295, got "x"`);
    const missing = await loadConfigFile(join(dir, 'nope.yaml'));
    assert.ok(!missing.ok);
    assert.match(formatConfigErrors(missing.error), /nope\.yaml: cannot read config file: .*ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('family code points round-trip', () => {
  for (const f of FAMILY_NAMES) assert.equal(familyFromAfiSafi(FAMILY_AFI_SAFI[f].afi, FAMILY_AFI_SAFI[f].safi), f);
  assert.equal(familyFromAfiSafi(25, 65), undefined);
});
