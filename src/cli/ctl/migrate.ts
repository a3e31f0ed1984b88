/**
 * `vmmictl vm migrate prepare|commit|abort`: migration with rollback
 * (MobilityService PrepareMigration, CommitMigration, AbortMigration). A
 * preparation vmmid refuses (its reply lists `reasons`) exits 7, like
 * FAILED_PRECONDITION, with one `vmmictl: migration refused: …` line per
 * reason on stderr.
 */
import type { Argv } from 'yargs';
import type { AbortMigrationRequest } from '../../../gen/proto/vmmi/v1/AbortMigrationRequest.js';
import type { AbortMigrationResponse__Output } from '../../../gen/proto/vmmi/v1/AbortMigrationResponse.js';
import type { CommitMigrationResponse__Output } from '../../../gen/proto/vmmi/v1/CommitMigrationResponse.js';
import type { Migration__Output } from '../../../gen/proto/vmmi/v1/Migration.js';
import type { PrepareMigrationRequest } from '../../../gen/proto/vmmi/v1/PrepareMigrationRequest.js';
import type { PrepareMigrationResponse__Output } from '../../../gen/proto/vmmi/v1/PrepareMigrationResponse.js';
import { unaryCall } from '../../api/client.js';
import { type Globals, withApi } from './context.js';
import { CommandFailed, EXIT } from './errors.js';
import { networkRef, vmOptions } from './network.js';
import { dash, isoTime, jsonDocument, routeTable } from './output.js';
import { formatFields } from './table.js';

type Field = readonly [string, string];

function migrationFields(m: Migration__Output | null): Field[] {
  if (!m) return [];
  return [
    ['migration', m.id],
    ['state', m.state],
    ['network', m.network],
    ['mac', m.mac],
    ['vm id', m.vmId],
    ['source VTEP', m.sourceVtep],
    ['target VTEP', m.targetVtep],
    ['agent', dash(m.agent)],
    ['prepared at', isoTime(m.preparedAt)],
    ['ended at', isoTime(m.endedAt)],
    ['reason', dash(m.reason)],
  ];
}

/** A sequence number, or "-" for none (an abort before the commit advertises nothing). */
const seq = (n: number): string => (n > 0 ? String(n) : '-');

export function migrateCommands(y: Argv<Globals>): Argv<Globals> {
  return y.command('migrate', 'move a VM with rollback: prepare, then commit or abort', (m) =>
    m
      .command(
        'prepare',
        'check that the VM may move to --to and reserve the move: prints the migration id',
        (b) => vmOptions(b).option('to', { type: 'string', describe: 'the target VTEP', requiresArg: true, demandOption: true }),
        (a) =>
          withApi(a, async (ctl) => {
            const req: PrepareMigrationRequest = { network: networkRef('vm migrate prepare', a), mac: a.mac, targetVtep: a.to };
            const res = await unaryCall<PrepareMigrationResponse__Output>((cb) => ctl.client.mobility.prepareMigration(req, ctl.unaryOptions(), cb));
            if (ctl.json) ctl.out(jsonDocument(res));
            else if (res.reasons.length === 0) ctl.out(formatFields(migrationFields(res.migration)));
            if (res.reasons.length > 0) {
              throw new CommandFailed(
                EXIT.failedPrecondition,
                res.reasons.map((r) => `migration refused: ${r}`),
              );
            }
          }),
      )
      .command(
        'commit <id>',
        'move the VM to the target: announce it there with the next sequence number',
        (b) => b.positional('id', { type: 'string', describe: 'the migration id prepare printed', demandOption: true }),
        (a) =>
          withApi(a, async (ctl) => {
            const res = await unaryCall<CommitMigrationResponse__Output>((cb) =>
              ctl.client.mobility.commitMigration({ id: a.id }, ctl.unaryOptions(), cb),
            );
            if (ctl.json) return ctl.out(jsonDocument(res));
            ctl.out(formatFields([...migrationFields(res.migration), ['sequence', seq(res.sequence)], ['routes', String(res.routes.length)]]));
            if (res.routes.length > 0) ctl.out(`\n${routeTable(res.routes)}`);
          }),
      )
      .command(
        'abort <id>',
        'call a migration off: release the reservation, or (after the commit) announce the VM at its source again',
        (b) =>
          b
            .positional('id', { type: 'string', describe: 'the migration id prepare printed', demandOption: true })
            .option('reason', { type: 'string', describe: 'why, for the event and the record', requiresArg: true }),
        (a) =>
          withApi(a, async (ctl) => {
            const req: AbortMigrationRequest = { id: a.id, reason: a.reason ?? '' };
            const res = await unaryCall<AbortMigrationResponse__Output>((cb) => ctl.client.mobility.abortMigration(req, ctl.unaryOptions(), cb));
            if (ctl.json) return ctl.out(jsonDocument(res));
            ctl.out(formatFields([...migrationFields(res.migration), ['sequence', seq(res.sequence)]]));
          }),
      )
      .demandCommand(1, 'vm migrate needs a command: prepare, commit or abort'),
  );
}
