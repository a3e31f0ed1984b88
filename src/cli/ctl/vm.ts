/**
 * `vmmictl vm announce|withdraw|list|resolve|clear-duplicate|migrate|trace`:
 * the MobilityService, as an agent (or an operator standing in for one) uses it.
 */
import type { Argv } from 'yargs';
import type { AnnounceVmRequest } from '../../../gen/proto/vmmi/v1/AnnounceVmRequest.js';
import type { AnnounceVmResponse__Output } from '../../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { ClearDuplicateRequest } from '../../../gen/proto/vmmi/v1/ClearDuplicateRequest.js';
import type { ClearDuplicateResponse__Output } from '../../../gen/proto/vmmi/v1/ClearDuplicateResponse.js';
import type { ListVmsResponse__Output } from '../../../gen/proto/vmmi/v1/ListVmsResponse.js';
import type { ResolveAddressRequest } from '../../../gen/proto/vmmi/v1/ResolveAddressRequest.js';
import type { ResolveAddressResponse__Output } from '../../../gen/proto/vmmi/v1/ResolveAddressResponse.js';
import type { Vm__Output } from '../../../gen/proto/vmmi/v1/Vm.js';
import type { WithdrawVmRequest } from '../../../gen/proto/vmmi/v1/WithdrawVmRequest.js';
import type { WithdrawVmResponse__Output } from '../../../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import { unaryCall } from '../../api/client.js';
import { type Globals, withApi } from './context.js';
import { migrateCommands } from './migrate.js';
import { canonicalMac, networkLabel, networkOptions, networkRef, vmOptions } from './network.js';
import { age, dash, jsonArray, jsonDocument, list, routeTable, yesNo } from './output.js';
import { formatFields, formatTable } from './table.js';
import { traceCommand } from './trace.js';

const VM_COLUMNS = ['VM ID', 'NETWORK', '>VNI', 'MAC', 'IPS', 'VTEP', '>SEQ', 'STICKY', 'AGENT', 'AGE'];

function vmRow(v: Vm__Output, now: number): string[] {
  return [v.vmId, v.network, String(v.vni), v.mac, list(v.ips, ','), v.vtep, String(v.sequence), yesNo(v.sticky), dash(v.agent), age(v.since, now)];
}

/** The RFC 9047 ARP/ND flags a resolved binding carries: "router, override", or "" for none. */
function arpNdFlags(r: ResolveAddressResponse__Output): string {
  const flags: string[] = [];
  if (r.router) flags.push('router');
  if (r.override) flags.push('override');
  if (r.immutable) flags.push('immutable');
  return flags.join(', ');
}

export function resolvedFields(r: ResolveAddressResponse__Output): string {
  const flags = arpNdFlags(r);
  return formatFields([
    ['mac', r.mac],
    ['VTEP', r.vtep],
    ['source', r.source],
    ['sequence', String(r.sequence)],
    ...(flags !== '' ? [['ARP/ND flags', flags] as const] : []),
  ]);
}

