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
      // Duplicate detection after two moves, for `vm clear-duplicate`.
      '  - { name: green, vni: 10200, duplicate-detection: { max-moves: 2, window: 600 } }',
      'api:',
      `  listen: { address: 127.0.0.1, port: ${port} }`,
      '  agents:',
      '    - { name: local, vteps: [10.0.0.21, 10.0.0.22], networks: [blue, green] }',
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
    assert.match(header!, /^VM ID\s+NETWORK\s+VNI\s+MAC\s+IPS\s+VTEP\s+SEQ\s+STICKY\s+AGENT\s+AGE$/);
    assert.equal(rows.length, 2);
    const one = rows.find((l) => l.startsWith(MAC1));
    assert.ok(one, r.out);
    assert.match(one, new RegExp(`^${MAC1}\\s+blue\\s+10100\\s+${MAC1}\\s+10\\.1\\.0\\.5,10\\.1\\.0\\.6\\s+10\\.0\\.0\\.22\\s+1\\s+no\\s+\\S+\\s+\\d+s$`));
    assert.ok(rows.some((l) => /^vm-two\s+blue\s+10100\s+52:54:00:aa:bb:02\s+-\s+10\.0\.0\.21\s+0\s+no\s/.test(l)), r.out);

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

  // Mobility beyond announce/withdraw. Each test has MACs of its own, so they
  // run side by side (the migration steps in order), against the same vmmid.
  describe('sticky MACs, ARP/ND resolution, duplicates, migrations', { concurrency: true }, () => {
    type VmJson = { vmId: string; mac: string; vtep: string; sequence: number; sticky: boolean };
    type MigrationJson = { id: string; state: string; network: string; mac: string; vmId: string; sourceVtep: string; targetVtep: string; reason: string };

    /** The "key  value" lines of a fields block, as a map. */
    const fields = (text: string): Map<string, string> =>
      new Map(text.split('\n').filter((l) => l !== '').map((l) => {
        const m = /^(\S+(?: \S+)*?)\s{2,}(.*)$/.exec(l);
        return [m?.[1] ?? l, m?.[2] ?? ''] as const;
      }));

    test('vm announce --sticky: STICKY in vm list; announcing it at another VTEP is FAILED_PRECONDITION (exit 7), so is migrating it', async () => {
      const mac = '52:54:00:aa:bb:20';
      const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--vtep', '10.0.0.21', '--sticky');
      assert.equal(a.code, 0, a.err);
      assert.ok(a.out.includes('mac-mobility:0:sticky'), a.out);
      const l = await ctl('vm', 'list', '--vtep', '10.0.0.21');
      assert.equal(l.code, 0, l.err);
      assert.match(l.out, new RegExp(`^${mac}\\s+blue\\s+10100\\s+${mac}\\s+-\\s+10\\.0\\.0\\.21\\s+0\\s+yes\\s+\\S+\\s+\\d+s$`, 'm'));
      const j = await ctlJson<VmJson[]>('vm', 'list', '--vtep', '10.0.0.21');
      assert.equal(j.find((v) => v.mac === mac)?.sticky, true);

      const moved = await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--vtep', '10.0.0.22', '--sticky');
      assert.equal(moved.code, 7, moved.err);
      assert.match(moved.err, /^vmmictl: FAILED_PRECONDITION: .*sticky/);
      assert.equal(moved.out, '');
      const prep = await ctl('vm', 'migrate', 'prepare', '--network', 'blue', '--mac', mac, '--to', '10.0.0.22');
      assert.equal(prep.code, 7, prep.err);
      assert.match(prep.err, /^vmmictl: migration refused: .*sticky.*\n$/);
      assert.equal(prep.out, '');
      assert.equal((await ctl('vm', 'withdraw', '--network', 'blue', '--mac', mac)).code, 0);
    });

    test('vm resolve: MAC, VTEP, source and sequence, table and --json; an unbound address is NOT_FOUND (exit 4)', async () => {
      const mac = '52:54:00:aa:bb:30';
      const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--ip', '10.1.0.30', '--ip', 'fd00::30', '--vtep', '10.0.0.22');
      assert.equal(a.code, 0, a.err);
      const r = await ctl('vm', 'resolve', '--network', 'blue', '--ip', '10.1.0.30');
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      assert.equal(r.out, `mac       ${mac}\nVTEP      10.0.0.22\nsource    local\nsequence  0\n`);
      type Resolved = { mac: string; vtep: string; source: string; sequence: number; router: boolean; override: boolean; immutable: boolean };
      const j = await ctlJson<Resolved>('vm', 'resolve', '--vni', '10100', '--ip', 'fd00::30');
      assert.deepEqual(j, { mac, vtep: '10.0.0.22', source: 'local', sequence: 0, router: false, override: false, immutable: false });

      const none = await ctl('vm', 'resolve', '--network', 'blue', '--ip', '10.1.0.99');
      assert.equal(none.code, 4, none.err);
      assert.match(none.err, /^vmmictl: NOT_FOUND: .*10\.1\.0\.99/);
      assert.equal(none.out, '');
      const noNet = await ctl('vm', 'resolve', '--ip', '10.1.0.30');
      assert.equal(noNet.code, 1);
      assert.match(noNet.err, /vm resolve needs --network NAME or --vni N/);
      assert.equal((await ctl('vm', 'withdraw', '--network', 'blue', '--mac', mac)).code, 0);
    });

    test('vm clear-duplicate: NOT_FOUND (exit 4) unless marked duplicate; a MAC moved too often is announced as duplicate, then cleared', async () => {
      const mac = '52:54:00:cc:00:01';
      const none = await ctl('vm', 'clear-duplicate', '--network', 'green', '--mac', mac);
      assert.equal(none.code, 4, none.err);
      assert.match(none.err, /^vmmictl: NOT_FOUND: .*not marked duplicate/);

      // green marks a MAC duplicate at its second move.
      for (const vtep of ['10.0.0.21', '10.0.0.22']) {
        const a = await ctl('vm', 'announce', '--network', 'green', '--mac', mac, '--vtep', vtep);
        assert.equal(a.code, 0, a.err);
        assert.ok(!a.out.includes('duplicate'), a.out);
      }
      const dup = await ctl('vm', 'announce', '--network', 'green', '--mac', mac, '--vtep', '10.0.0.21');
      assert.equal(dup.code, 0, dup.err);
      assert.match(dup.out, /^routes\s+0$/m);
      assert.match(dup.out, /^duplicate\s+yes: the MAC is marked duplicate .*nothing was advertised/m);
      assert.ok(!dup.out.includes('PREFIX'), dup.out);
      const cleared = await ctl('vm', 'clear-duplicate', '--network', 'green', '--mac', '52-54-00-CC-00-01');
      assert.equal(cleared.code, 0, cleared.err);
      assert.equal(cleared.out, `mac ${mac} in network green: duplicate mark cleared, advertised again\n`);
      const again = await ctl('vm', 'clear-duplicate', '--vni', '10200', '--mac', mac);
      assert.equal(again.code, 4, again.err);

      const mac2 = '52:54:00:cc:00:02';
      type Announced = { sequence: number; routes: unknown[]; duplicate: boolean };
      const replies: Announced[] = [];
      for (const vtep of ['10.0.0.21', '10.0.0.22', '10.0.0.21']) replies.push(await ctlJson<Announced>('vm', 'announce', '--vni', '10200', '--mac', mac2, '--vtep', vtep));
      assert.deepEqual(replies.map((r) => r.duplicate), [false, false, true]);
      assert.deepEqual(replies[2]?.routes, []);
      assert.deepEqual(await ctlJson<object>('vm', 'clear-duplicate', '--vni', '10200', '--mac', mac2), {});
    });

    test('vm trace: a header per move, newest first, "nothing sent" with no peer up; --last, --json; a MAC never moved has no traces (exit 0)', async () => {
      const mac = '52:54:00:aa:bb:50';
      for (const vtep of ['10.0.0.21', '10.0.0.22', '10.0.0.21']) {
        const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', mac, '--vtep', vtep, '--vm-id', 'traced');
        assert.equal(a.code, 0, a.err);
      }
      // Two moves (the first announcement is no move): sequence 2 back to .21, then sequence 1 to .22.
      const r = await ctl('vm', 'trace', '--network', 'blue', '--mac', mac);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      const head = (from: string, to: string, seq: number): RegExp =>
        new RegExp(`^trace t-\\w+  blue  vm traced  mac ${mac}  ${from.replaceAll('.', '\\.')} → ${to.replaceAll('.', '\\.')}  seq ${seq}  at \\d{4}-\\d\\d-\\d\\dT\\S+Z$`);
      const [one = '', two = ''] = r.out.split('\n\n');
      const [h1 = '', ...e1] = one.trimEnd().split('\n');
      const [h2 = '', ...e2] = two.trimEnd().split('\n');
      assert.match(h1, head('10.0.0.22', '10.0.0.21', 2), r.out);
      assert.match(h2, head('10.0.0.21', '10.0.0.22', 1), r.out);
      // The only neighbour never connects: nobody was sent anything.
      assert.deepEqual(e1, ['  no peer was sent anything yet']);
      assert.deepEqual(e2, ['  no peer was sent anything yet']);

      const last = await ctl('vm', 'trace', '--vni', '10100', '--mac', mac, '--last', '1');
      assert.equal(last.code, 0, last.err);
      assert.equal(last.out, `${one.trimEnd()}\n`);

      type Trace = {
        id: string; network: string; mac: string; vmId: string; fromVtep: string; toVtep: string; sequence: number;
        requestedAt: { seconds: string; nanos: number } | null; announcedAt: { seconds: string; nanos: number } | null;
        updates: unknown[]; withdrawals: unknown[]; peerWithdrawals: unknown[];
      };
      const j = await ctlJson<{ traces: Trace[] }>('vm', 'trace', '--network', 'blue', '--mac', mac);
      assert.deepEqual(j.traces.map((t) => [t.fromVtep, t.toVtep, t.sequence]), [['10.0.0.22', '10.0.0.21', 2], ['10.0.0.21', '10.0.0.22', 1]]);
      const t = j.traces[1]!;
      assert.match(t.id, /^t-\w+$/);
      assert.equal(h2.split('  ')[0], `trace ${t.id}`);
      assert.deepEqual([t.network, t.mac, t.vmId], ['blue', mac, 'traced']);
      assert.ok(Number(t.requestedAt?.seconds) > 0 && Number(t.announcedAt?.seconds) >= Number(t.requestedAt?.seconds), JSON.stringify(t));
      assert.deepEqual([t.updates, t.withdrawals, t.peerWithdrawals], [[], [], []]);

      const never = '52:54:00:aa:bb:5f';
      const none = await ctl('vm', 'trace', '--network', 'blue', '--mac', never);
      assert.equal(none.code, 0, none.err);
      assert.equal(none.out, `no move traces of mac ${never} in network blue\n`);
      assert.deepEqual(await ctlJson<object>('vm', 'trace', '--mac', never), { traces: [] });
      assert.equal((await ctl('vm', 'trace', '--last', '0')).code, 1);
      assert.equal((await ctl('vm', 'trace', '--network', 'red')).code, 4);
      assert.equal((await ctl('vm', 'withdraw', '--network', 'blue', '--mac', mac)).code, 0);
    });

    // In order: each step needs the one before it.
    describe('vm migrate', { concurrency: false }, () => {
      const MIGRATING = '52:54:00:aa:bb:40';

      test('vm migrate prepare → commit → abort: the VM ends at its source with sequence 2; watch mobility prints each step with the migration id', async () => {
        const w = new Spawned(['--api', api, 'watch', 'mobility', '--network', 'blue']);
        // The watch is subscribed some time after the process starts: change a probe VM until it shows.
        const probe = '52:54:00:aa:bb:4f';
        let n = 0;
        await until('the watch to subscribe', async () => {
          const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', probe, '--ip', `10.1.0.${100 + (n++ % 100)}`, '--vtep', '10.0.0.21');
          assert.equal(a.code, 0, a.err);
          return w.out.includes(probe) ? true : undefined;
        });
        assert.equal((await ctl('vm', 'withdraw', '--network', 'blue', '--mac', probe)).code, 0);

        const a = await ctl('vm', 'announce', '--network', 'blue', '--mac', MIGRATING, '--ip', '10.1.0.40', '--vtep', '10.0.0.21', '--vm-id', 'migrating');
        assert.equal(a.code, 0, a.err);
        const p = await ctl('vm', 'migrate', 'prepare', '--network', 'blue', '--mac', MIGRATING, '--to', '10.0.0.22');
        assert.equal(p.code, 0, p.err);
        assert.equal(p.err, '');
        const prepared = fields(p.out);
        const id = prepared.get('migration') ?? '';
        assert.match(id, /^\S+$/, p.out);
        assert.match(p.out, /^migration\s+\S+\n/, 'the id comes first');
        assert.equal(prepared.get('state'), 'prepared');
        assert.equal(prepared.get('vm id'), 'migrating');
        assert.equal(prepared.get('source VTEP'), '10.0.0.21');
        assert.equal(prepared.get('target VTEP'), '10.0.0.22');
        assert.match(prepared.get('prepared at') ?? '', /^\d{4}-\d\d-\d\dT\S+Z$/);
        assert.equal(prepared.get('ended at'), '-');
        await until('a MIGRATION_PREPARED line', () => (w.out.includes('MIGRATION_PREPARED') ? true : undefined));

        const c = await ctl('vm', 'migrate', 'commit', id);
        assert.equal(c.code, 0, c.err);
        const [head = '', table = ''] = c.out.split('\n\n');
        const committed = fields(head);
        assert.equal(committed.get('migration'), id);
        assert.equal(committed.get('state'), 'committed');
        assert.equal(committed.get('sequence'), '1');
        assert.match(table, /^S\s+PREFIX\s+NEXT HOP/);
        assert.ok(table.split('\n').slice(1).filter((l) => l !== '').every((l) => /\s10\.0\.0\.22\s+local\s/.test(l)), table);
        assert.ok(table.includes('mac-mobility:1'), table);

        const ab = await ctl('vm', 'migrate', 'abort', id, '--reason', 'rolled back by the test');
        assert.equal(ab.code, 0, ab.err);
        const aborted = fields(ab.out);
        assert.equal(aborted.get('state'), 'aborted');
        assert.equal(aborted.get('reason'), 'rolled back by the test');
        assert.equal(aborted.get('sequence'), '2');
        assert.match(aborted.get('ended at') ?? '', /^\d{4}-/);

        const l = await ctl('vm', 'list', '--network', 'blue');
        assert.equal(l.code, 0, l.err);
        assert.match(l.out, /^migrating\s+blue\s+10100\s+52:54:00:aa:bb:40\s+10\.1\.0\.40\s+10\.0\.0\.21\s+2\s+no\s/m);

        await until('a MIGRATION_ABORTED line', () => (w.out.includes('MIGRATION_ABORTED') ? true : undefined));
        w.child.kill('SIGINT');
        const r = await w.exit();
        assert.equal(r.code, 0, r.err);
        const line = (kind: string): string => r.out.split('\n').find((x) => x.includes(`  ${kind}  `)) ?? '';
        const common = `blue \\(vni 10100\\)  mac 52:54:00:aa:bb:40  vm migrating`;
        assert.match(line('MIGRATION_PREPARED'), new RegExp(`^\\S+Z  MIGRATION_PREPARED  ${common}  10\\.0\\.0\\.21 -> 10\\.0\\.0\\.22  seq 0  ips 10\\.1\\.0\\.40  by \\S+  migration ${id}$`));
        assert.match(line('MIGRATION_COMMITTED'), new RegExp(`  ${common}  10\\.0\\.0\\.21 -> 10\\.0\\.0\\.22  seq 1  .*  migration ${id}$`));
        assert.match(line('MIGRATION_ABORTED'), new RegExp(`  ${common}  10\\.0\\.0\\.22 -> 10\\.0\\.0\\.21  seq 2  .*  migration ${id}  detail: rolled back by the test$`));
      });

      test('vm migrate --json: the API replies; an abort before the commit advertises nothing; finished or unknown ids are exit 7 / 4', async () => {
        type Prepared = { migration: MigrationJson | null; reasons: string[] };
        type Committed = { migration: MigrationJson; sequence: number; routes: RouteJson[] };
        type Aborted = { migration: MigrationJson; sequence: number };
        const prepare = (): Promise<Prepared> => ctlJson<Prepared>('vm', 'migrate', 'prepare', '--vni', '10100', '--mac', MIGRATING, '--to', '10.0.0.22');

        const p1 = await prepare();
        assert.deepEqual(p1.reasons, []);
        assert.equal(p1.migration?.state, 'prepared');
        assert.equal(p1.migration?.sourceVtep, '10.0.0.21');
        const early = await ctl('vm', 'migrate', 'abort', p1.migration!.id);
        assert.equal(early.code, 0, early.err);
        assert.equal(fields(early.out).get('sequence'), '-', 'nothing was advertised');
        assert.equal(fields(early.out).get('reason'), 'aborted by the agent');

        const p2 = await prepare();
        const id = p2.migration!.id;
        assert.notEqual(id, p1.migration!.id);
        const c = await ctlJson<Committed>('vm', 'migrate', 'commit', id);
        assert.equal(c.migration.state, 'committed');
        assert.equal(c.sequence, 3);
        assert.ok(c.routes.length >= 2 && c.routes.every((x) => x.attributes?.nextHop === '10.0.0.22'));
        const a = await ctlJson<Aborted>('vm', 'migrate', 'abort', id, '--reason', 'json');
        assert.equal(a.migration.state, 'aborted');
        assert.equal(a.migration.reason, 'json');
        assert.equal(a.sequence, 4);
        const vm = (await ctlJson<VmJson[]>('vm', 'list', '--network', 'blue')).find((v) => v.mac === MIGRATING);
        assert.equal(vm?.vtep, '10.0.0.21');
        assert.equal(vm?.sequence, 4);

        const done = await ctl('vm', 'migrate', 'commit', id);
        assert.equal(done.code, 7, done.err);
        assert.match(done.err, /^vmmictl: FAILED_PRECONDITION: .*aborted/);
        const unknown = await ctl('--json', 'vm', 'migrate', 'abort', 'no-such-migration');
        assert.equal(unknown.code, 4, unknown.err);
        assert.equal(unknown.out, '');
        const noId = await ctl('vm', 'migrate', 'commit');
        assert.equal(noId.code, 1);
      });

      test('vm migrate prepare refused (the VM is at the target already): exit 7, each reason on stderr; --json still prints the reply', async () => {
        const r = await ctl('vm', 'migrate', 'prepare', '--network', 'blue', '--mac', MIGRATING, '--to', '10.0.0.21');
        assert.equal(r.code, 7, r.err);
        assert.equal(r.out, '');
        assert.equal(r.err, 'vmmictl: migration refused: the VM is already at 10.0.0.21\n');
        const j = await ctl('--json', 'vm', 'migrate', 'prepare', '--network', 'blue', '--mac', MIGRATING, '--to', '10.0.0.21');
        assert.equal(j.code, 7, j.err);
        assert.deepEqual(JSON.parse(j.out), { reasons: ['the VM is already at 10.0.0.21'], migration: null });
        assert.match(j.err, /^vmmictl: migration refused: /);
        const missing = await ctl('vm', 'migrate', 'prepare', '--network', 'blue', '--mac', '52:54:00:aa:bb:99', '--to', '10.0.0.22');
        assert.equal(missing.code, 4, missing.err);
        assert.equal((await ctl('vm', 'withdraw', '--network', 'blue', '--mac', MIGRATING)).code, 0);
      });
    });
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
