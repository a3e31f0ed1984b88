/**
 * MobilityService over a real gRPC connection to an in-process speaker: every
 * validation error with its status code and message, authority, idempotence,
 * and WatchMobility delivering events in order and ending cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { type VmmiClient, connect, isServiceError, unaryCall } from '../../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { ListVmsResponse__Output } from '../../gen/proto/vmmi/v1/ListVmsResponse.js';
import type { WithdrawVmResponse__Output } from '../../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import type { ResolveAddressResponse__Output } from '../../gen/proto/vmmi/v1/ResolveAddressResponse.js';
import type { AnnounceVmsResponse__Output } from '../../gen/proto/vmmi/v1/AnnounceVmsResponse.js';
import type { PrepareMigrationResponse__Output } from '../../gen/proto/vmmi/v1/PrepareMigrationResponse.js';
import type { CommitMigrationResponse__Output } from '../../gen/proto/vmmi/v1/CommitMigrationResponse.js';
import type { AbortMigrationResponse__Output } from '../../gen/proto/vmmi/v1/AbortMigrationResponse.js';
import type { AnnounceVmRequest } from '../../gen/proto/vmmi/v1/AnnounceVmRequest.js';
import type { MobilityEvent__Output } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { Speaker } from '../../src/speaker.js';
import { startSpeaker } from '../support/speakers.js';
import { Metrics } from '../../src/metrics.js';

const HV1_TOKEN = 'hv1-token-0123456789';
const OPS_TOKEN = 'ops-token-0123456789';

function yaml(watchBuffer = 10000): string {
  return `
router-id: 192.0.2.1
asn: 65000
listen: false
neighbors: []
networks:
  - { name: blue, vni: 10100 }
  - { name: red, vni: 10300, l3-vni: 50000, router-mac: "02:00:00:00:00:aa" }
api:
  listen: { address: 127.0.0.1, port: 0 }
  agents:
    - { name: hv1, vteps: [10.0.0.21], networks: [blue] }
    - { name: hv2, vteps: [10.0.0.22, "2001:db8::22"], networks: [blue, red] }
  operators: [ops]
  tokens:
    - { name: hv1, token: ${HV1_TOKEN} }
    - { name: ops, token: ${OPS_TOKEN} }
    - { name: stranger, token: stranger-0123456789 }
  watch-buffer: ${watchBuffer}
`;
}

async function setup(t: { after(fn: () => Promise<void> | void): void }, watchBuffer?: number) {
  const speaker: Speaker = await startSpeaker(yaml(watchBuffer));
  const ep = speaker.config.api;
  const port = (speaker as unknown as { api?: { endpoint: { port: number } } }).api?.endpoint.port;
  assert.ok(ep.enabled && port !== undefined);
  const clients: VmmiClient[] = [];
  const client = (token?: string): VmmiClient => {
    const c = connect({ api: `127.0.0.1:${port}`, token });
    clients.push(c);
    return c;
  };
  t.after(async () => {
    clients.forEach((c) => c.close());
    await speaker.stop();
  });
  return { speaker, client, anon: client() };
}

const VM: AnnounceVmRequest = { vmId: 'vm-1', network: { name: 'blue' }, mac: '52:54:00:aa:bb:01', ips: ['10.1.0.5'], vtep: '10.0.0.21' };
const announce = (c: VmmiClient, r: Partial<AnnounceVmRequest> = {}) => unaryCall<AnnounceVmResponse__Output>((cb) => c.mobility.announceVm({ ...VM, ...r }, cb));

async function rejects(p: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isServiceError(e), `a gRPC error, got ${String(e)}`);
    assert.equal(grpc.status[e.code], grpc.status[code], e.details);
    assert.match(e.details, message);
    return true;
  });
}

test('AnnounceVm: every bad field is INVALID_ARGUMENT with a message that says what to fix', async (t) => {
  const { anon } = await setup(t);
  const cases: [Partial<AnnounceVmRequest>, RegExp][] = [
    [{ vmId: '' }, /vm_id is required/],
    [{ vmId: 'x'.repeat(300) }, /at most 256/],
    [{ mac: '' }, /mac is required/],
    [{ mac: '52:54:00:aa:bb' }, /not a MAC address/],
    [{ mac: '01:00:5e:00:00:01' }, /multicast\/broadcast/],
    [{ mac: 'ff:ff:ff:ff:ff:ff' }, /multicast\/broadcast/],
    [{ mac: '00:00:00:00:00:00' }, /not a valid VM address/],
    [{ ips: ['10.1.0.300'] }, /ips\[0\]: "10.1.0.300" is not an IPv4 or IPv6 address/],
    [{ ips: ['10.1.0.5', 'fe80::1%eth0'] }, /ips\[1\]: "fe80::1%eth0" has a zone index/],
    [{ ips: ['fe80::5054:ff:feaa:bb01'] }, /link-local/],
    [{ ips: ['224.0.0.1'] }, /not a unicast host address/],
    [{ ips: ['0.0.0.0'] }, /not a unicast host address/],
    [{ ips: Array.from({ length: 65 }, (_, i) => `10.9.0.${i + 1}`) }, /at most 64/],
    [{ vtep: '' }, /vtep is required/],
    [{ vtep: 'hv1.example' }, /vtep: "hv1.example" is not an IPv4 or IPv6 address/],
    [{ vtep: '239.1.1.1' }, /not a unicast address/],
    [{ network: { vni: 0 } }, /vni 0 is out of range 1..16777215/],
    [{ network: { vni: 16777216 } }, /vni 16777216 is out of range/],
    [{ network: null }, /network is required/],
  ];
  for (const [r, message] of cases) await rejects(announce(anon, r), grpc.status.INVALID_ARGUMENT, message);
});

test('AnnounceVm: unknown network NOT_FOUND, VTEP not configured and MAC of another VM FAILED_PRECONDITION', async (t) => {
  const { anon } = await setup(t);
  await rejects(announce(anon, { network: { name: 'green' } }), grpc.status.NOT_FOUND, /network "green" is not configured/);
  await rejects(announce(anon, { network: { vni: 7 } }), grpc.status.NOT_FOUND, /no network has VNI 7/);
  await rejects(announce(anon, { vtep: '10.0.0.99' }), grpc.status.FAILED_PRECONDITION, /VTEP 10.0.0.99 is not configured/);
  await announce(anon);
  await rejects(announce(anon, { vmId: 'vm-2' }), grpc.status.FAILED_PRECONDITION, /belongs to VM "vm-1"/);
});

test('authority: an agent may announce only for its own VTEPs and networks; unknown tokens are UNAUTHENTICATED', async (t) => {
  const { client, speaker } = await setup(t);
  const hv1 = client(HV1_TOKEN);
  await rejects(announce(hv1, { vtep: '10.0.0.22' }), grpc.status.PERMISSION_DENIED, /hv1 may not announce for VTEP 10.0.0.22/);
  await rejects(announce(hv1, { network: { name: 'red' } }), grpc.status.PERMISSION_DENIED, /hv1.*red/);
  await rejects(announce(client(OPS_TOKEN)), grpc.status.PERMISSION_DENIED, /ops/);
  await rejects(announce(client('not-a-token-at-all-123')), grpc.status.UNAUTHENTICATED, /token/);
  assert.equal(speaker.vms?.size, 0, 'nothing was announced by a refused call');
  const ok = await announce(hv1);
  assert.equal(ok.sequence, 0);
  const listed = await unaryCall<ListVmsResponse__Output>((cb) => client(OPS_TOKEN).mobility.listVms({}, cb));
  assert.deepEqual(listed.vms.map((v) => [v.vmId, v.agent]), [['vm-1', 'hv1']]);
  await rejects(unaryCall<ListVmsResponse__Output>((cb) => client('stranger-0123456789').mobility.listVms({}, cb)), grpc.status.PERMISSION_DENIED, /stranger/);
  // hv1 cannot withdraw a VM that now sits at hv2's VTEP.
  await announce(client(), { vtep: '10.0.0.22' });
  await rejects(unaryCall<WithdrawVmResponse__Output>((cb) => hv1.mobility.withdrawVm({ network: { name: 'blue' }, mac: VM.mac }, cb)), grpc.status.PERMISSION_DENIED, /10.0.0.22/);
});

test('AnnounceVm by VNI, IPv6 addresses, idempotence, a move, WithdrawVm and ListVms filters', async (t) => {
  const { anon } = await setup(t);
  const first = await announce(anon, { network: { vni: 10300 }, vtep: '2001:db8::22', ips: ['10.3.0.5', '2001:db8:3::5', '10.3.0.5'] });
  assert.equal(first.sequence, 0);
  assert.equal(first.changed, true);
  assert.equal(first.routes.length, 4, 'MAC, two MAC+IP (the repeated address once), and the type-3 route');
  const ipRoute = first.routes.find((r) => r.evpn?.ip === '2001:db8:3::5');
  assert.deepEqual(ipRoute?.evpn?.labels, [10300, 50000], 'L2 and L3 VNI');
  assert.ok(ipRoute?.attributes?.extendedCommunities.some((c) => c.includes('02:00:00:00:00:aa')), 'Router\'s MAC');
  assert.equal(ipRoute?.evpn?.rd, '192.0.2.1:10300', 'an IPv6 VTEP takes the router id as RD administrator');
  const again = await announce(anon, { network: { name: 'red' }, vtep: '2001:db8::22', ips: ['2001:db8:3::5', '10.3.0.5'] });
  assert.equal(again.changed, false);
  assert.equal(again.sequence, 0);
  const moved = await announce(anon, { network: { name: 'red' }, vtep: '10.0.0.22', ips: ['10.3.0.5'] });
  assert.deepEqual([moved.sequence, moved.previousVtep], [1, '2001:db8::22']);
  await announce(anon, { vmId: 'vm-2', mac: '52:54:00:aa:bb:02' });
  const byVtep = await unaryCall<ListVmsResponse__Output>((cb) => anon.mobility.listVms({ vtep: '10.0.0.22' }, cb));
  assert.deepEqual(byVtep.vms.map((v) => [v.vmId, v.network, v.vni, v.sequence, v.ips]), [['vm-1', 'red', 10300, 1, ['10.3.0.5']]]);
  await rejects(unaryCall<ListVmsResponse__Output>((cb) => anon.mobility.listVms({ network: 'green' }, cb)), grpc.status.NOT_FOUND, /green/);
  await rejects(unaryCall<ListVmsResponse__Output>((cb) => anon.mobility.listVms({ vtep: 'nope' }, cb)), grpc.status.INVALID_ARGUMENT, /vtep/);
  await rejects(unaryCall<WithdrawVmResponse__Output>((cb) => anon.mobility.withdrawVm({ network: { name: 'blue' }, mac: '52:54:00:aa:bb:09' }, cb)), grpc.status.NOT_FOUND, /no VM with MAC/);
  await rejects(unaryCall<WithdrawVmResponse__Output>((cb) => anon.mobility.withdrawVm({ network: { name: 'blue' }, mac: '52:54:00:aa:bb:02', vmId: 'vm-9' }, cb)), grpc.status.FAILED_PRECONDITION, /belongs to VM "vm-2", not "vm-9"/);
  const gone = await unaryCall<WithdrawVmResponse__Output>((cb) => anon.mobility.withdrawVm({ network: { name: 'blue' }, mac: '52:54:00:aa:bb:02' }, cb));
  assert.equal(gone.routes.length, 3, 'its MAC and MAC+IP routes and the last type-3 route of blue at 10.0.0.21');
  const all = await unaryCall<ListVmsResponse__Output>((cb) => anon.mobility.listVms({}, cb));
  assert.deepEqual(all.vms.map((v) => v.vmId), ['vm-1']);
});

function collect(stream: grpc.ClientReadableStream<MobilityEvent__Output>): { events: MobilityEvent__Output[]; end: Promise<grpc.StatusObject> } {
  const events: MobilityEvent__Output[] = [];
  stream.on('data', (e: MobilityEvent__Output) => events.push(e));
  stream.on('error', () => undefined);
  const end = new Promise<grpc.StatusObject>((res) => stream.on('status', res));
  return { events, end };
}

test('WatchMobility: arrival, update, move and departure in order, filtered by network; cancel and shutdown end it cleanly', async (t) => {
  const { anon, speaker, client } = await setup(t);
  const all = collect(anon.mobility.watchMobility({}));
  const redOnly = collect(client().mobility.watchMobility({ network: 'red' }));
  await new Promise((r) => setTimeout(r, 100));
  await announce(anon);
  await announce(anon, { ips: ['10.1.0.5', '10.1.0.6'] });
  await announce(anon, { vtep: '10.0.0.22' });
  await announce(anon, { vmId: 'vm-r', mac: '52:54:00:aa:bb:03', network: { name: 'red' }, vtep: '10.0.0.22' });
  await unaryCall<WithdrawVmResponse__Output>((cb) => anon.mobility.withdrawVm({ network: { name: 'blue' }, mac: VM.mac }, cb));
  const until = Date.now() + 5000;
  while (all.events.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(all.events.map((e) => [e.kind, e.vmId, e.network, e.fromVtep, e.toVtep, e.sequence, e.ips.length]), [
    ['ARRIVAL', 'vm-1', 'blue', '', '10.0.0.21', 0, 1],
    ['UPDATE', 'vm-1', 'blue', '10.0.0.21', '10.0.0.21', 0, 2],
    ['MOVE', 'vm-1', 'blue', '10.0.0.21', '10.0.0.22', 1, 1],
    ['ARRIVAL', 'vm-r', 'red', '', '10.0.0.22', 0, 1],
    ['DEPARTURE', 'vm-1', 'blue', '10.0.0.22', '', 1, 1],
  ]);
  assert.equal(all.events[0]!.vni, 10100);
  assert.equal(all.events[0]!.mac, VM.mac);
  assert.equal(all.events[0]!.agent, 'anonymous');
  assert.ok(Number(all.events[0]!.time?.seconds) > 1_700_000_000);
  assert.deepEqual(redOnly.events.map((e) => e.vmId), ['vm-r']);

  const cancelled = anon.mobility.watchMobility({});
  const cancelledEnd = collect(cancelled).end;
  await new Promise((r) => setTimeout(r, 50));
  const watchers = speaker.vms!.events$.observers.length;
  cancelled.cancel();
  assert.equal((await cancelledEnd).code, grpc.status.CANCELLED);
  const until2 = Date.now() + 2000;
  while (speaker.vms!.events$.observers.length >= watchers && Date.now() < until2) await new Promise((r) => setTimeout(r, 10));
  assert.equal(speaker.vms!.events$.observers.length, watchers - 1, 'a cancelled watch unsubscribes');

  await speaker.stop();
  assert.equal((await all.end).code, grpc.status.OK, 'a daemon that stops ends its watches with OK');
});

/**
 * A gRPC call whose client does not open its HTTP/2 receive window until
 * told to: the server can send headers but no message, which is what a
 * consumer that stopped reading looks like from the server. The status comes
 * after the messages already queued, so it arrives once the window opens.
 */
