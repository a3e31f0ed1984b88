import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { MobilityEvent__Output } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import { CommandFailed, EXIT, exitCodeOf, reportError, statusName } from '../../src/cli/ctl/errors.js';
import { FAMILY_CHOICES, familyName } from '../../src/cli/ctl/filter.js';
import { JsonArrayWriter, Progress, duration, jsonArray, jsonDocument, total } from '../../src/cli/ctl/output.js';
import { formatFields, formatRows, formatTable } from '../../src/cli/ctl/table.js';
import { afterMs, moveTraceText } from '../../src/cli/ctl/trace.js';
import { resolvedFields } from '../../src/cli/ctl/vm.js';
import { mobilityEventLine } from '../../src/cli/ctl/watch.js';
import { isFamilyName } from '../../src/config/families.js';

test('formatTable aligns columns, right-aligns ">" columns and leaves no trailing blanks', () => {
  const t = formatTable(['NAME', '>COUNT', 'NOTE'], [
    ['a', '1', 'x'],
    ['longer', '100', ''],
  ]);
  assert.equal(t, 'NAME    COUNT  NOTE\na           1  x\nlonger    100\n');
  assert.equal(formatTable(['A', 'B'], []), 'A  B\n');
});

test('formatRows aligns like formatTable, without a header row', () => {
  assert.equal(formatRows(['>', '', ''], [['+1.0 ms', 'update sent', 'a'], ['+12.3 ms', 'peer withdrew', 'b']], '  '), '   +1.0 ms  update sent    a\n  +12.3 ms  peer withdrew  b\n');
  assert.equal(formatRows(['A'], []), '');
});

test('a move trace: its header, then the events in time order', () => {
  const at = { seconds: '1795545912', nanos: 407_000_000 };
  const t = {
    id: 't-1', network: 'blue', mac: '52:54:00:aa:bb:01', vmId: 'web-1', fromVtep: '', toVtep: '10.0.0.22', sequence: 1,
    requestedAt: at, announcedAt: at,
    updates: [{ peer: '127.0.0.2', at, afterMs: 0.8 }, { peer: '127.0.0.3', at, afterMs: 12.34 }],
    withdrawals: [{ peer: '127.0.0.2', at, afterMs: 0.8 }],
    peerWithdrawals: [{ peer: '127.0.0.4', at, afterMs: 3 }],
  };
  assert.equal(
    moveTraceText(t),
    [
      'trace t-1  blue  vm web-1  mac 52:54:00:aa:bb:01  - → 10.0.0.22  seq 1  at 2026-11-24T18:45:12.407Z',
      '   +0.8 ms  update sent      127.0.0.2',
      '   +0.8 ms  withdrawal sent  127.0.0.2',
      '   +3.0 ms  peer withdrew    127.0.0.4',
      '  +12.3 ms  update sent      127.0.0.3',
      '',
    ].join('\n'),
  );
  assert.equal(moveTraceText({ ...t, updates: [], withdrawals: [], peerWithdrawals: [] }).split('\n')[1], '  no peer was sent anything yet');
  assert.equal(afterMs(-0.5), '-0.5 ms');
});

test('formatFields aligns the keys', () => {
  assert.equal(formatFields([['a', '1'], ['long key', 'two'], ['empty', '']]), 'a         1\nlong key  two\nempty\n');
});

test('JSON arrays are valid whole, and written nowhere before the first item', () => {
  const chunks: string[] = [];
  const w = new JsonArrayWriter((t) => chunks.push(t));
  assert.deepEqual(chunks, []);
  w.push({ a: 1, _a: 'a' });
  w.push({ b: [2] });
  w.end();
  assert.equal(chunks.join(''), '[\n{"a":1},\n{"b":[2]}\n]\n');
  assert.deepEqual(JSON.parse(chunks.join('')), [{ a: 1 }, { b: [2] }]);
  assert.equal(jsonArray([]), '[]\n');
  // proto-loader's synthetic keys of optional fields are left out.
  assert.equal(jsonDocument({ med: 5, _med: 'med' }), '{\n  "med": 5\n}\n');
});

test('exit codes by gRPC status', () => {
  const want: [grpc.status, number][] = [
    [grpc.status.OK, 0],
    [grpc.status.INVALID_ARGUMENT, 3],
    [grpc.status.NOT_FOUND, 4],
    [grpc.status.ALREADY_EXISTS, 5],
    [grpc.status.PERMISSION_DENIED, 6],
    [grpc.status.UNAUTHENTICATED, 6],
    [grpc.status.FAILED_PRECONDITION, 7],
    [grpc.status.UNAVAILABLE, 8],
    [grpc.status.INTERNAL, 2],
    [grpc.status.DEADLINE_EXCEEDED, 2],
    [grpc.status.RESOURCE_EXHAUSTED, 2],
    [grpc.status.UNKNOWN, 2],
  ];
  for (const [code, exit] of want) assert.equal(exitCodeOf(code), exit, statusName(code));
  assert.equal(EXIT.usage, 1);
  assert.equal(statusName(grpc.status.NOT_FOUND), 'NOT_FOUND');
});

