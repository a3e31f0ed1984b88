/**
 * `vmmictl watch routes|mobility`: one line per event until Ctrl-C (or until
 * vmmid ends the stream), JSON lines with --json. SIGINT/SIGTERM cancel the
 * call and end vmmictl with exit code 0; the stream ending with an error
 * status (vmmid going away, a consumer too slow) is reported like any other.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Argv } from 'yargs';
import type { MobilityEvent__Output } from '../../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { RouteEvent__Output } from '../../../gen/proto/vmmi/v1/RouteEvent.js';
import type { WatchRoutesRequest } from '../../../gen/proto/vmmi/v1/WatchRoutesRequest.js';
import { type Ctl, type Globals, withApi } from './context.js';
import { FAMILY_CHOICES, familyName, filterOptions, routeFilter } from './filter.js';
import { dash, isoTime, jsonLine, list, routeAttributes } from './output.js';

/** Prints every message of a server stream until it ends or the user interrupts. */
export function follow<T>(ctl: Ctl, call: grpc.ClientReadableStream<T>, line: (event: T) => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let interrupted = false;
    const stop = (): void => {
      interrupted = true;
      call.cancel();
    };
    const done = (e?: unknown): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (e === undefined || interrupted) resolve();
      else reject(e);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    call.on('data', (event: T) => ctl.out(ctl.json ? jsonLine(event) : line(event)));
    call.on('error', (e: unknown) => done(e));
    call.on('end', () => done());
  });
}

export function routeEventLine(e: RouteEvent__Output): string {
  const r = e.route;
  const what = e.withdrawn ? 'withdrawn' : 'best     ';
  if (!r) return `${isoTime(e.time)}  ${what}\n`;
  const nh = dash(r.attributes?.nextHop);
  return `${isoTime(e.time)}  ${what}  ${r.family}  ${r.prefix}  next-hop ${nh}  from ${dash(r.source)}  ${routeAttributes(r)}\n`;
}

/**
 * One line per mobility event. What only some kinds carry comes last, when
 * set: `sticky`, `migration ID` (migration steps), and `detail: …` (why: a
 * conflict, a refusal, a duplicate, an abort's reason), which may hold spaces.
 */
export function mobilityEventLine(e: MobilityEvent__Output): string {
  const kind = e.kind.padEnd(9);
  const move = `${dash(e.fromVtep)} -> ${dash(e.toVtep)}`;
  const extra = [
    ...(e.sticky ? ['sticky'] : []),
    ...(e.migrationId !== '' ? [`migration ${e.migrationId}`] : []),
    ...(e.detail !== '' ? [`detail: ${e.detail}`] : []),
  ];
  return (
    `${isoTime(e.time)}  ${kind}  ${e.network} (vni ${e.vni})  mac ${e.mac}  vm ${e.vmId}  ${move}` +
    `  seq ${e.sequence}  ips ${list(e.ips, ',')}  by ${dash(e.agent)}${extra.map((x) => `  ${x}`).join('')}\n`
  );
}

export function watchCommands(y: Argv<Globals>): Argv<Globals> {
  return y.command('watch', 'follow changes as they happen, until Ctrl-C', (w) =>
    w
      .command(
        'routes',
        'best-path changes (ControlService WatchRoutes)',
        (b) =>
          filterOptions(b)
            .option('family', { alias: 'a', choices: FAMILY_CHOICES, describe: 'address family', defaultDescription: 'every family' })
            .option('initial', { type: 'boolean', default: false, describe: 'print the current best paths first' }),
        (a) =>
          withApi(a, async (ctl) => {
            const req: WatchRoutesRequest = {
              family: a.family === undefined ? '' : familyName(a.family),
              filter: routeFilter(a),
              initial: a.initial,
            };
            await follow(ctl, ctl.client.control.watchRoutes(req), routeEventLine);
          }),
      )
      .command(
        'mobility',
        'VM arrivals, departures, moves, updates, conflicts, duplicates and migration steps (MobilityService WatchMobility)',
        (b) => b.option('network', { type: 'string', describe: 'only events of this network', requiresArg: true }),
        (a) =>
          withApi(a, async (ctl) => {
            await follow(ctl, ctl.client.mobility.watchMobility({ network: a.network ?? '' }), mobilityEventLine);
          }),
      )
      .demandCommand(1, 'watch needs a command: routes or mobility'),
  );
}