function stalledWatch(port: number): { status: Promise<{ status: number; message: string }>; resume(): void } {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 0 } });
  const status = new Promise<{ status: number; message: string }>((resolve, reject) => {
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': '/vmmi.v1.MobilityService/WatchMobility',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const done = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] === undefined) return;
      resolve({ status: Number(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')) });
      session.destroy();
    };
    req.on('data', () => undefined);
    req.on('response', done);
    req.on('trailers', done);
    req.on('error', reject);
    // An empty WatchMobilityRequest: flag 0, length 0.
    req.end(Buffer.alloc(5));
  });
  // RFC 9113 §6.9.2: a new initial window size applies to open streams too.
  return { status, resume: () => session.settings({ initialWindowSize: 1 << 20 }) };
}

test('WatchMobility: a consumer that stops reading is ended with RESOURCE_EXHAUSTED, and the daemon goes on', async (t) => {
  const { anon, speaker } = await setup(t, 5);
  const port = (speaker as unknown as { api: { endpoint: { port: number } } }).api.endpoint.port;
  const observers = (): number => speaker.vms!.events$.observers.length;
  const before = observers();
  const stalled = stalledWatch(port);
  const until = Date.now() + 5000;
  while (observers() === before && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.equal(observers(), before + 1, 'the watch is subscribed');
  let n = 0;
  // The stream's own buffer takes the first events; the bound counts only what waits beyond it.
  for (; n < 1_000 && observers() > before; n++) {
    await announce(anon, { vmId: `vm-${n}`, mac: `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`, ips: [] });
  }
  assert.equal(observers(), before, `the stalled watch let go of the event stream (after ${n} events)`);
  assert.ok(n < 100, `it gave up after ${n} events, not far past the bound`);
  stalled.resume();
  const status = await stalled.status;
  assert.equal(status.status, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(status.message, /too slow: more than 5 events waiting/);
  assert.equal((await announce(anon, { vmId: 'after', mac: '52:54:00:ff:ff:01' })).sequence, 0, 'the daemon still answers');
});

test('ResolveAddress answers the MAC of an IP from the EVPN table (RFC 9161); a sticky VM cannot be moved', async (t) => {
  const { anon } = await setup(t);
  const resolve = (ip: string, network: { name?: string; vni?: number } = { name: 'blue' }) =>
    unaryCall<ResolveAddressResponse__Output>((cb) => anon.mobility.resolveAddress({ network, ip }, cb));
  await rejects(resolve('10.1.0.5'), grpc.status.NOT_FOUND, /no MAC\/IP route binds 10.1.0.5 in network blue/);
  await announce(anon, { sticky: true });
  const r = await resolve('10.1.0.5', { vni: 10100 });
  assert.deepEqual([r.mac, r.vtep, r.source, r.sequence], [VM.mac, '10.0.0.21', 'local', 0]);
  await rejects(resolve(''), grpc.status.INVALID_ARGUMENT, /ip is required/);
  await rejects(resolve('10.1.0'), grpc.status.INVALID_ARGUMENT, /ip: "10.1.0" is not an IPv4 or IPv6 address/);
  await rejects(resolve('10.1.0.5', { name: 'green' }), grpc.status.NOT_FOUND, /green/);
  await rejects(announce(anon, { sticky: true, vtep: '10.0.0.22' }), grpc.status.FAILED_PRECONDITION, /sticky \(static\) at 10.0.0.21/);
  const vms = await unaryCall<ListVmsResponse__Output>((cb) => anon.mobility.listVms({}, cb));
  assert.deepEqual(vms.vms.map((v) => [v.vtep, v.sticky]), [['10.0.0.21', true]]);
});

test('ClearDuplicate: operators only; NOT_FOUND for a MAC that is not marked duplicate; bad MAC INVALID_ARGUMENT', async (t) => {
  const { anon, client, speaker } = await setup(t);
  const metrics = new Metrics(speaker);
  const ep = await metrics.listen('127.0.0.1', 0);
  t.after(() => metrics.close());
  const gauge = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`http://127.0.0.1:${ep.port}/metrics`)).text())?.[1]);
  const clear = (c: VmmiClient, mac: string | undefined) => unaryCall<object>((cb) => c.mobility.clearDuplicate({ network: { name: "blue" }, mac: mac ?? "" }, cb));
  await rejects(clear(client(HV1_TOKEN), VM.mac), grpc.status.PERMISSION_DENIED, /hv1 is not an operator/);
  await rejects(clear(client(OPS_TOKEN), VM.mac), grpc.status.NOT_FOUND, /is not marked duplicate in network blue/);
  await rejects(clear(anon, 'nope'), grpc.status.INVALID_ARGUMENT, /mac/);
  // Five moves within 180 s (the default) mark it; the reply says so and carries no routes.
  await announce(anon);
  let last: AnnounceVmResponse__Output | undefined;
  for (let i = 0; i < 5; i++) last = await announce(anon, { vtep: i % 2 === 0 ? '10.0.0.22' : '10.0.0.21' });
  assert.deepEqual([last?.duplicate, last?.routes.length], [true, 0]);
  assert.equal(await gauge('vmmi_evpn_duplicate_macs'), 1);
  assert.equal(await gauge('vmmi_vms'), 1);
  await clear(client(OPS_TOKEN), VM.mac);
  assert.equal(await gauge('vmmi_evpn_duplicate_macs'), 0);
  const again = await announce(anon, { vtep: '10.0.0.22' });
  assert.equal(again.duplicate, false);
});

