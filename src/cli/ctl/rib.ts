/**
 * `vmmictl rib` (ListRoutes: a RIB table, streamed) and `vmmictl rib summary`
 * (GetRibSummary).
 */
import * as grpc from '@grpc/grpc-js';
import type { Argv } from 'yargs';
import type { ListRoutesRequest } from '../../../gen/proto/vmmi/v1/ListRoutesRequest.js';
import type { RibSummary__Output } from '../../../gen/proto/vmmi/v1/RibSummary.js';
import type { Route__Output } from '../../../gen/proto/vmmi/v1/Route.js';
import { unaryCall } from '../../api/client.js';
import { type Ctl, type Globals, withApi } from './context.js';
import { ClientStatusError, UsageError } from './errors.js';
import { FAMILY_CHOICES, familyName, filterOptions, routeFilter } from './filter.js';
import { JsonArrayWriter, Progress, jsonDocument, perFamily, routeTable } from './output.js';
import { formatTable } from './table.js';

const TABLES = { loc: 'LOC', 'adj-in': 'ADJ_IN', 'adj-out': 'ADJ_OUT' } as const;

/**
 * Streams a ListRoutes call into `onRoute`. There is no deadline on the whole
 * listing (a big table may take longer than --timeout); instead the call is
 * given up when vmmid sends nothing for --timeout seconds.
 */
export function streamRoutes(ctl: Ctl, req: ListRoutesRequest, onRoute: (r: Route__Output) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = ctl.client.control.listRoutes(req);
    let idle: NodeJS.Timeout | undefined;
    let stalled = false;
    let settled = false;
    const settle = (e?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      if (e === undefined) resolve();
      else reject(e);
    };
    const arm = (): void => {
      if (ctl.timeoutMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        stalled = true;
        call.cancel();
      }, ctl.timeoutMs);
    };
    arm();
    call.on('data', (r: Route__Output) => {
      arm();
      try {
        onRoute(r);
      } catch (e) {
        call.cancel();
        settle(e);
      }
    });
    call.on('error', (e: unknown) => {
      settle(stalled ? new ClientStatusError(grpc.status.DEADLINE_EXCEEDED, `vmmid sent nothing for ${ctl.timeoutMs / 1000} s`) : e);
    });
    call.on('end', () => settle());
  });
}

/** A listing on stdout: JSON array items as they arrive, or a table at the end (with progress on a terminal meanwhile). */
export async function printRoutes(ctl: Ctl, req: ListRoutesRequest): Promise<void> {
  if (ctl.json) {
    const out = new JsonArrayWriter((t) => ctl.out(t));
    await streamRoutes(ctl, req, (r) => out.push(r));
    out.end();
    return;
  }
  const routes: Route__Output[] = [];
  const progress = new Progress(process.stderr.isTTY === true, 'routes');
  try {
    await streamRoutes(ctl, req, (r) => {
      routes.push(r);
      progress.add();
    });
  } finally {
    progress.stop();
  }
  ctl.out(routeTable(routes));
}

function summaryText(s: RibSummary__Output): string {
  const families = formatTable(
    ['FAMILY', '>DESTINATIONS', '>PATHS'],
    s.families.map((f) => [f.family, f.destinations, f.paths]),
  );
  if (s.peers.length === 0) return families;
  const peers = formatTable(
    ['NEIGHBOR', 'STATE', 'RECEIVED', 'ADVERTISED'],
    s.peers.map((p) => [p.address, p.state, perFamily(p.received), perFamily(p.advertised)]),
  );
  return `${families}\n${peers}`;
}

export function ribCommands(y: Argv<Globals>): Argv<Globals> {
  return y.command(
    'rib',
    'list a RIB table (ControlService ListRoutes); `rib summary` for counts',
    (r) =>
      filterOptions(
        r
          .command(
            'summary',
            'destinations and paths per family, routes per neighbour',
            (b) => b,
            (a) =>
              withApi(a, async (ctl) => {
                const s = await unaryCall<RibSummary__Output>((cb) => ctl.client.control.getRibSummary({}, ctl.unaryOptions(), cb));
                ctl.out(ctl.json ? jsonDocument(s) : summaryText(s));
              }),
          )
          .option('family', { alias: 'a', choices: FAMILY_CHOICES, default: 'evpn', describe: 'address family', global: false })
          .option('table', { choices: ['loc', 'adj-in', 'adj-out'] as const, default: 'loc' as const, describe: 'Loc-RIB, or a neighbour\'s Adj-RIB-In / Adj-RIB-Out', global: false })
          .option('peer', { type: 'string', describe: 'the neighbour of --table adj-in / adj-out', requiresArg: true, global: false })
          .option('best', { type: 'boolean', default: false, describe: 'only best paths (Loc-RIB)', global: false }),
      ),
    (a) =>
      withApi(a, async (ctl) => {
        if (a.table !== 'loc' && a.peer === undefined) throw new UsageError(`--table ${a.table} needs --peer ADDR`);
        const req: ListRoutesRequest = {
          family: familyName(a.family),
          table: TABLES[a.table],
          peer: a.peer ?? '',
          filter: routeFilter(a),
          bestOnly: a.best,
        };
        await printRoutes(ctl, req);
      }),
  );
}
