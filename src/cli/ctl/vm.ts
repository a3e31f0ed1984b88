/**
 * `vmmictl vm announce|withdraw|list`: the MobilityService, as an agent (or
 * an operator standing in for one) uses it.
 */
import type { Argv } from 'yargs';
import type { AnnounceVmRequest } from '../../../gen/proto/vmmi/v1/AnnounceVmRequest.js';
import type { AnnounceVmResponse__Output } from '../../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { ListVmsResponse__Output } from '../../../gen/proto/vmmi/v1/ListVmsResponse.js';
import type { NetworkRef } from '../../../gen/proto/vmmi/v1/NetworkRef.js';
import type { Vm__Output } from '../../../gen/proto/vmmi/v1/Vm.js';
import type { WithdrawVmRequest } from '../../../gen/proto/vmmi/v1/WithdrawVmRequest.js';
import type { WithdrawVmResponse__Output } from '../../../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import { unaryCall } from '../../api/client.js';
import { formatMac, parseMac } from '../../evpn/mac.js';
import { type Globals, intOption, withApi } from './context.js';
import { UsageError } from './errors.js';
import { age, dash, jsonArray, jsonDocument, list, routeTable, yesNo } from './output.js';
import { formatFields, formatTable } from './table.js';

function networkOptions<T>(y: Argv<T>) {
  return y
    .option('network', { type: 'string', describe: 'network name (networks: in the config)', requiresArg: true, conflicts: 'vni' })
    .option('vni', { type: 'number', describe: 'or the network\'s L2 VNI', requiresArg: true })
    .option('mac', { type: 'string', describe: 'the VM\'s MAC address', requiresArg: true, demandOption: true });
}

function networkRef(command: string, a: { network?: string | undefined; vni?: number | undefined }): NetworkRef {
  if (a.network !== undefined) return { name: a.network };
  if (a.vni !== undefined) return { vni: intOption('vni', a.vni, 0, 0xffffffff) };
  throw new UsageError(`vm ${command} needs --network NAME or --vni N`);
}

/**
 * The VM id when none is given: the MAC in the form vmmid stores it, so
 * "52-54-00-AA-BB-01" and "52:54:00:aa:bb:01" name the same VM. A MAC that
 * does not parse is sent as typed, for vmmid to reject.
 */
function defaultVmId(mac: string): string {
  const m = parseMac(mac);
  return m.ok ? formatMac(m.value) : mac;
}

const VM_COLUMNS = ['VM ID', 'NETWORK', '>VNI', 'MAC', 'IPS', 'VTEP', '>SEQ', 'AGENT', 'AGE'];

function vmRow(v: Vm__Output, now: number): string[] {
  return [v.vmId, v.network, String(v.vni), v.mac, list(v.ips, ','), v.vtep, String(v.sequence), dash(v.agent), age(v.since, now)];
}

export function vmCommands(y: Argv<Globals>): Argv<Globals> {
  return y.command('vm', 'announce, withdraw and list VMs (MobilityService)', (vm) =>
    vm
      .command(
        'announce',
        'a VM is at a VTEP: originate its EVPN routes',
        (b) =>
          networkOptions(b)
            .option('ip', { type: 'string', array: true, describe: 'an address of the VM (repeat for more)', requiresArg: true })
            .option('vtep', { type: 'string', describe: 'the hypervisor\'s VTEP address', requiresArg: true, demandOption: true })
            .option('vm-id', { type: 'string', describe: 'the agent\'s id of the VM', defaultDescription: 'the MAC', requiresArg: true }),
        (a) =>
          withApi(a, async (ctl) => {
            const req: AnnounceVmRequest = {
              vmId: a['vm-id'] ?? defaultVmId(a.mac),
              network: networkRef('announce', a),
              mac: a.mac,
              ips: a.ip ?? [],
              vtep: a.vtep,
            };
            const res = await unaryCall<AnnounceVmResponse__Output>((cb) => ctl.client.mobility.announceVm(req, ctl.unaryOptions(), cb));
            if (ctl.json) return ctl.out(jsonDocument(res));
            ctl.out(
              formatFields([
                ['sequence', String(res.sequence)],
                ['changed', yesNo(res.changed)],
                ['previous VTEP', dash(res.previousVtep)],
                ['routes', String(res.routes.length)],
              ]),
            );
            if (res.routes.length > 0) ctl.out(`\n${routeTable(res.routes)}`);
          }),
      )
      .command(
        'withdraw',
        'a VM left: withdraw its routes',
        (b) => networkOptions(b).option('vm-id', { type: 'string', describe: 'must match the id it was announced with', requiresArg: true }),
        (a) =>
          withApi(a, async (ctl) => {
            const req: WithdrawVmRequest = { network: networkRef('withdraw', a), mac: a.mac, vmId: a['vm-id'] ?? '' };
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
      .demandCommand(1, 'vm needs a command: announce, withdraw or list'),
  );
}
