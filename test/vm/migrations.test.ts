import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { formatRd } from '../../src/bgp/wire/rd.js';
import type { NetworkConfig } from '../../src/config/types.js';
import { decodeExtCommunities, macMobility } from '../../src/evpn/ext-communities.js';
import type { EvpnRoute } from '../../src/evpn/route.js';
import { Rib } from '../../src/rib/rib.js';
import type { PathSource } from '../../src/rib/path.js';
import { MemoryVmStore } from '../../src/store/vm-store.js';
import { VmError } from '../../src/vm/errors.js';
import { Migrations } from '../../src/vm/migrations.js';
import { VmNetwork } from '../../src/vm/network.js';
import { type VmEvent, VmRegistry } from '../../src/vm/registry.js';
import { FakeClock } from '../fsm/fake-clock.js';

const LOCAL: PathSource = {
  id: 'local', address: Buffer.from([192, 0, 2, 1]), routerId: 0xc0000201, asn: 65000, ibgp: false, local: true, rrClient: false,
};
const BLUE: NetworkConfig = { name: 'blue', vni: 10100, evi: 10100, routeTargets: ['65000:10100'], duplicateDetection: { maxMoves: 2, windowMs: 60_000 } };
const MAC = '52:54:00:aa:bb:01';
const TIMEOUT = 60_000;

async function setup() {
  const rib = new Rib();
  const clock = new FakeClock(1_000_000);
  const blue = new VmNetwork(BLUE, '192.0.2.1');
  const reg = new VmRegistry(new Map([['blue', blue]]), rib, LOCAL, new MemoryVmStore(), clock, silentLogger());
  const migrations = new Migrations(reg, clock, TIMEOUT, silentLogger());
  const events: VmEvent[] = [];
  reg.events$.subscribe((e) => events.push(e));
  await reg.announce({ vmId: 'vm-1', network: blue, mac: MAC, ips: ['10.1.0.5'], vtep: '10.0.0.21', agent: 'hv1' });
  const prepare = (targetVtep = '10.0.0.22', provisioned = true) => migrations.prepare({ network: blue, mac: MAC, targetVtep, agent: 'hv2', provisioned });
  /** [RD, MAC Mobility sequence] of each MAC/IP route vmmi advertises. */
  const advertised = () =>
    [...rib.destinations(L2VPN_EVPN)]
      .flatMap((d) => d.paths)
      .filter((p) => (p.nlri as EvpnRoute).kind === 'mac-ip')
      .map((p) => [formatRd((p.nlri as Extract<EvpnRoute, { kind: 'mac-ip' }>).rd), macMobility(decodeExtCommunities(p.attrs.extCommunities!))?.seq]);
  return { rib, clock, blue, reg, migrations, events, prepare, advertised };
}

function prepared(r: ReturnType<Migrations['prepare']>) {
  assert.ok(r.ok, r.ok ? '' : r.reasons.join('; '));
  return r.migration;
}

test('prepare reserves and announces nothing; commit moves the VM with the next sequence number and withdraws the source', async () => {
  const { migrations, prepare, advertised, events, reg, blue } = await setup();
  const m = prepared(prepare());
  assert.deepEqual([m.state, m.sourceVtep, m.targetVtep, m.vmId], ['prepared', '10.0.0.21', '10.0.0.22', 'vm-1']);
  assert.deepEqual(advertised(), [['10.0.0.21:10100', 0], ['10.0.0.21:10100', 0]]);
  const c = await migrations.commit(m.id, blue, 'hv2');
  assert.equal(c.migration.state, 'committed');
  assert.equal(c.announced.seq, 1);
  assert.deepEqual(advertised(), [['10.0.0.22:10100', 1], ['10.0.0.22:10100', 1]]);
  assert.equal(reg.get(blue, MAC)?.vtep, '10.0.0.22');
  assert.deepEqual(events.slice(1).map((e) => [e.kind, e.fromVtep, e.toVtep, e.migrationId ?? '']), [
    ['migration-prepared', '10.0.0.21', '10.0.0.22', m.id],
    ['move', '10.0.0.21', '10.0.0.22', ''],
    ['migration-committed', '10.0.0.21', '10.0.0.22', m.id],
  ]);
  await assert.rejects(migrations.commit(m.id, blue, 'hv2'), (e: unknown) => e instanceof VmError && e.kind === 'failed-precondition');
});

