import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatConfigErrors, parseConfig, type ConfigError } from '../../src/config/index.js';

function errorsOf(text: string): ConfigError[] {
  const r = parseConfig(text, 'vmmid.yaml');
  assert.ok(!r.ok, 'expected the config to be rejected');
  return r.error;
}

const lines = (text: string): string[] => formatConfigErrors(errorsOf(text)).split('\n');

/** Asserts exactly one error, at `line`, on `path`, whose message matches. */
function one(text: string, line: number, path: string, message: RegExp): void {
  const errs = errorsOf(text);
  assert.equal(errs.length, 1, formatConfigErrors(errs));
  const [e] = errs;
  assert.equal(e?.line, line, formatConfigErrors(errs));
  assert.equal(e?.path, path);
  assert.match(e?.message ?? '', message);
}

const HEAD = 'router-id: 127.0.1.1\nasn: 65000\n';
const neighbor = (fields: string): string => `${HEAD}neighbors:\n  - address: 127.0.1.2\n    remote-as: 65000\n${fields}`;
const route = (fields: string): string => `${HEAD}originate:\n  - ${fields}\n`;

test('exact messages for common mistakes', () => {
  assert.deepEqual(lines(`${HEAD}neighbors:\n  - address: 127.0.1.2\n    remote-as: abc\n`), [
    'vmmid.yaml:5:16: neighbors[0].remote-as: expected an AS number 1..4294967295, got "abc"',
  ]);
  assert.deepEqual(lines(`${HEAD}hold-time: 1\n`), [
    'vmmid.yaml:3:12: hold-time: expected a hold time of 0 or 3..65535 seconds, got 1 (RFC 4271 §4.2 forbids 1 and 2)',
  ]);
  assert.deepEqual(lines(route('{ family: ipv4-unicast, prefix: 10.10.0.1/24 }')), [
    'vmmid.yaml:4:37: originate[0].prefix: host bits must be zero, got "10.10.0.1/24" (did you mean 10.10.0.0/24?)',
  ]);
  assert.deepEqual(lines(neighbor('    remote_as: 1\n')), ['vmmid.yaml:6:5: neighbors[0].remote_as: unknown key, did you mean "remote-as"?']);
  assert.deepEqual(lines('asn: 65000\n'), ['vmmid.yaml:1:1: router-id: required, expected a non-zero IPv4 address like 192.0.2.1']);
});

test('all errors are reported, in file order', () => {
  const text = `router-id: 300.1.1.1
asn: 0
hold-time: 2
log-level: loud
neighbors:
  - address: nope
    remote-as: -1
    holdtime: 90
originate:
  - { prefix: 10.0.0.0/33 }
`;
  const errs = errorsOf(text);
  assert.deepEqual(
    errs.map((e) => [e.line, e.path]),
    [
      [1, 'router-id'],
      [2, 'asn'],
      [3, 'hold-time'],
      [4, 'log-level'],
      [6, 'neighbors[0].address'],
      [7, 'neighbors[0].remote-as'],
      [8, 'neighbors[0].holdtime'],
      [10, 'originate[0].prefix'],
    ],
  );
  assert.match(errs[7]?.message ?? '', /length must be 0\.\.32/);
});

test('hold time: 1 and 2 rejected, 0 and 3 accepted', () => {
  one(neighbor('    hold-time: 1\n'), 6, 'neighbors[0].hold-time', /0 or 3\.\.65535.*got 1 .*RFC 4271/);
  one(neighbor('    hold-time: 2\n'), 6, 'neighbors[0].hold-time', /got 2/);
  one(neighbor('    hold-time: 65536\n'), 6, 'neighbors[0].hold-time', /got 65536$/);
  assert.ok(parseConfig(neighbor('    hold-time: 0\n'), 'x').ok);
  assert.ok(parseConfig(neighbor('    hold-time: 3\n'), 'x').ok);
});

