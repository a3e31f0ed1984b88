/**
 * vmmictl end to end: a real vmmid (dist/src/cli/vmmid.js) with the API on a
 * free loopback port, plain text, anonymous callers; every command run as its
 * own process, its stdout, stderr and exit code checked.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Pki, makePki } from '../support/pki.js';

const dist = fileURLToPath(new URL('../../src/cli/', import.meta.url));
const VMMICTL = join(dist, 'vmmictl.js');
const VMMID = join(dist, 'vmmid.js');

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Collects a child's output as it comes, for commands that run until stopped. */
class Spawned {
  out = '';
  err = '';
  readonly child: ChildProcess;
  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [VMMICTL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.err += d));
  }
  async exit(): Promise<Run> {
    const code = await exited(this.child);
    return { code, out: this.out, err: this.err };
  }
}

/** A vmmid child process with its API on a free loopback port; `config` gets the port and returns the YAML. */
class Vmmid {
  log = '';
  private constructor(
    readonly api: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.log += d));
  }

  static async start(dir: string, config: (port: number) => string, ready: readonly string[] = []): Promise<Vmmid> {
    const port = await freePort();
    const file = join(dir, `vmmid-${port}.yaml`);
    writeFileSync(file, config(port));
    const child = spawn(process.execPath, [VMMID, '--config', file, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const d = new Vmmid(`127.0.0.1:${port}`, child);
    // Up once a call gets an answer from it (any answer but UNAVAILABLE).
    await until(`vmmid's API on ${d.api}`, async () => {
      if (child.exitCode !== null) throw new Error(`vmmid exited with ${child.exitCode}: ${d.log}`);
      const r = await new Spawned(['--api', d.api, ...ready, 'rib', 'summary']).exit();
      return r.code !== 8 ? true : undefined;
    });
    return d;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await exited(this.child);
  }
}

let daemon: Vmmid | undefined;
let api = '';

function ctl(...args: string[]): Promise<Run> {
  return new Spawned(['--api', api, ...args]).exit();
}

async function ctlJson<T>(...args: string[]): Promise<T> {
  const r = await ctl('--json', ...args);
  assert.equal(r.code, 0, `vmmictl ${args.join(' ')}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const MAC1 = '52:54:00:aa:bb:01';
const MAC2 = '52:54:00:aa:bb:02';
const dir = mkdtempSync(join(tmpdir(), 'vmmictl-'));

before(async () => {
  daemon = await Vmmid.start(dir, (port) =>
    [
      'router-id: 127.0.0.1',
      'asn: 65000',
      'listen: { address: 127.0.0.1, port: 0 }',
      'neighbors:',
      '  - { address: 127.0.0.2, remote-as: 65000, passive: true, families: [l2vpn-evpn], description: never connects }',
      'networks:',
      '  - { name: blue, vni: 10100 }',
      'api:',
      `  listen: { address: 127.0.0.1, port: ${port} }`,
      '  agents:',
      '    - { name: local, vteps: [10.0.0.21, 10.0.0.22], networks: [blue] }',
      '',
    ].join('\n'),
  );
  api = daemon.api;
});

after(async () => {
  await daemon?.stop();
});

interface RouteJson {
  family: string;
  prefix: string;
  best: boolean;
  source: string;
  evpn: { routeType: number; mac: string; ip: string; rd: string } | null;
  attributes: { nextHop: string; extendedCommunities: string[] } | null;
}

describe('vmmictl against a running vmmid', () => {
  test('vm announce prints the sequence, changed, previous VTEP and the routes originated', async () => {
    const r = await ctl('vm', 'announce', '--network', 'blue', '--mac', '52-54-00-AA-BB-01', '--ip', '10.1.0.5', '--ip', '10.1.0.6', '--vtep', '10.0.0.21');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const lines = r.out.split('\n');
    assert.match(lines[0]!, /^sequence\s+0$/);
    assert.match(lines[1]!, /^changed\s+yes$/);
    assert.match(lines[2]!, /^previous VTEP\s+-$/);
    assert.match(lines[3]!, /^routes\s+4$/);
    assert.equal(lines[4], '');
    assert.match(lines[5]!, /^S\s+PREFIX\s+NEXT HOP\s+SOURCE\s+LABELS\s+AS PATH\s+ATTRIBUTES$/);
    const rows = lines.slice(6).filter((l) => l !== '');
    assert.equal(rows.length, 4);
    for (const row of rows) assert.match(row, /^\*>\s+RD 10\.0\.0\.21:10100 \[[23]\].*\s10\.0\.0\.21\s+local\s/);
    assert.ok(rows.some((l) => l.includes(`[${MAC1}]:[32]:[10.1.0.6]`) && l.includes('mac-mobility:0')), r.out);
    // Columns line up: every row's NEXT HOP starts where the header's does.
    const at = lines[5]!.indexOf('NEXT HOP');
    for (const row of rows) assert.equal(row.slice(at, at + 9), '10.0.0.21', row);
  });

  test('vm announce --json: a move to another VTEP raises the sequence and names the previous VTEP; a repeat changes nothing', async () => {
    type Res = { sequence: number; changed: boolean; previousVtep: string; routes: RouteJson[] };
    const moved = await ctlJson<Res>('vm', 'announce', '--vni', '10100', '--mac', MAC1, '--ip', '10.1.0.5', '--ip', '10.1.0.6', '--vtep', '10.0.0.22');
    assert.equal(moved.sequence, 1);
    assert.equal(moved.changed, true);
    assert.equal(moved.previousVtep, '10.0.0.21');
    assert.ok(moved.routes.length >= 3);
    assert.ok(moved.routes.every((r) => r.family === 'l2vpn-evpn' && r.attributes?.nextHop === '10.0.0.22'));
    assert.ok(!JSON.stringify(moved).includes('"_'), 'no synthetic oneof keys in JSON');
    const again = await ctlJson<Res>('vm', 'announce', '--network', 'blue', '--mac', MAC1, '--ip', '10.1.0.5', '--ip', '10.1.0.6', '--vtep', '10.0.0.22');
    assert.equal(again.changed, false);
    assert.equal(again.sequence, 1);
  });

  test('vm list: a table, --json array, --network and --vtep filters', async () => {
    const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', MAC2, '--vtep', '10.0.0.21', '--vm-id', 'vm-two');
    assert.equal(a.code, 0, a.err);
    const r = await ctl('vm', 'list');
    assert.equal(r.code, 0, r.err);
    const [header, ...rows] = r.out.trimEnd().split('\n');
    assert.match(header!, /^VM ID\s+NETWORK\s+VNI\s+MAC\s+IPS\s+VTEP\s+SEQ\s+AGENT\s+AGE$/);
    assert.equal(rows.length, 2);
    const one = rows.find((l) => l.startsWith(MAC1));
    assert.ok(one, r.out);
    assert.match(one, new RegExp(`^${MAC1}\\s+blue\\s+10100\\s+${MAC1}\\s+10\\.1\\.0\\.5,10\\.1\\.0\\.6\\s+10\\.0\\.0\\.22\\s+1\\s+\\S+\\s+\\d+s$`));
    assert.ok(rows.some((l) => /^vm-two\s+blue\s+10100\s+52:54:00:aa:bb:02\s+-\s+10\.0\.0\.21\s+0\s/.test(l)), r.out);

    type Vm = { vmId: string; network: string; vni: number; mac: string; ips: string[]; vtep: string; sequence: number };
    const all = await ctlJson<Vm[]>('vm', 'list');
    assert.ok(Array.isArray(all));
    assert.deepEqual(all.map((v) => v.vmId).sort(), [MAC1, 'vm-two']);
    const at21 = await ctlJson<Vm[]>('vm', 'list', '--vtep', '10.0.0.21');
    assert.deepEqual(at21.map((v) => v.vmId), ['vm-two']);
    const blue = await ctlJson<Vm[]>('vm', 'list', '--network', 'blue');
    assert.equal(blue.length, 2);
  });

  test('rib: the Loc-RIB as a table, filters, -a, --best, --table and --json', async () => {
    const r = await ctl('rib');
    assert.equal(r.code, 0, r.err);
    const [header, ...rows] = r.out.trimEnd().split('\n');
    assert.match(header!, /^S\s+PREFIX\s+NEXT HOP\s+SOURCE/);
    // MAC1 at .22: MAC + 2 MAC/IP + type 3; MAC2 at .21: MAC + type 3.
    assert.equal(rows.length, 6, r.out);

    const all = await ctlJson<RouteJson[]>('rib');
    assert.equal(all.length, 6);
    const byMac = await ctlJson<RouteJson[]>('rib', '--mac', MAC1);
    assert.equal(byMac.length, 3);
    assert.ok(byMac.every((x) => x.evpn?.mac === MAC1));
    const type3 = await ctlJson<RouteJson[]>('rib', '--type', '3');
    assert.deepEqual(type3.map((x) => x.attributes?.nextHop).sort(), ['10.0.0.21', '10.0.0.22']);
    const byIp = await ctlJson<RouteJson[]>('rib', '--ip', '10.1.0.6', '--best');
    assert.equal(byIp.length, 1);
    assert.equal(byIp[0]?.evpn?.ip, '10.1.0.6');
    assert.equal(byIp[0]?.best, true);
    const byPrefix = await ctlJson<RouteJson[]>('rib', '--ip', '10.1.0.0/24');
    assert.equal(byPrefix.length, 2);
    const byRd = await ctlJson<RouteJson[]>('rib', '--rd', '10.0.0.21:10100', '--rt', '65000:10100', '--vni', '10100', '-a', 'evpn');
    assert.equal(byRd.length, 2);
    assert.ok(byRd.every((x) => x.evpn?.rd === '10.0.0.21:10100'));
    const none = await ctlJson<RouteJson[]>('rib', '--rt', '65000:1');
    assert.deepEqual(none, []);
    const v4 = await ctlJson<RouteJson[]>('rib', '-a', 'ipv4');
    assert.deepEqual(v4, []);
    const out = await ctl('rib', '--table', 'adj-out', '--peer', '127.0.0.2');
    assert.equal(out.code, 0, out.err);
    assert.match(out.out, /^S\s+PREFIX/);
    const filtered = await ctl('rib', '--mac', MAC2, '--type', '2');
    assert.equal(filtered.code, 0, filtered.err);
    assert.equal(filtered.out.trimEnd().split('\n').length, 2, filtered.out);
    assert.ok(filtered.out.includes(`[${MAC2}]`));
  });

  test('rib summary: per family and per neighbour, table and --json', async () => {
    const r = await ctl('rib', 'summary');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^FAMILY\s+DESTINATIONS\s+PATHS\nl2vpn-evpn\s+6\s+6\n/);
    assert.match(r.out, /\nNEIGHBOR\s+STATE\s+RECEIVED\s+ADVERTISED\n127\.0\.0\.2\s+\w+\s/);
    type Summary = { families: { family: string; destinations: string; paths: string }[]; peers: { address: string }[] };
    const s = await ctlJson<Summary>('rib', 'summary');
    assert.deepEqual(s.families, [{ family: 'l2vpn-evpn', destinations: '6', paths: '6' }]);
    assert.deepEqual(s.peers.map((p) => p.address), ['127.0.0.2']);
  });

  test('vm withdraw: the routes withdrawn; the VM is gone', async () => {
    const r = await ctl('vm', 'withdraw', '--network', 'blue', '--mac', MAC2, '--vm-id', 'vm-two');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^routes withdrawn\s+2\n\nS\s+PREFIX/);
    assert.ok(r.out.includes(`[${MAC2}]`));
    const left = await ctlJson<{ vmId: string }[]>('vm', 'list');
    assert.deepEqual(left.map((v) => v.vmId), [MAC1]);
    const j = await ctlJson<{ routes: RouteJson[] }>('vm', 'withdraw', '--vni', '10100', '--mac', MAC1);
    assert.equal(j.routes.length, 4);
    assert.deepEqual(await ctlJson<unknown[]>('vm', 'list'), []);
  });

  test('neighbor: the table, one neighbour in detail, and --json', async () => {
    const r = await ctl('neighbor');
    assert.equal(r.code, 0, r.err);
    const [header, row, ...rest] = r.out.trimEnd().split('\n');
    assert.match(header!, /^NEIGHBOR\s+AS\s+STATE\s+UP\/DOWN\s+RECEIVED\s+ADVERTISED\s+DESCRIPTION$/);
    assert.match(row!, /^127\.0\.0\.2\s+65000\s+(Idle|Connect|Active)\s+\d+[smhd]\S*\s+0\s+\d+\s+never connects$/);
    assert.deepEqual(rest, []);

    const d = await ctl('neighbor', '127.0.0.2');
    assert.equal(d.code, 0, d.err);
    assert.match(d.out, /^neighbor\s+127\.0\.0\.2$/m);
    assert.match(d.out, /^remote AS\s+65000$/m);
    assert.match(d.out, /^families\s+l2vpn-evpn$/m);
    assert.match(d.out, /^passive\s+yes$/m);
    assert.match(d.out, /^description\s+never connects$/m);

    type Peer = { address: string; remoteAs: number; passive: boolean; families: string[] };
    const list = await ctlJson<Peer[]>('neighbor');
    assert.deepEqual(list.map((p) => p.address), ['127.0.0.2']);
    const one = await ctlJson<Peer>('neighbor', '127.0.0.2');
    assert.equal(one.remoteAs, 65000);
    assert.equal(one.passive, true);
  });

  test('neighbor add, reset, delete, with their errors', async () => {
    const add = await ctl('neighbor', 'add', '127.0.0.3', '--remote-as', '65000', '--families', 'evpn', 'ipv4', '--passive', '--rr-client', '--description', 'added');
    assert.equal(add.code, 0, add.err);
    assert.match(add.out, /^neighbor\s+127\.0\.0\.3$/m);
    assert.match(add.out, /^families\s+l2vpn-evpn, ipv4-unicast$/m);
    assert.match(add.out, /^route reflector client\s+yes$/m);
    const peers = await ctlJson<{ address: string }[]>('neighbor');
    assert.deepEqual(peers.map((p) => p.address).sort(), ['127.0.0.2', '127.0.0.3']);

    const dup = await ctl('neighbor', 'add', '127.0.0.3', '--remote-as', '65000');
    assert.equal(dup.code, 5, dup.err);
    assert.match(dup.err, /^vmmictl: ALREADY_EXISTS: /);

    const hard = await ctl('neighbor', 'reset', '127.0.0.3');
    assert.equal(hard.code, 0, hard.err);
    assert.equal(hard.out, 'neighbor 127.0.0.3: hard reset done\n');
    const soft = await ctl('neighbor', 'reset', '127.0.0.3', '--soft', 'in');
    assert.equal(soft.code, 7, soft.err);
    assert.match(soft.err, /^vmmictl: FAILED_PRECONDITION: .*Established/);

    const del = await ctl('neighbor', 'delete', '127.0.0.3');
    assert.equal(del.code, 0, del.err);
    assert.equal(del.out, 'neighbor 127.0.0.3 deleted\n');
    const gone = await ctl('neighbor', '127.0.0.3');
    assert.equal(gone.code, 4);
    assert.match(gone.err, /^vmmictl: NOT_FOUND: /);
    const again = await ctl('--json', 'neighbor', 'delete', '127.0.0.3');
    assert.equal(again.code, 4);
    assert.equal(again.out, '');
  });

  test('watch mobility prints one line per event until SIGINT, then exits 0', async () => {
    const w = new Spawned(['--api', api, 'watch', 'mobility', '--network', 'blue']);
    // The watch is subscribed some time after the process starts: announce until it sees an arrival.
    const mac = '52:54:00:aa:bb:10';
    const line = await until('an ARRIVAL line', async () => {
      const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--ip', '10.1.0.10', '--vtep', '10.0.0.21', '--vm-id', 'watched');
      assert.equal(a.code, 0, a.err);
      const found = w.out.split('\n').find((l) => l.includes('ARRIVAL'));
      if (found === undefined) await ctl('vm', 'withdraw', '--network', 'blue', '--mac', mac);
      return found;
    });
    assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z  ARRIVAL    blue \\(vni 10100\\)  mac ${mac}  vm watched  - -> 10\\.0\\.0\\.21  seq \\d+  ips 10\\.1\\.0\\.10  by \\S+$`));
    const m = await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--ip', '10.1.0.10', '--vtep', '10.0.0.22', '--vm-id', 'watched');
    assert.equal(m.code, 0, m.err);
    await until('a MOVE line', () => (w.out.includes('MOVE') ? true : undefined));
    assert.match(w.out, /  MOVE {7}blue \(vni 10100\)  mac 52:54:00:aa:bb:10  vm watched  10\.0\.0\.21 -> 10\.0\.0\.22  seq/);
    w.child.kill('SIGINT');
    const r = await w.exit();
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
  });

  test('watch mobility --json and watch routes --initial --json print JSON lines', async () => {
    const mob = new Spawned(['--api', api, '--json', 'watch', 'mobility']);
    const routes = new Spawned(['--api', api, '--json', 'watch', 'routes', '-a', 'evpn', '--mac', '52:54:00:aa:bb:10', '--initial']);
    // --initial: the current best paths of the watched VM come first, without any change.
    await until('the initial routes', () => (routes.out.split('\n').length >= 3 ? true : undefined));
    const mac = '52:54:00:aa:bb:10';
    await until('a DEPARTURE event', async () => {
      await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--vtep', '10.0.0.21', '--vm-id', 'watched');
      await ctl('vm', 'withdraw', '--network', 'blue', '--mac', mac);
      return mob.out.includes('"DEPARTURE"') ? true : undefined;
    });
    await until('a withdrawn route', () => (routes.out.includes('"withdrawn":true') ? true : undefined));
    mob.child.kill('SIGINT');
    routes.child.kill('SIGINT');
    const [m, r] = await Promise.all([mob.exit(), routes.exit()]);
    assert.equal(m.code, 0, m.err);
    assert.equal(r.code, 0, r.err);

    const events = m.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string; mac: string; network: string });
    assert.ok(events.every((e) => e.network === 'blue'));
    assert.ok(events.some((e) => e.kind === 'DEPARTURE' && e.mac === mac));
    type RouteEvent = { route: RouteJson; withdrawn: boolean; time: { seconds: string } };
    const changes = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as RouteEvent);
    assert.ok(changes.every((e) => e.route.evpn?.mac === mac));
    assert.equal(changes[0]?.withdrawn, false);
    assert.equal(changes[0]?.route.attributes?.nextHop, '10.0.0.22', 'the initial best path of the watched VM');
    assert.ok(changes.some((e) => e.withdrawn));
  });

  test('exit codes: INVALID_ARGUMENT 3, NOT_FOUND 4, usage 1, UNAVAILABLE 8, with the status on stderr', async () => {
    const bad = await ctl('vm', 'announce', '--network', 'blue', '--mac', 'zz:zz', '--vtep', '10.0.0.21');
    assert.equal(bad.code, 3);
    assert.match(bad.err, /^vmmictl: INVALID_ARGUMENT: mac: .*\n$/);
    assert.equal(bad.out, '');
    const badFilter = await ctl('rib', '--rd', 'bogus');
    assert.equal(badFilter.code, 3);
    assert.match(badFilter.err, /^vmmictl: INVALID_ARGUMENT: filter\.rd: /);

    const net = await ctl('vm', 'announce', '--network', 'red', '--mac', MAC1, '--vtep', '10.0.0.21');
    assert.equal(net.code, 4);
    assert.match(net.err, /^vmmictl: NOT_FOUND: network "red"/);
    const vm = await ctl('vm', 'withdraw', '--network', 'blue', '--mac', '52:54:00:aa:bb:99');
    assert.equal(vm.code, 4);
    assert.match(vm.err, /^vmmictl: NOT_FOUND: /);
    const listNet = await ctl('vm', 'list', '--network', 'red');
    assert.equal(listNet.code, 4);

    const noNet = await ctl('vm', 'announce', '--mac', MAC1, '--vtep', '10.0.0.21');
    assert.equal(noNet.code, 1);
    assert.match(noNet.err, /needs --network NAME or --vni N/);
    const both = await ctl('vm', 'announce', '--network', 'blue', '--vni', '10100', '--mac', MAC1, '--vtep', '10.0.0.21');
    assert.equal(both.code, 1);
    const noMac = await ctl('vm', 'withdraw', '--network', 'blue');
    assert.equal(noMac.code, 1);
    const badFamily = await ctl('rib', '-a', 'ipx');
    assert.equal(badFamily.code, 1);
    const noPeer = await ctl('rib', '--table', 'adj-in');
    assert.equal(noPeer.code, 1);
    assert.match(noPeer.err, /--table adj-in needs --peer/);
    const unknown = await ctl('frobnicate');
    assert.equal(unknown.code, 1);
    const noToken = await ctl('--token-file', '/nonexistent/token', 'neighbor');
    assert.equal(noToken.code, 1);
    assert.match(noToken.err, /^vmmictl: --token-file \/nonexistent\/token: /);

    for (const args of [['neighbor'], ['rib'], ['watch', 'mobility'], ['vm', 'list']]) {
      const down = await new Spawned(['--api', '127.0.0.1:1', ...args]).exit();
      assert.equal(down.code, 8, `${args.join(' ')}: ${down.err}`);
      assert.match(down.err, /^vmmictl: UNAVAILABLE: .*\(vmmid API at 127\.0\.0\.1:1\)\n$/);
    }
  });

  test('VMMI_API names the API when --api is not given', async () => {
    const child = spawn(process.execPath, [VMMICTL, '--json', 'neighbor'], { env: { ...process.env, VMMI_API: api }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    assert.equal(await exited(child), 0);
    assert.equal((JSON.parse(out) as unknown[]).length, 1);
  });
});

