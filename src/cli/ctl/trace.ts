/**
 * `vmmictl vm trace`: what went on the wire after recent VM moves
 * (MobilityService GetMoveTrace). Per move, a header line, then the UPDATEs
 * sent with the new location, the withdrawals of the old one, and other PEs
 * withdrawing their route for the MAC, in time order, each as milliseconds
 * after the API call that moved the VM arrived.
 */
import type { Argv } from 'yargs';
import type { GetMoveTraceRequest } from '../../../gen/proto/vmmi/v1/GetMoveTraceRequest.js';
import type { GetMoveTraceResponse__Output } from '../../../gen/proto/vmmi/v1/GetMoveTraceResponse.js';
import type { MoveTrace__Output } from '../../../gen/proto/vmmi/v1/MoveTrace.js';
import { unaryCall } from '../../api/client.js';
import { type Globals, intOption, withApi } from './context.js';
import { canonicalMac, networkLabel, networkOptions, networkRef } from './network.js';
import { dash, isoTime, jsonDocument } from './output.js';
import { formatRows } from './table.js';

/** "+12.3 ms": a time after the API call. */
export function afterMs(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${Math.abs(ms).toFixed(1)} ms`;
}

/** The events of a trace, oldest first; at equal times updates, then withdrawals, then peers'. */
function events(t: MoveTrace__Output): [number, string, string][] {
  const rows: [number, string, string][] = [
    ...t.updates.map((p) => [p.afterMs, 'update sent', p.peer] as [number, string, string]),
    ...t.withdrawals.map((p) => [p.afterMs, 'withdrawal sent', p.peer] as [number, string, string]),
    ...t.peerWithdrawals.map((p) => [p.afterMs, 'peer withdrew', p.peer] as [number, string, string]),
  ];
  return rows.sort((a, b) => a[0] - b[0]); // stable: ties keep the order above
}

/**
 * One trace for people:
 *
 *     trace t-1  blue  vm web-1  mac 52:54:00:aa:bb:01  10.0.0.21 → 10.0.0.22  seq 1  at 2026-11-24T18:45:12.407Z
 *       +0.8 ms  update sent      127.0.0.2
 *       +0.9 ms  withdrawal sent  127.0.0.2
 */
export function moveTraceText(t: MoveTrace__Output): string {
  const head = `trace ${t.id}  ${t.network}  vm ${t.vmId}  mac ${t.mac}  ${dash(t.fromVtep)} → ${t.toVtep}  seq ${t.sequence}  at ${isoTime(t.requestedAt)}\n`;
  const rows = events(t);
  if (rows.length === 0) return `${head}  no peer was sent anything yet\n`;
  return head + formatRows(['>', '', ''], rows.map(([ms, what, peer]) => [afterMs(ms), what, peer]), '  ');
}

export function traceCommand(y: Argv<Globals>): Argv<Globals> {
  return y.command(
    'trace',
    'what was sent to which peer after recent moves, newest first (MobilityService GetMoveTrace)',
    (b) =>
      networkOptions(b)
        .option('mac', { type: 'string', describe: 'only moves of this MAC', requiresArg: true })
        .option('last', { type: 'number', describe: 'only the N newest moves', requiresArg: true }),
    (a) =>
      withApi(a, async (ctl) => {
        const last = a.last === undefined ? undefined : intOption('last', a.last, 1, 1_000_000);
        const filtered = a.network !== undefined || a.vni !== undefined;
        const req: GetMoveTraceRequest = { network: filtered ? networkRef('vm trace', a) : null, mac: a.mac ?? '' };
        const res = await unaryCall<GetMoveTraceResponse__Output>((cb) => ctl.client.mobility.getMoveTrace(req, ctl.unaryOptions(), cb));
        const traces = last === undefined ? res.traces : res.traces.slice(0, last);
        if (ctl.json) return ctl.out(jsonDocument({ ...res, traces }));
        if (traces.length === 0) {
          const of = a.mac !== undefined ? ` of mac ${canonicalMac(a.mac)}` : '';
          const where = filtered ? ` in ${networkLabel(a)}` : '';
          return ctl.out(`no move traces${of}${where}\n`);
        }
        ctl.out(traces.map(moveTraceText).join('\n'));
      }),
  );
}