test('PrepareMigration / CommitMigration / AbortMigration over the API, with authority and events', async (t) => {
  const { anon, client } = await setup(t);
  const hv1 = client(HV1_TOKEN);
  const watch = collect(anon.mobility.watchMobility({}));
  await announce(anon);
  const prep = (c: VmmiClient, targetVtep: string) =>
    unaryCall<PrepareMigrationResponse__Output>((cb) => c.mobility.prepareMigration({ network: { name: 'blue' }, mac: VM.mac, targetVtep }, cb));
  await rejects(prep(hv1, '10.0.0.22'), grpc.status.PERMISSION_DENIED, /hv1 may not announce for VTEP 10.0.0.22/);
  await rejects(prep(anon, '10.0.0.99'), grpc.status.FAILED_PRECONDITION, /VTEP 10.0.0.99 is not configured/);
  await rejects(prep(anon, 'x'), grpc.status.INVALID_ARGUMENT, /vtep/);
  const refused = await prep(anon, '10.0.0.21');
  assert.equal(refused.migration, null);
  assert.match(refused.reasons.join(), /already at 10.0.0.21/);
  const ok = await prep(anon, '10.0.0.22');
  assert.deepEqual(ok.reasons, []);
  const id = ok.migration!.id;
  assert.equal(ok.migration!.state, 'prepared');
  const committed = await unaryCall<CommitMigrationResponse__Output>((cb) => anon.mobility.commitMigration({ id }, cb));
  assert.deepEqual([committed.migration?.state, committed.sequence, committed.routes.length], ['committed', 1, 3]);
  await rejects(unaryCall<object>((cb) => hv1.mobility.abortMigration({ id: 'm-nope' }, cb)), grpc.status.NOT_FOUND, /no migration/);
  const aborted = await unaryCall<AbortMigrationResponse__Output>((cb) => hv1.mobility.abortMigration({ id, reason: 'rollback test' }, cb));
  assert.deepEqual([aborted.migration?.state, aborted.migration?.reason, aborted.sequence], ['aborted', 'rollback test', 2]);
  const until = Date.now() + 5000;
  while (watch.events.length < 6 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(watch.events.map((e) => [e.kind, e.migrationId === id ? 'id' : e.migrationId]), [
    ['ARRIVAL', ''],
    ['MIGRATION_PREPARED', 'id'],
    ['MOVE', ''],
    ['MIGRATION_COMMITTED', 'id'],
    ['MOVE', ''],
    ['MIGRATION_ABORTED', 'id'],
  ]);
});

test('AnnounceVms: many VMs in one call, each checked and applied in order, one result per entry', async (t) => {
  const { anon, client, speaker } = await setup(t);
  const batch = (c: VmmiClient, vms: Partial<AnnounceVmRequest>[]) =>
    unaryCall<AnnounceVmsResponse__Output>((cb) => c.mobility.announceVms({ vms: vms.map((v) => ({ ...VM, ...v })) }, cb));
  const r = await batch(anon, [
    { vmId: 'a', mac: '52:54:00:00:00:0a' },
    { vmId: 'b', mac: 'bad' },
    { vmId: 'a', mac: '52:54:00:00:00:0a', vtep: '10.0.0.22' },
    { vmId: 'c', mac: '52:54:00:00:00:0c', vtep: '10.0.0.99' },
    { vmId: 'd', mac: '52:54:00:00:00:0a' },
  ]);
  assert.deepEqual(r.results.map((x) => [x.code, x.sequence, x.previousVtep, x.routes]), [
    ['OK', 0, '', 3],
    ['INVALID_ARGUMENT', 0, '', 0],
    ['OK', 1, '10.0.0.21', 3],
    ['FAILED_PRECONDITION', 0, '', 0],
    ['FAILED_PRECONDITION', 0, '', 0],
  ]);
  assert.match(r.results[1]!.message, /not a MAC address/);
  assert.match(r.results[4]!.message, /belongs to VM "a"/);
  assert.equal(speaker.vms?.list()[0]?.vtep, '10.0.0.22');
  const denied = await batch(client(HV1_TOKEN), [{ vmId: 'e', mac: '52:54:00:00:00:0e', vtep: '10.0.0.22' }]);
  assert.equal(denied.results[0]!.code, 'PERMISSION_DENIED');
  await rejects(batch(anon, Array.from({ length: 10_001 }, () => ({}))), grpc.status.INVALID_ARGUMENT, /at most 10000/);
});