test('every family choice maps to a name vmmid knows', () => {
  for (const c of FAMILY_CHOICES) assert.ok(isFamilyName(familyName(c)), c);
  assert.equal(familyName('evpn'), 'l2vpn-evpn');
  assert.equal(familyName('ipv4'), 'ipv4-unicast');
  assert.equal(familyName('ipv6'), 'ipv6-unicast');
  assert.equal(familyName('ipv4-vpn'), 'ipv4-vpn');
});

test('durations and uint64 totals', () => {
  assert.equal(duration(0), '0s');
  assert.equal(duration(59.9), '59s');
  assert.equal(duration(192), '3m12s');
  assert.equal(duration(7500), '2h05m');
  assert.equal(duration(3 * 86400 + 4 * 3600 + 5), '3d04h');
  assert.equal(total([{ family: 'a', count: '18446744073709551615' }, { family: 'b', count: '1' }]), '18446744073709551616');
  assert.equal(total([]), '0');
});

test('the progress line appears after a while, redraws with \\r, and is erased at the end', async () => {
  let text = '';
  const p = new Progress(true, 'routes', { write: (t: string) => (text += t) }, 30, 10);
  p.add(5);
  await new Promise((r) => setTimeout(r, 80));
  p.add(2);
  await new Promise((r) => setTimeout(r, 30));
  p.stop();
  assert.ok(text.startsWith('\rreceived 5 routes…'), JSON.stringify(text));
  assert.ok(text.includes('\rreceived 7 routes…'), JSON.stringify(text));
  assert.ok(text.endsWith('\r\x1b[K'), JSON.stringify(text));

  let quiet = '';
  const fast = new Progress(true, 'routes', { write: (t: string) => (quiet += t) }, 30, 10);
  fast.add(1);
  fast.stop();
  const off = new Progress(false, 'routes', { write: (t: string) => (quiet += t) }, 0, 10);
  await new Promise((r) => setTimeout(r, 50));
  off.stop();
  assert.equal(quiet, '', 'nothing for a listing that ends quickly, nothing when disabled');
});

test('a refusal vmmid answered with OK prints each line as `vmmictl: …` and exits with its code', () => {
  let err = '';
  const code = reportError(new CommandFailed(EXIT.failedPrecondition, ['migration refused: a', 'migration refused: b']), 'x', {
    write: (t: string) => ((err += t), true),
  } as unknown as NodeJS.WritableStream);
  assert.equal(code, 7);
  assert.equal(err, 'vmmictl: migration refused: a\nvmmictl: migration refused: b\n');
});

test('vm resolve shows the ARP/ND flags only when the binding carries some', () => {
  const r = { mac: '52:54:00:aa:bb:01', vtep: '10.0.0.21', source: '192.0.2.1', sequence: 3, router: false, override: false, immutable: false };
  assert.equal(resolvedFields(r), 'mac       52:54:00:aa:bb:01\nVTEP      10.0.0.21\nsource    192.0.2.1\nsequence  3\n');
  assert.match(resolvedFields({ ...r, router: true, immutable: true }), /\nARP\/ND flags  router, immutable\n$/);
});

test('watch mobility lines: sticky, the migration id and the detail come last, when set', () => {
  const e: MobilityEvent__Output = {
    kind: 'MIGRATION_ABORTED', vmId: 'vm1', network: 'blue', vni: 10100, mac: '52:54:00:aa:bb:01', ips: ['10.1.0.5'],
    fromVtep: '10.0.0.22', toVtep: '10.0.0.21', sequence: 2, time: { seconds: '1700000000', nanos: 0 }, agent: 'hv1',
    detail: 'operator said so', sticky: false, migrationId: 'm-1',
  };
  assert.equal(
    mobilityEventLine(e),
    '2023-11-14T22:13:20.000Z  MIGRATION_ABORTED  blue (vni 10100)  mac 52:54:00:aa:bb:01  vm vm1  10.0.0.22 -> 10.0.0.21' +
      '  seq 2  ips 10.1.0.5  by hv1  migration m-1  detail: operator said so\n',
  );
  const refused = mobilityEventLine({ ...e, kind: 'REFUSED', migrationId: '', sticky: true, detail: 'sticky' });
  assert.match(refused, /  REFUSED    blue .*  by hv1  sticky  detail: sticky\n$/);
  assert.match(mobilityEventLine({ ...e, kind: 'ARRIVAL', migrationId: '', detail: '' }), /  by hv1\n$/);
});