test('duplicate neighbor points at the second one and names the first', () => {
  const text = `${HEAD}neighbors:\n  - { address: 127.0.1.2, remote-as: 1 }\n  - { address: 2001:db8::1, remote-as: 1 }\n  - { address: 127.0.1.2, remote-as: 2 }\n  - { address: "2001:DB8::0:1", remote-as: 1 }\n`;
  assert.deepEqual(lines(text), [
    'vmmid.yaml:6:16: neighbors[2].address: duplicate neighbor 127.0.1.2, already configured at neighbors[0] (line 4)',
    'vmmid.yaml:7:16: neighbors[3].address: duplicate neighbor 2001:db8::1, already configured at neighbors[1] (line 5)',
  ]);
});

test('unknown keys suggest the nearest known key, or list them', () => {
  one(`${HEAD}neighbours: []\n`, 3, 'neighbours', /did you mean "neighbors"\?/);
  one(`${HEAD}holdTime: 90\n`, 3, 'holdTime', /did you mean "hold-time"\?/);
  one(neighbor('    localAddress: 127.0.1.1\n'), 6, 'neighbors[0].localAddress', /did you mean "local-address"\?/);
  one(`${HEAD}listen: { adress: 127.0.0.1 }\n`, 3, 'listen.adress', /did you mean "address"\?/);
  one(`${HEAD}colour: blue\n`, 3, 'colour', /^unknown key; known keys: router-id, asn, listen/);
});

test('YAML syntax errors carry file, line and column', () => {
  const errs = errorsOf(`${HEAD}neighbors: [\n  { address: 1.2.3.4\n`);
  assert.ok(errs.length >= 1);
  assert.ok(errs.every((e) => e.file === 'vmmid.yaml' && e.line >= 3 && e.col >= 1 && e.message.startsWith('invalid YAML: ')));
  assert.deepEqual(lines(`${HEAD}asn: 1\n`), ['vmmid.yaml:3:1: invalid YAML: Map keys must be unique']);
  one('a:\n\t- 1\n', 2, '', /^invalid YAML: .*[Tt]ab/);
  // Deep nesting makes the parser repeat itself thousands of times; the operator gets a screenful.
  assert.ok(errorsOf('['.repeat(5000)).length <= 11);
});

test('wrong types and ranges', () => {
  one(`${HEAD}listen: { port: 65536 }\n`, 3, 'listen.port', /expected a port 0\.\.65535 \(0 = ephemeral\), got 65536/);
  one(`${HEAD}listen: yes\n`, 3, 'listen', /got "yes"/);
  one(`${HEAD}connect-retry: 0\n`, 3, 'connect-retry', /1\.\.65535 seconds, got 0/);
  one(`${HEAD}neighbors: { address: 1.1.1.1 }\n`, 3, 'neighbors', /expected a list of neighbors, got a mapping/);
  one(`${HEAD}neighbors:\n  - 127.0.1.2\n`, 4, 'neighbors[0]', /expected a mapping, got "127.0.1.2"/);
  one(neighbor('    port: 0\n'), 6, 'neighbors[0].port', /1\.\.65535/);
  one(neighbor('    passive: "no"\n'), 6, 'neighbors[0].passive', /expected true or false, got "no"/);
  one(neighbor('    remote-as: 4294967296\n').replace('    remote-as: 65000\n', ''), 5, 'neighbors[0].remote-as', /got 4294967296/);
  one(neighbor('    description: 42\n'), 6, 'neighbors[0].description', /expected a string, got 42/);
  one(neighbor(`    shutdown-message: "${'é'.repeat(128)}"\n`), 6, 'neighbors[0].shutdown-message', /255 UTF-8 bytes.*\(256 bytes\)$/);
  one(`${HEAD}neighbors:\n  - address: 127.0.1.2\n`, 4, 'neighbors[0].remote-as', /^required, expected an AS number/);
  one(`${HEAD}neighbors:\n  - address: 127.0.1.2\n    remote-as:\n`, 5, 'neighbors[0].remote-as', /got an empty value/);
  one('router-id: 0.0.0.0\nasn: 1\n', 1, 'router-id', /non-zero IPv4/);
  one('router-id: ::1\nasn: 1\n', 1, 'router-id', /got "::1"/);
});