describe('vmmictl with TLS: mTLS, --server-name, bearer tokens', () => {
  const OPS_TOKEN = 'ops-token-0123456789abcdef';
  const HV1_TOKEN = 'hv1-token-0123456789abcdef';
  let pki: Pki;
  let mtls: Vmmid | undefined;
  let tokens: Vmmid | undefined;
  let opsTokenFile = '';
  const NAME = ['--server-name', 'vmmi.example'];

  const body = (port: number, tls: string, extra: readonly string[]): string =>
    [
      'router-id: 127.0.0.1',
      'asn: 65000',
      'listen: false',
      'networks:',
      '  - { name: blue, vni: 10100 }',
      'api:',
      `  listen: { address: 127.0.0.1, port: ${port} }`,
      `  tls: ${tls}`,
      '  agents:',
      '    - { name: hv1, vteps: [10.0.0.21], networks: [blue] }',
      '    - { name: hv2, vteps: [10.0.0.22], networks: [blue] }',
      '  operators: [ops]',
      ...extra,
      '',
    ].join('\n');

  before(async () => {
    const tlsDir = join(dir, 'pki');
    // The server certificate names only vmmi.example: connecting to 127.0.0.1 needs --server-name.
    pki = await makePki(tlsDir, ['ops', 'hv1'], { serverSans: ['DNS:vmmi.example'], serverCn: 'vmmi.example' });
    const ops = pki.clients['ops']!;
    mtls = await Vmmid.start(
      dir,
      (port) => body(port, `{ cert: ${pki.serverCert}, key: ${pki.serverKey}, client-ca: ${pki.ca} }`, []),
      ['--ca', pki.ca, '--cert', ops.cert, '--key', ops.key, ...NAME],
    );
    opsTokenFile = join(dir, 'ops.token');
    writeFileSync(opsTokenFile, `${OPS_TOKEN}\n`);
    tokens = await Vmmid.start(
      dir,
      (port) =>
        body(port, `{ cert: ${pki.serverCert}, key: ${pki.serverKey} }`, [
          '  tokens:',
          `    - { name: ops, token-file: ${opsTokenFile} }`,
          `    - { name: hv1, token: ${HV1_TOKEN} }`,
        ]),
      ['--ca', pki.ca, '--token', OPS_TOKEN, ...NAME],
    );
  });

  after(async () => {
    await Promise.all([mtls?.stop(), tokens?.stop()]);
  });

  const run = (d: Vmmid | undefined, ...args: string[]): Promise<Run> => new Spawned(['--api', d!.api, '--ca', pki.ca, ...args]).exit();
  const asClient = (name: string): string[] => ['--cert', pki.clients[name]!.cert, '--key', pki.clients[name]!.key];

  test('mTLS: an operator certificate may use the ControlService, an agent one only its own VTEPs', async () => {
    const ops = await run(mtls, ...asClient('ops'), ...NAME, '--json', 'neighbor');
    assert.equal(ops.code, 0, ops.err);
    assert.deepEqual(JSON.parse(ops.out), []);

    const hv1 = await run(mtls, ...asClient('hv1'), ...NAME, 'neighbor');
    assert.equal(hv1.code, 6, hv1.err);
    assert.match(hv1.err, /^vmmictl: PERMISSION_DENIED: hv1 is not an operator/);
    const own = await run(mtls, ...asClient('hv1'), ...NAME, 'vm', 'announce', '--network', 'blue', '--mac', MAC1, '--vtep', '10.0.0.21');
    assert.equal(own.code, 0, own.err);
    const other = await run(mtls, ...asClient('hv1'), ...NAME, 'vm', 'announce', '--network', 'blue', '--mac', MAC2, '--vtep', '10.0.0.22');
    assert.equal(other.code, 6, other.err);
    assert.match(other.err, /^vmmictl: PERMISSION_DENIED: /);
  });

  test('TLS: without --server-name the certificate does not match 127.0.0.1 (UNAVAILABLE); --cert alone is a usage error', async () => {
    const noName = await run(mtls, ...asClient('ops'), 'neighbor');
    assert.equal(noName.code, 8, noName.err);
    assert.match(noName.err, /^vmmictl: UNAVAILABLE: /);
    const noCa = await new Spawned(['--api', mtls!.api, ...asClient('ops'), 'neighbor']).exit();
    assert.equal(noCa.code, 1);
    assert.match(noCa.err, /^vmmictl: --cert\/--key need --ca/);
  });

  test('bearer tokens: --token and --token-file authenticate; none or a wrong one is UNAUTHENTICATED (exit 6)', async () => {
    const byFile = await run(tokens, ...NAME, '--token-file', opsTokenFile, 'neighbor');
    assert.equal(byFile.code, 0, byFile.err);
    assert.match(byFile.out, /^NEIGHBOR\s+AS\s+STATE/);
    const byToken = await run(tokens, ...NAME, '--token', OPS_TOKEN, '--json', 'rib', 'summary');
    assert.equal(byToken.code, 0, byToken.err);
    const agent = await run(tokens, ...NAME, '--token', HV1_TOKEN, 'vm', 'announce', '--network', 'blue', '--mac', MAC1, '--vtep', '10.0.0.21');
    assert.equal(agent.code, 0, agent.err);
    const agentControl = await run(tokens, ...NAME, '--token', HV1_TOKEN, 'rib');
    assert.equal(agentControl.code, 6, agentControl.err);

    const none = await run(tokens, ...NAME, 'neighbor');
    assert.equal(none.code, 6, none.err);
    assert.match(none.err, /^vmmictl: UNAUTHENTICATED: /);
    const wrong = await run(tokens, ...NAME, '--token', 'not-the-token-0123456789', 'neighbor');
    assert.equal(wrong.code, 6, wrong.err);
    assert.match(wrong.err, /^vmmictl: UNAUTHENTICATED: /);
    const both = await run(tokens, ...NAME, '--token', OPS_TOKEN, '--token-file', opsTokenFile, 'neighbor');
    assert.equal(both.code, 1);
  });
});
