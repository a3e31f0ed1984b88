import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import {
  DEFAULT_CONFIG_YAML, defaultConfig, formatConfigErrors, loadConfigFile, parseConfig, type Config, type ConfigError,
} from '../../src/config/index.js';
import { BUILT_IN_CONFIG_NAME } from '../../src/config/schema.js';

const HEAD = 'router-id: 192.0.2.1\nasn: 65000\n';

function valid(text: string, file = 'vmmid.yaml'): Config {
  const r = parseConfig(text, file);
  if (!r.ok) assert.fail(formatConfigErrors(r.error));
  return r.value;
}

function errorsOf(text: string, file = 'vmmid.yaml'): ConfigError[] {
  const r = parseConfig(text, file);
  assert.ok(!r.ok, 'expected the config to be rejected');
  return r.error;
}

/** Every error, as `file:line:col: path: message`, in file order. */
const lines = (text: string, file = 'vmmid.yaml'): string[] => formatConfigErrors(errorsOf(text, file)).split('\n');

/** Exactly these errors: [line, col, path, message fragment] each, file vmmid.yaml. */
function expectErrors(text: string, want: readonly (readonly [number, number, string, string | RegExp])[], file = 'vmmid.yaml'): void {
  const errs = errorsOf(text, file);
  const shown = formatConfigErrors(errs);
  assert.equal(errs.length, want.length, shown);
  want.forEach(([line, col, path, message], i) => {
    const e = errs[i];
    assert.equal(e?.file, file, shown);
    assert.equal(e?.line, line, shown);
    assert.equal(e?.col, col, shown);
    assert.equal(e?.path, path, shown);
    if (typeof message === 'string') assert.ok(e.message.includes(message), `${shown}\n  wanted: ${message}`);
    else assert.match(e.message, message, shown);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'vmmi-api-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'tls'));
writeFileSync(join(dir, 'tls', 'server.pem'), '-----BEGIN CERTIFICATE-----\n');
writeFileSync(join(dir, 'tls', 'server.key'), '-----BEGIN PRIVATE KEY-----\n');
writeFileSync(join(dir, 'tls', 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
writeFileSync(join(dir, 'ops.token'), '  0123456789abcdef-ops \n');
writeFileSync(join(dir, 'short.token'), 'tooshort\n');
const configFile = join(dir, 'vmmid.yaml');

const FULL = `${HEAD}networks:
  - name: blue
    vni: 10100
    evi: 100
    l3-vni: 50000
    vrf: tenant-a
    router-mac: 52-54-00-AA-BB-01
    rd: 192.0.2.1:100
    route-targets: ["65000:10100", "RT:192.0.2.1:7", 4200000000:5, 64086.59904:6]
  - { name: green_2.x, vni: 16777215, evi: 200, l3-vni: 50000, router-mac: 5254.00aa.bb02, rd: "4200000000:9" }
store: state/vms
api:
  listen: { address: 0.0.0.0, port: 50052 }
  tls: { cert: tls/server.pem, key: tls/server.key, client-ca: tls/ca.pem }
  agents:
    - { name: hv1, vteps: [10.0.0.21, "2001:DB8::0:1"], networks: [blue] }
    - { name: hv2, vteps: [10.0.0.22], networks: [blue, green_2.x] }
  operators: [ops, alice]
  tokens:
    - { name: ops, token-file: ops.token }
    - { name: hv2, token: "a literal token of 32 characters" }
  allow-anonymous: false
  watch-buffer: 500
`;

test('every networks, store and api field, with paths relative to the config file', async () => {
  writeFileSync(configFile, FULL);
  const r = await loadConfigFile(configFile);
  if (!r.ok) assert.fail(formatConfigErrors(r.error));
  const c = r.value;
  assert.deepEqual(c.networks, [
    {
      name: 'blue',
      vni: 10100,
      evi: 100,
      l3Vni: 50000,
      vrf: 'tenant-a',
      routerMac: '52:54:00:aa:bb:01',
      rd: '192.0.2.1:100',
      routeTargets: ['65000:10100', '192.0.2.1:7', '4200000000:5', '4200000000:6'],
      vrfRouteTargets: ['65000:50000'],
    },
    {
      name: 'green_2.x',
      vni: 16777215,
      evi: 200,
      l3Vni: 50000,
      routerMac: '52:54:00:aa:bb:02',
      rd: '4200000000:9',
      routeTargets: ['65000:16777215'],
      vrfRouteTargets: ['65000:50000'],
    },
  ]);
  assert.equal(c.store, join(dir, 'state', 'vms'));
  assert.deepEqual(c.api, {
    enabled: true,
    address: '0.0.0.0',
    port: 50052,
    tls: { cert: join(dir, 'tls', 'server.pem'), key: join(dir, 'tls', 'server.key'), clientCa: join(dir, 'tls', 'ca.pem') },
    agents: [
      { name: 'hv1', vteps: ['10.0.0.21', '2001:db8::1'], networks: ['blue'] },
      { name: 'hv2', vteps: ['10.0.0.22'], networks: ['blue', 'green_2.x'] },
    ],
    operators: ['ops', 'alice'],
    tokens: [
      { name: 'ops', token: '0123456789abcdef-ops' },
      { name: 'hv2', token: 'a literal token of 32 characters' },
    ],
    allowAnonymous: false,
    watchBuffer: 500,
  });
});

test('defaults: no networks, no store, no API without an api: section; `api: {}` is a plain-text anonymous API on 127.0.0.1:50051', () => {
  const c = valid(HEAD);
  assert.deepEqual(c.networks, []);
  assert.equal(c.store, undefined);
  assert.ok(!('store' in c));
  assert.equal(c.api.enabled, false);
  assert.deepEqual(valid(`${HEAD}api: {}\n`).api, {
    enabled: true,
    address: '127.0.0.1',
    port: 50051,
    agents: [],
    operators: [],
    tokens: [],
    allowAnonymous: true,
    watchBuffer: 10000,
  });
  assert.deepEqual(valid(`${HEAD}api:\nnetworks:\n`).api, c.api, 'empty sections are the defaults');
});

test('RD and RT auto-derivation: evi = vni, route target asn:vni', () => {
  const c = valid(`${HEAD}networks:\n  - { name: blue, vni: 10100 }\n  - { name: big, vni: 100000, evi: 7 }\n`);
  assert.deepEqual(c.networks, [
    { name: 'blue', vni: 10100, evi: 10100, routeTargets: ['65000:10100'] },
    { name: 'big', vni: 100000, evi: 7, routeTargets: ['65000:100000'] },
  ]);
  const as4 = valid('router-id: 192.0.2.1\nasn: 4200000000\nnetworks:\n  - { name: blue, vni: 65535 }\n');
  assert.deepEqual(as4.networks[0]?.routeTargets, ['4200000000:65535']);
  // yaml reads an unquoted MAC as text (YAML 1.2 has no base-60 numbers).
  assert.equal(valid(`${HEAD}networks:\n  - { name: b, vni: 1, router-mac: 02:00:00:00:00:0A }\n`).networks[0]?.routerMac, '02:00:00:00:00:0a');
});

test('api: listen variants, loopback addresses, tls defaults anonymous to false', () => {
  assert.equal(valid(`${HEAD}api: { listen: false }\n`).api.enabled, false);
  assert.equal(valid(`${HEAD}api: { listen: { address: 10.0.0.1, enabled: false } }\n`).api.enabled, false, 'disabled: no loopback rule');
  assert.equal(valid(`${HEAD}api: { listen: { address: 127.1.2.3, port: 0 } }\n`).api.address, '127.1.2.3');
  assert.equal(valid(`${HEAD}api: { listen: { address: "0:0::1" } }\n`).api.address, '::1');
  const tls = valid(`${HEAD}api:\n  listen: { address: "::" }\n  tls: { cert: tls/server.pem, key: tls/server.key }\n`, configFile).api;
  assert.equal(tls.allowAnonymous, false);
  assert.deepEqual(tls.tls, { cert: join(dir, 'tls', 'server.pem'), key: join(dir, 'tls', 'server.key') });
});

test('store: relative to the config file, or to the working directory for the built-in config', () => {
  assert.equal(valid(`${HEAD}store: /var/lib/vmmi\n`).store, '/var/lib/vmmi');
  assert.equal(valid(`${HEAD}store: state\n`, 'etc/vmmi/vmmid.yaml').store, resolve('etc/vmmi/state'));
  assert.equal(valid(`${HEAD}store: state\n`, BUILT_IN_CONFIG_NAME).store, join(process.cwd(), 'state'));
  expectErrors(`${HEAD}store: ""\n`, [[3, 8, 'store', 'expected a non-empty path, got ""']]);
  expectErrors(`${HEAD}store: [a]\n`, [[3, 8, 'store', 'expected a non-empty path, got a list']]);
  expectErrors(`${HEAD}stor: /x\n`, [[3, 1, 'stor', 'unknown key, did you mean "store"?']]);
});

test('the embedded default config has two networks and a local agent', () => {
  const c = defaultConfig();
  assert.deepEqual(c, valid(DEFAULT_CONFIG_YAML));
  assert.deepEqual(
    c.networks.map((n) => [n.name, n.vni, n.evi, n.routeTargets]),
    [
      ['blue', 10100, 10100, ['65000:10100']],
      ['green', 10200, 10200, ['65000:10200']],
    ],
  );
  assert.equal(c.store, undefined);
  assert.deepEqual(c.api, {
    enabled: true,
    address: '127.0.0.1',
    port: 50051,
    agents: [{ name: 'local', vteps: ['10.0.0.21', '10.0.0.22'], networks: ['blue', 'green'] }],
    operators: [],
    tokens: [],
    allowAnonymous: true,
    watchBuffer: 10000,
  });
});

const net = (body: string): string => `${HEAD}networks:\n${body}`;

test('networks: exact messages', () => {
  assert.deepEqual(lines(net('  - name: blue\n    vni: 100000\n')), [
    'vmmid.yaml:5:10: networks[0].vni: vni 100000 does not fit the 16-bit RD number: set evi (1..65535)',
  ]);
  assert.deepEqual(lines(`router-id: 192.0.2.1\nasn: 4200000000\nnetworks:\n  - name: blue\n    vni: 100000\n    evi: 1\n`), [
    'vmmid.yaml:4:5: networks[0]: cannot derive the route target 4200000000:100000 ' +
      '(a route target with a 4-octet AS has a 16-bit number and vni 100000 is larger): set route-targets',
  ]);
});

test('networks: every rule, at the offending node', () => {
  expectErrors(`${HEAD}networks: blue\n`, [[3, 11, 'networks', 'expected a list of networks']]);
  expectErrors(net('  - blue\n'), [[4, 5, 'networks[0]', 'expected a mapping, got "blue"']]);
  // name
  expectErrors(net('  - vni: 1\n'), [[4, 5, 'networks[0].name', 'required, expected a network name']]);
  expectErrors(net('  - name: "blue net"\n    vni: 1\n'), [[4, 11, 'networks[0].name', 'expected a network name of letters, digits']]);
  expectErrors(net('  - name: ""\n    vni: 1\n'), [[4, 11, 'networks[0].name', 'got ""']]);
  expectErrors(net('  - name: blue\n    vni: 1\n  - name: blue\n    vni: 2\n'), [
    [6, 11, 'networks[1].name', 'duplicate network name "blue", already used by networks[0] (line 4)'],
  ]);
  // vni
  expectErrors(net('  - name: blue\n'), [[4, 5, 'networks[0].vni', 'required, expected a VNI 1..16777215']]);
  expectErrors(net('  - name: blue\n    vni: 0\n'), [[5, 10, 'networks[0].vni', 'expected a VNI 1..16777215, got 0']]);
  expectErrors(net('  - name: blue\n    vni: 16777216\n'), [[5, 10, 'networks[0].vni', 'got 16777216']]);
  expectErrors(net('  - name: blue\n    vni: "10"\n'), [[5, 10, 'networks[0].vni', 'got "10"']]);
  expectErrors(net('  - name: blue\n    vni: 7\n    evi: 1\n  - name: green\n    vni: 7\n    evi: 2\n'), [
    [8, 10, 'networks[1].vni', 'duplicate vni 7, already used by network blue (line 4)'],
  ]);
  // evi
  expectErrors(net('  - name: blue\n    vni: 100000\n'), [[5, 10, 'networks[0].vni', 'vni 100000 does not fit the 16-bit RD number: set evi (1..65535)']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    evi: 0\n'), [[6, 10, 'networks[0].evi', 'expected an EVI 1..65535']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    evi: 65536\n'), [[6, 10, 'networks[0].evi', 'got 65536']]);
  expectErrors(net('  - name: blue\n    vni: 100000\n    evi: 5\n  - name: green\n    vni: 5\n'), [
    [8, 10, 'networks[1].vni', 'duplicate evi 5 (the vni, as evi is not set), already used by network blue (line 4)'],
  ]);
  expectErrors(net('  - name: blue\n    vni: 5\n  - name: green\n    vni: 6\n    evi: 5\n'), [
    [8, 10, 'networks[1].evi', 'duplicate evi 5, already used by network blue (line 4)'],
  ]);
  // l3-vni
  expectErrors(net('  - name: blue\n    vni: 1\n    l3-vni: 0\n'), [[6, 13, 'networks[0].l3-vni', 'expected a VNI 1..16777215, got 0']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    l3-vni: 2\n    router-mac: 02:00:00:00:00:01\n  - name: green\n    vni: 2\n'), [
    [6, 13, 'networks[0].l3-vni', 'l3-vni 2 is already the vni of network green (line 8): an L3 VNI needs a VNI of its own'],
  ]);
  expectErrors(net('  - name: blue\n    vni: 1\n    l3-vni: 1\n    router-mac: 02:00:00:00:00:01\n'), [[6, 13, 'networks[0].l3-vni', 'l3-vni 1 is already the vni of network blue']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    l3-vni: 5\n'), [[6, 13, 'networks[0].l3-vni', 'l3-vni needs router-mac']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    vrf-route-targets: ["65000:5"]\n'), [[6, 24, 'networks[0].vrf-route-targets', 'only meaningful with l3-vni']]);
  // vrf, router-mac, rd
  expectErrors(net('  - name: blue\n    vni: 1\n    vrf: ""\n'), [[6, 10, 'networks[0].vrf', 'expected a non-empty string']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    router-mac: 52:54:00:aa:bb\n'), [
    [6, 17, 'networks[0].router-mac', '"52:54:00:aa:bb" is not a MAC address; expected a MAC address like 52:54:00:aa:bb:01'],
  ]);
  expectErrors(net('  - name: blue\n    vni: 1\n    router-mac: 525400aabb01\n'), [[6, 17, 'networks[0].router-mac', 'expected a MAC address']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    rd: 192.0.2.1:70000\n'), [
    [6, 9, 'networks[0].rd', 'the number after an IPv4 address is 0..65535; expected a route distinguisher'],
  ]);
  expectErrors(net('  - name: blue\n    vni: 1\n    rd: 100\n'), [[6, 9, 'networks[0].rd', 'expected a route distinguisher like "65000:100"']]);
  expectErrors(net('  - { name: blue, vni: 1, rd: "65000:1" }\n  - { name: green, vni: 2, rd: "65000:1" }\n'), [
    [5, 32, 'networks[1].rd', 'duplicate rd 65000:1, already used by network blue (line 4)'],
  ]);
  // route-targets
  expectErrors(net('  - name: blue\n    vni: 1\n    route-targets: []\n'), [[6, 20, 'networks[0].route-targets', 'expected a non-empty list of route targets']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    route-targets: "65000:1"\n'), [[6, 20, 'networks[0].route-targets', 'expected a non-empty list']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    route-targets: [65000:1, x:1, 65000:1]\n'), [
    [6, 30, 'networks[0].route-targets[1]', '"x" is neither an AS number nor an IPv4 address'],
    [6, 35, 'networks[0].route-targets[2]', 'duplicate route target 65000:1'],
  ]);
  expectErrors(net('  - name: blue\n    vni: 1\n    route-targets: [4200000000:70000]\n'), [
    [6, 21, 'networks[0].route-targets[0]', 'the number after a 4-octet AS is 0..65535'],
  ]);
  // unknown keys
  expectErrors(net('  - name: blue\n    vni: 1\n    l3vni: 2\n'), [[6, 5, 'networks[0].l3vni', 'unknown key, did you mean "l3-vni"?']]);
  expectErrors(net('  - name: blue\n    vni: 1\n    routeTargets: ["1:1"]\n'), [
    [6, 5, 'networks[0].routeTargets', 'unknown key, did you mean "route-targets"?'],
  ]);
});

test('networks: a broken asn skips the RT default instead of adding errors', () => {
  expectErrors(`router-id: 192.0.2.1\nasn: x\nnetworks:\n  - { name: blue, vni: 100000, evi: 1 }\n`, [[2, 6, 'asn', 'expected an AS number']]);
});

const api = (body: string): string => `${HEAD}networks:\n  - { name: blue, vni: 10100 }\n  - { name: green, vni: 10200 }\napi:\n${body}`;
// api's children start on line 7.

test('api: every rule, at the offending node', () => {
  expectErrors(`${HEAD}api: true\n`, [[3, 6, 'api', 'expected a mapping, got true']]);
  expectErrors(api('  watch_buffer: 5\n'), [[7, 3, 'api.watch_buffer', 'unknown key, did you mean "watch-buffer"?']]);
  // listen
  expectErrors(api('  listen: { address: 192.0.2.1 }\n'), [
    [7, 11, 'api.listen', 'plain-text API only on loopback: add api.tls or listen on 127.0.0.1'],
  ]);
  expectErrors(api('  listen:\n    address: "::"\n'), [[8, 5, 'api.listen', 'plain-text API only on loopback']]);
  expectErrors(api('  listen: { port: 70000 }\n'), [[7, 19, 'api.listen.port', 'expected a port 0..65535']]);
  expectErrors(api('  listen: yes\n'), [[7, 11, 'api.listen', 'expected a mapping with enabled, address, port, or false']]);
  // watch-buffer, allow-anonymous, operators
  expectErrors(api('  watch-buffer: 0\n'), [[7, 17, 'api.watch-buffer', 'expected a number of events 1..1000000, got 0']]);
  expectErrors(api('  watch-buffer: 1000001\n'), [[7, 17, 'api.watch-buffer', 'got 1000001']]);
  expectErrors(api('  allow-anonymous: "yes"\n'), [[7, 20, 'api.allow-anonymous', 'expected true or false']]);
  expectErrors(api('  operators: ops\n'), [[7, 14, 'api.operators', 'expected a list of identities']]);
  expectErrors(api('  operators: [ops, ""]\n'), [[7, 20, 'api.operators[1]', 'expected a non-empty string, got ""']]);
});

test('api.agents: unique names, VTEP addresses, known networks', () => {
  const agent = (a: string): string => api(`  agents:\n    - ${a}\n`); // the agent is on line 8, from column 7
  expectErrors(api('  agents: hv1\n'), [[7, 11, 'api.agents', 'expected a list of agents']]);
  expectErrors(agent('{ vteps: [10.0.0.1], networks: [blue] }'), [[8, 7, 'api.agents[0].name', 'required']]);
  expectErrors(api('  agents:\n    - { name: hv1, vteps: [10.0.0.1], networks: [blue] }\n    - { name: hv1, vteps: [10.0.0.2], networks: [blue] }\n'), [
    [9, 15, 'api.agents[1].name', 'duplicate agent "hv1", already configured at api.agents[0] (line 8)'],
  ]);
  expectErrors(agent('{ name: hv1, networks: [blue] }'), [[8, 7, 'api.agents[0].vteps', 'required, expected a non-empty list of VTEP addresses']]);
  expectErrors(agent('{ name: hv1, vteps: [], networks: [blue] }'), [[8, 27, 'api.agents[0].vteps', 'expected a non-empty list of VTEP addresses']]);
  expectErrors(agent('{ name: hv1, vteps: 10.0.0.1, networks: [blue] }'), [[8, 27, 'api.agents[0].vteps', 'expected a non-empty list']]);
  expectErrors(agent('{ name: hv1, vteps: [10.0.0.1, 10.0.0.300], networks: [blue] }'), [
    [8, 38, 'api.agents[0].vteps[1]', 'expected an IPv4 or IPv6 address, got "10.0.0.300"'],
  ]);
  expectErrors(agent('{ name: hv1, vteps: [10.0.0.1, 10.0.0.1], networks: [blue] }'), [[8, 38, 'api.agents[0].vteps[1]', 'duplicate VTEP 10.0.0.1']]);
  expectErrors(agent('{ name: hv1, vteps: [10.0.0.1] }'), [[8, 7, 'api.agents[0].networks', 'required, expected a non-empty list of network names']]);
  expectErrors(agent('{ name: hv1, vteps: [10.0.0.1], networks: [] }'), [[8, 49, 'api.agents[0].networks', 'expected a non-empty list of network names']]);
  expectErrors(agent('{ name: hv1, vteps: [10.0.0.1], networks: [bleu, red] }'), [
    [8, 50, 'api.agents[0].networks[0]', 'unknown network "bleu", did you mean "blue"?'],
    [8, 56, 'api.agents[0].networks[1]', 'unknown network "red" (configured: blue, green)'],
  ]);
  expectErrors(agent('{ name: hv1, vteps: [10.0.0.1], networks: [blue, blue] }'), [[8, 56, 'api.agents[0].networks[1]', 'duplicate network blue']]);
  expectErrors(`${HEAD}api:\n  agents:\n    - { name: hv1, vteps: [10.0.0.1], networks: [blue] }\n`, [
    [5, 50, 'api.agents[0].networks[0]', 'unknown network "blue" (no networks are configured)'],
  ]);
  expectErrors(agent('{ name: hv1, vtep: [10.0.0.1], networks: [blue] }'), [
    [8, 7, 'api.agents[0].vteps', 'required'],
    [8, 20, 'api.agents[0].vtep', 'unknown key, did you mean "vteps"?'],
  ]);
  // A broken networks section is reported once, not again at every reference to it.
  expectErrors(`${HEAD}networks: { blue: 1 }\napi:\n  agents:\n    - { name: hv1, vteps: [10.0.0.1], networks: [blue] }\n`, [
    [3, 11, 'networks', 'expected a list of networks'],
  ]);
  // A network with another error still counts as configured.
  expectErrors(`${HEAD}networks:\n  - { name: blue, vni: 0 }\napi:\n  agents:\n    - { name: hv1, vteps: [10.0.0.1], networks: [blue] }\n`, [
    [4, 24, 'networks[0].vni', 'got 0'],
  ]);
});

test('api.tls: required files, readable at load, relative to the config file', () => {
  const withTls = (tls: string, more = ''): string => api(`  tls: ${tls}\n${more}`); // tls on line 7, value from column 8
  expectErrors(withTls('yes'), [[7, 8, 'api.tls', 'expected a mapping, got "yes"']]);
  expectErrors(withTls('{ key: tls/server.key }'), [[7, 8, 'api.tls.cert', 'required, expected the path of a PEM certificate']], configFile);
  expectErrors(withTls('{ cert: tls/server.pem }'), [[7, 8, 'api.tls.key', 'required, expected the path of a PEM private key']], configFile);
  expectErrors(withTls('{ cert: tls/missing.pem, key: tls/server.key }'), [
    [7, 16, 'api.tls.cert', `cannot read ${join(dir, 'tls', 'missing.pem')}: ENOENT`],
  ], configFile);
  expectErrors(withTls('{ cert: tls/server.pem, key: tls }'), [[7, 37, 'api.tls.key', `cannot read ${join(dir, 'tls')}: not a regular file`]], configFile);
  expectErrors(withTls('{ cert: tls/server.pem, key: tls/server.key, client-ca: "" }'), [[7, 64, 'api.tls.client-ca', 'expected a non-empty path']], configFile);
  expectErrors(withTls('{ cert: tls/server.pem, key: tls/server.key, ca: tls/ca.pem }'), [[7, 53, 'api.tls.ca', 'unknown key']], configFile);
  // The same relative paths do not resolve against the working directory.
  expectErrors(withTls('{ cert: tls/server.pem, key: tls/server.key }'), [
    [7, 16, 'api.tls.cert', `cannot read ${resolve('tls/server.pem')}: ENOENT`],
    [7, 37, 'api.tls.key', `cannot read ${resolve('tls/server.key')}: ENOENT`],
  ]);
  expectErrors(withTls('{ cert: tls/server.pem, key: tls/server.key }', '  allow-anonymous: true\n'), [
    [8, 20, 'api.allow-anonymous', 'anonymous callers are only allowed on a plain-text loopback API'],
  ], configFile);
  // A broken tls section is not also reported as plain text.
  expectErrors(withTls('{ cert: tls/server.pem }', '  listen: { address: 192.0.2.1 }\n'), [[7, 8, 'api.tls.key', 'required']], configFile);
});

test('api.tokens: one of token or token-file, at least 16 characters, all different, never echoed', () => {
  const tokens = (t: string): string => api(`  tokens:\n    - ${t}\n`); // the token is on line 8, from column 7
  expectErrors(api('  tokens: { ops: x }\n'), [[7, 11, 'api.tokens', 'expected a list of tokens']]);
  expectErrors(tokens('{ token: 0123456789abcdef }'), [[8, 7, 'api.tokens[0].name', 'required']]);
  expectErrors(tokens('{ name: ops }'), [[8, 7, 'api.tokens[0]', 'set one of token (the secret) or token-file (a file holding it)']]);
  expectErrors(tokens('{ name: ops, token: 0123456789abcdef, token-file: ops.token }'), [
    [8, 57, 'api.tokens[0].token-file', 'set only one of token and token-file'],
  ], configFile);
  expectErrors(tokens('{ name: ops, token: secret-short }'), [
    [8, 27, 'api.tokens[0].token', 'the token is 12 characters long: a token needs at least 16'],
  ]);
  assert.ok(!lines(tokens('{ name: ops, token: secret-short }')).join('\n').includes('secret-short'), 'the secret is not echoed');
  expectErrors(tokens('{ name: ops, token: 1234567890123456789 }'), [[8, 27, 'api.tokens[0].token', 'quote it if it looks like a number']]);
  expectErrors(tokens('{ name: ops, token-file: short.token }'), [
    [8, 32, 'api.tokens[0].token-file', `the token in ${join(dir, 'short.token')} is 8 characters long: a token needs at least 16`],
  ], configFile);
  expectErrors(tokens('{ name: ops, token-file: nope.token }'), [
    [8, 32, 'api.tokens[0].token-file', `cannot read ${join(dir, 'nope.token')}: ENOENT`],
  ], configFile);
  expectErrors(api('  tokens:\n    - { name: ops, token-file: ops.token }\n    - { name: ops2, token: 0123456789abcdef-ops }\n'), [
    [9, 28, 'api.tokens[1].token', 'the same token is already used by api.tokens[0] (line 8): every token must be different'],
  ], configFile);
  // Two tokens for one name (rotation) are fine.
  const two = valid(api('  tokens:\n    - { name: ops, token-file: ops.token }\n    - { name: ops, token: 0123456789abcdef-new }\n'), configFile);
  assert.deepEqual(two.api.tokens.map((t) => t.name), ['ops', 'ops']);
});

test('networks and api sections: arbitrary values never throw', () => {
  const value = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.ipV4(),
    fc.integer({ min: -1, max: 2 ** 24 + 1 }),
    fc.constantFrom('blue', 'green', '65000:1', '10.0.0.1:7', '52:54:00:aa:bb:01', true, false),
    fc.array(fc.constantFrom('blue', '65000:1', '10.0.0.1', 'x')),
  );
  const map = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), value);
  const network = map(['name', 'vni', 'evi', 'l3-vni', 'vrf', 'router-mac', 'rd', 'route-targets', 'x']);
  const apiMap = fc.record(
    {
      listen: fc.oneof(fc.boolean(), map(['enabled', 'address', 'port'])),
      agents: fc.oneof(fc.array(map(['name', 'vteps', 'networks']), { maxLength: 3 }), value),
      operators: value,
      tokens: fc.oneof(fc.array(map(['name', 'token']), { maxLength: 3 }), value),
      'allow-anonymous': value,
      'watch-buffer': value,
    },
    { requiredKeys: [] },
  );
  const config = fc.record(
    {
      'router-id': fc.constant('192.0.2.1'),
      asn: fc.oneof(fc.integer({ min: 1, max: 2 ** 32 - 1 }), value),
      networks: fc.oneof(fc.array(network, { maxLength: 4 }), value),
      store: value,
      api: fc.oneof(apiMap, value),
    },
    { requiredKeys: ['router-id'] },
  );
  fc.assert(
    fc.property(config, (c) => {
      let text: string;
      try {
        text = stringify(c);
      } catch {
        return;
      }
      const r = parseConfig(text, 'fuzz.yaml');
      if (r.ok) return;
      for (const e of r.error) {
        assert.ok(e.line >= 1 && e.col >= 1, JSON.stringify(e));
        assert.ok(!e.message.startsWith('internal error'), e.message);
      }
    }),
    { numRuns: 500 },
  );
});

test('networks[].duplicate-detection: N moves, window and freeze in seconds (RFC 7432 §15.1); defaults when absent', () => {
  const c = valid(`${HEAD}networks:\n  - { name: blue, vni: 10100, duplicate-detection: { max-moves: 3, window: 60, freeze: 300 } }\n  - { name: red, vni: 10200 }\n`);
  assert.deepEqual(c.networks[0]!.duplicateDetection, { maxMoves: 3, windowMs: 60_000, freezeMs: 300_000 });
  assert.equal(c.networks[1]!.duplicateDetection, undefined);
  const r = parseConfig(`${HEAD}networks:\n  - { name: blue, vni: 10100, duplicate-detection: { max-moves: 1, windw: 60 } }\n`, 'dup.yaml');
  assert.ok(!r.ok);
  assert.deepEqual(r.error.map((e) => [e.path, e.message.slice(0, 41)]), [
    ['networks[0].duplicate-detection.max-moves', 'expected a number of moves 2..1000, got 1'],
    ['networks[0].duplicate-detection.windw', r.error[1]!.message.slice(0, 41)],
  ]);
  assert.match(r.error[1]!.message, /window/);
});