test('families: unknown, duplicate, empty', () => {
  one(neighbor('    families: [ipv4-unicast, evpn]\n'), 6, 'neighbors[0].families[1]', /got "evpn"/);
  one(neighbor('    families: [l2vpn-evpm]\n'), 6, 'neighbors[0].families[0]', /did you mean "l2vpn-evpn"\?/);
  one(neighbor('    families: [ipv4-unicast, ipv4-unicast]\n'), 6, 'neighbors[0].families[1]', /^duplicate family "ipv4-unicast"$/);
  one(neighbor('    families: []\n'), 6, 'neighbors[0].families', /non-empty list.*got an empty list/);
});

test('address families must agree', () => {
  one(neighbor('    local-address: ::1\n'), 6, 'neighbors[0].local-address', /IPv4 address .*same family as address 127\.0\.1\.2.*got "::1"/);
  one(neighbor('    local-address: fe80::1%eth0\n'), 6, 'neighbors[0].local-address', /zone indexes are not supported/);
  one(route('{ family: ipv6-unicast, prefix: 10.0.0.0/8 }'), 4, 'originate[0].prefix', /IPv6 prefix .*family ipv6-unicast.*got "10\.0\.0\.0\/8"/);
  one(route('{ family: ipv4-unicast, prefix: 10.0.0.0/8, next-hop: "2001:db8::1" }'), 4, 'originate[0].next-hop', /same family as prefix 10\.0\.0\.0\/8/);
  one(route('{ family: l2vpn-evpn, prefix: 10.0.0.0/8 }'), 4, 'originate[0].family', /ipv4-unicast or ipv6-unicast, got "l2vpn-evpn"/);
  one(route('{ prefix: "2001:db8::1/64" }'), 4, 'originate[0].prefix', /host bits must be zero.*did you mean 2001:db8::\/64\?/);
});

test('originate attributes', () => {
  one(route('{ prefix: 10.0.0.0/8, communities: ["65536:1"] }'), 4, 'originate[0].communities[0]', /AS:value/);
  one(route('{ prefix: 10.0.0.0/8, communities: "65000:1" }'), 4, 'originate[0].communities', /a list of communities/);
  one(route('{ prefix: 10.0.0.0/8, origin: IGP }'), 4, 'originate[0].origin', /did you mean "igp"\?/);
  one(route('{ prefix: 10.0.0.0/8, as-path: [65001, 0] }'), 4, 'originate[0].as-path[1]', /AS number.*got 0/);
  one(route('{ prefix: 10.0.0.0/8, med: -1 }'), 4, 'originate[0].med', /0\.\.4294967295, got -1/);
  one(route('{ prefix: 10.0.0.0/8, local-pref: 1.5 }'), 4, 'originate[0].local-pref', /got 1\.5/);
  one(`${HEAD}originate:\n  - { prefix: 10.0.0.0/8 }\n  - { prefix: 10.0.0.0/8 }\n`, 5, 'originate[1].prefix', /duplicate prefix 10\.0\.0\.0\/8, already originated at originate\[0\] \(line 4\)/);
  one(`${HEAD}originate:\n  - { next-hop: 1.1.1.1 }\n`, 4, 'originate[0].prefix', /^required/);
});

test('top level must be a mapping; an empty file names the required keys', () => {
  one('- a\n', 1, '', /expected a mapping, got a list/);
  assert.deepEqual(lines('').map((l) => l.replace(/,.*$/, '')), ['vmmid.yaml:1:1: router-id: required', 'vmmid.yaml:1:1: asn: required']);
});