test('the consultation checks give every reason at once', async () => {
  const { prepare, reg, blue, migrations } = await setup();
  const same = prepare('10.0.0.21');
  assert.ok(!same.ok && same.reasons.some((r) => /already at 10.0.0.21/.test(r)));
  const absent = prepare('10.0.0.99', false);
  assert.ok(!absent.ok);
  assert.match(absent.reasons[0]!, /network blue is not present at 10.0.0.99/);
  const first = prepared(prepare());
  const busy = prepare('10.0.0.23');
  assert.ok(!busy.ok);
  assert.match(busy.reasons.join(), new RegExp(`migration ${first.id} of this VM is prepared`));
  await migrations.abort(first.id, 'hv2');
  // Two unplanned moves within 60 s (this network's policy) mark the MAC duplicate.
  await reg.announce({ vmId: 'vm-1', network: blue, mac: MAC, ips: [], vtep: '10.0.0.23', agent: 'hv1' });
  await reg.announce({ vmId: 'vm-1', network: blue, mac: MAC, ips: [], vtep: '10.0.0.21', agent: 'hv1' });
  const dup = prepare();
  assert.ok(!dup.ok && dup.reasons.some((r) => /duplicate/.test(r)));
  assert.throws(() => migrations.prepare({ network: blue, mac: '52:54:00:aa:bb:99', targetVtep: '10.0.0.22', agent: 'x', provisioned: true }),
    (e: unknown) => e instanceof VmError && e.kind === 'not-found');
});

test('committed migrations do not count as moves for duplicate detection', async () => {
  const { migrations, prepare, blue, clock } = await setup();
  for (let i = 0; i < 6; i++) {
    const m = prepared(prepare(i % 2 === 0 ? '10.0.0.22' : '10.0.0.21'));
    const c = await migrations.commit(m.id, blue, 'hv2');
    assert.equal(c.announced.duplicate, false, `planned move ${i + 1}`);
    clock.advance(TIMEOUT); // lets the committed migration finish
  }
});

test('abort before commit leaves everything as it was; abort after commit brings the VM back with a higher number', async () => {
  const { migrations, prepare, advertised, blue, events } = await setup();
  const before = advertised();
  const m = prepared(prepare());
  const a = await migrations.abort(m.id, 'hv2', 'target host failed');
  assert.deepEqual([a.migration.state, a.migration.reason, a.announced], ['aborted', 'target host failed', undefined]);
  assert.deepEqual(advertised(), before);
  const m2 = prepared(prepare());
  await migrations.commit(m2.id, blue, 'hv2');
  const back = await migrations.abort(m2.id, 'hv1', 'post-copy failed');
  assert.equal(back.announced?.seq, 2);
  assert.deepEqual(advertised(), [['10.0.0.21:10100', 2], ['10.0.0.21:10100', 2]]);
  assert.deepEqual(events.at(-1)!.kind, 'migration-aborted');
  assert.deepEqual([events.at(-1)!.fromVtep, events.at(-1)!.toVtep, events.at(-1)!.seq], ['10.0.0.22', '10.0.0.21', 2]);
  await assert.rejects(migrations.abort(m2.id, 'hv1'), (e: unknown) => e instanceof VmError && /is aborted/.test(e.message));
  await assert.rejects(migrations.abort('m-nope', 'hv1'), (e: unknown) => e instanceof VmError && e.kind === 'not-found');
});

test('a prepared migration not committed within the timeout is aborted by vmmi', async () => {
  const { migrations, prepare, clock, events } = await setup();
  const m = prepared(prepare());
  clock.advance(TIMEOUT - 1);
  assert.equal(migrations.get(m.id)?.state, 'prepared');
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(migrations.get(m.id)?.state, 'aborted');
  assert.match(migrations.get(m.id)!.reason!, /not committed within 60 s/);
  assert.equal(events.at(-1)!.agent, 'vmmi');
  assert.ok(prepare().ok, 'the VM is free for another migration');
});