export function vmCommands(y: Argv<Globals>): Argv<Globals> {
  return y.command('vm', 'announce, withdraw, list, resolve, migrate and trace VMs (MobilityService)', (vm) =>
    traceCommand(migrateCommands(
      vm
        .command(
          'announce',
          'a VM is at a VTEP: originate its EVPN routes',
          (b) =>
            vmOptions(b)
              .option('ip', { type: 'string', array: true, describe: 'an address of the VM (repeat for more)', requiresArg: true })
              .option('vtep', { type: 'string', describe: 'the hypervisor\'s VTEP address', requiresArg: true, demandOption: true })
              .option('vm-id', { type: 'string', describe: 'the agent\'s id of the VM', defaultDescription: 'the MAC', requiresArg: true })
              .option('sticky', { type: 'boolean', default: false, describe: 'a static MAC (RFC 7432 §15.2): advertised sticky, never moves' }),
          (a) =>
            withApi(a, async (ctl) => {
              const req: AnnounceVmRequest = {
                vmId: a['vm-id'] ?? canonicalMac(a.mac),
                network: networkRef('vm announce', a),
                mac: a.mac,
                ips: a.ip ?? [],
                vtep: a.vtep,
                sticky: a.sticky,
              };
              const res = await unaryCall<AnnounceVmResponse__Output>((cb) => ctl.client.mobility.announceVm(req, ctl.unaryOptions(), cb));
              if (ctl.json) return ctl.out(jsonDocument(res));
              ctl.out(
                formatFields([
                  ['sequence', String(res.sequence)],
                  ['changed', yesNo(res.changed)],
                  ['previous VTEP', dash(res.previousVtep)],
                  ['routes', String(res.routes.length)],
                  ...(res.duplicate
                    ? [['duplicate', 'yes: the MAC is marked duplicate (RFC 7432 §15.1), nothing was advertised; see vm clear-duplicate'] as const]
                    : []),
                ]),
              );
              if (res.routes.length > 0) ctl.out(`\n${routeTable(res.routes)}`);
            }),
        )
        .command(
          'withdraw',
          'a VM left: withdraw its routes',
          (b) => vmOptions(b).option('vm-id', { type: 'string', describe: 'must match the id it was announced with', requiresArg: true }),
          (a) =>
            withApi(a, async (ctl) => {
              const req: WithdrawVmRequest = { network: networkRef('vm withdraw', a), mac: a.mac, vmId: a['vm-id'] ?? '' };
              const res = await unaryCall<WithdrawVmResponse__Output>((cb) => ctl.client.mobility.withdrawVm(req, ctl.unaryOptions(), cb));
              if (ctl.json) return ctl.out(jsonDocument(res));
              ctl.out(formatFields([['routes withdrawn', String(res.routes.length)]]));
              if (res.routes.length > 0) ctl.out(`\n${routeTable(res.routes)}`);
            }),
        )
        .command(
          'list',
          'the VMs vmmid holds',
          (b) =>
            b
              .option('network', { type: 'string', describe: 'only VMs of this network', requiresArg: true })
              .option('vtep', { type: 'string', describe: 'only VMs at this VTEP', requiresArg: true }),
          (a) =>
            withApi(a, async (ctl) => {
              const req = { network: a.network ?? '', vtep: a.vtep ?? '' };
              const res = await unaryCall<ListVmsResponse__Output>((cb) => ctl.client.mobility.listVms(req, ctl.unaryOptions(), cb));
              if (ctl.json) return ctl.out(jsonArray(res.vms));
              const now = Date.now();
              ctl.out(formatTable(VM_COLUMNS, res.vms.map((v) => vmRow(v, now))));
            }),
        )
        .command(
          'resolve',
          'the MAC an IP is bound to in a network (RFC 9161 ARP/ND suppression data)',
          (b) => networkOptions(b).option('ip', { type: 'string', describe: 'the IPv4 or IPv6 address', requiresArg: true, demandOption: true }),
          (a) =>
            withApi(a, async (ctl) => {
              const req: ResolveAddressRequest = { network: networkRef('vm resolve', a), ip: a.ip };
              const res = await unaryCall<ResolveAddressResponse__Output>((cb) => ctl.client.mobility.resolveAddress(req, ctl.unaryOptions(), cb));
              ctl.out(ctl.json ? jsonDocument(res) : resolvedFields(res));
            }),
        )
        .command(
          'clear-duplicate',
          'advertise a MAC marked duplicate again, above every sequence number known (operators)',
          (b) => vmOptions(b),
          (a) =>
            withApi(a, async (ctl) => {
              const req: ClearDuplicateRequest = { network: networkRef('vm clear-duplicate', a), mac: a.mac };
              const res = await unaryCall<ClearDuplicateResponse__Output>((cb) => ctl.client.mobility.clearDuplicate(req, ctl.unaryOptions(), cb));
              ctl.out(ctl.json ? jsonDocument(res) : `mac ${canonicalMac(a.mac)} in ${networkLabel(a)}: duplicate mark cleared, advertised again\n`);
            }),
        ),
    )).demandCommand(1, 'vm needs a command: announce, withdraw, list, resolve, clear-duplicate, migrate or trace'),
  );
}