test('a commit after the VM moved by itself is refused and the migration aborted', async () => {
  const { migrations, prepare, reg, blue } = await setup();
  const m = prepared(prepare());
  await reg.announce({ vmId: 'vm-1', network: blue, mac: MAC, ips: [], vtep: '10.0.0.23', agent: 'hv1' });
  await assert.rejects(migrations.commit(m.id, blue, 'hv2'), (e: unknown) => e instanceof VmError && /no longer at 10.0.0.21/.test(e.message));
  assert.equal(migrations.get(m.id)?.state, 'aborted');
});

test('an abort during a commit waits its turn; a commit the store refuses ends the migration instead of leaving it open', async () => {
  const { migrations, prepare, blue } = await setup();
  const m = prepared(prepare());
  const committing = migrations.commit(m.id, blue, 'hv2');
  await assert.rejects(migrations.abort(m.id, 'hv1'), (e: unknown) => e instanceof VmError && /being committed/.test(e.message));
  assert.equal((await committing).migration.state, 'committed');

  // A registry whose store fails: the commit is undone and the migration ends.
  const store = new (class extends MemoryVmStore {
    failing = false;
    override put(r: Parameters<MemoryVmStore['put']>[0]): Promise<void> {
      return this.failing ? Promise.reject(new Error('EIO')) : super.put(r);
    }
  })();
  const clock = new FakeClock();
  const reg2 = new VmRegistry(new Map([['blue', blue]]), new Rib(), LOCAL, store, clock, silentLogger());
  const mig2 = new Migrations(reg2, clock, TIMEOUT, silentLogger());
  await reg2.announce({ vmId: 'vm-1', network: blue, mac: MAC, ips: [], vtep: '10.0.0.21', agent: 'hv1' });
  const m2 = mig2.prepare({ network: blue, mac: MAC, targetVtep: '10.0.0.22', agent: 'hv2', provisioned: true });
  assert.ok(m2.ok);
  store.failing = true;
  await assert.rejects(mig2.commit(m2.migration.id, blue, 'hv2'), (e: unknown) => e instanceof VmError && e.kind === 'unavailable');
  assert.equal(mig2.get(m2.migration.id)?.state, 'aborted');
  assert.match(mig2.get(m2.migration.id)!.reason!, /commit failed/);
  assert.equal(reg2.get(blue, MAC)?.vtep, '10.0.0.21', 'the VM is where it was');
  store.failing = false;
  assert.ok(mig2.prepare({ network: blue, mac: MAC, targetVtep: '10.0.0.22', agent: 'hv2', provisioned: true }).ok, 'free for a new migration');
});

test('the network is present at a VTEP that a peer advertises a type-3 route of the network from (RFC 7432 §7.3)', async () => {
  const { rib, prepare } = await setup();
  const { inclusiveMulticastRoute } = await import('../../src/evpn/nlri.js');
  const { encodeExtCommunities } = await import('../../src/evpn/ext-communities.js');
  const { ipToBytes } = await import('../../src/core/ip.js');
  const peer: PathSource = { ...LOCAL, id: '192.0.2.9', local: false, ibgp: true, address: Buffer.from([192, 0, 2, 9]) };
  const imet = (rt: number) => ({
    origin: 0, asPath: [], nextHop: ipToBytes('10.0.0.99'),
    extCommunities: encodeExtCommunities([{ kind: 'route-target', format: 'as2', admin: 65000, assigned: rt }]),
  });
  rib.announce(peer, L2VPN_EVPN, inclusiveMulticastRoute({ rd: '10.0.0.99:7', tag: 0, originator: '10.0.0.99' }), imet(10999));
  assert.ok(!prepare('10.0.0.99', false).ok, 'another network\'s type-3 route does not count');
  rib.announce(peer, L2VPN_EVPN, inclusiveMulticastRoute({ rd: '10.0.0.99:1', tag: 0, originator: '10.0.0.99' }), imet(10100));
  assert.ok(prepare('10.0.0.99', false).ok);
});
