/**
 * `vmmictl neighbor [ADDR]`, `neighbor add|delete|reset`: the neighbour
 * calls of the ControlService.
 */
import type { Argv } from 'yargs';
import type { AddPeerRequest } from '../../../gen/proto/vmmi/v1/AddPeerRequest.js';
import type { DeletePeerResponse__Output } from '../../../gen/proto/vmmi/v1/DeletePeerResponse.js';
import type { ListPeersResponse__Output } from '../../../gen/proto/vmmi/v1/ListPeersResponse.js';
import type { Peer__Output } from '../../../gen/proto/vmmi/v1/Peer.js';
import type { ResetPeerRequest } from '../../../gen/proto/vmmi/v1/ResetPeerRequest.js';
import type { ResetPeerResponse__Output } from '../../../gen/proto/vmmi/v1/ResetPeerResponse.js';
import { unaryCall } from '../../api/client.js';
import { type Ctl, type Globals, intOption, withApi } from './context.js';
import { FAMILY_CHOICES, familyName } from './filter.js';
import { age, dash, jsonArray, jsonDocument, list, perFamily, total, yesNo } from './output.js';
import { formatFields, formatTable } from './table.js';

const PEER_COLUMNS = ['NEIGHBOR', '>AS', 'STATE', '>UP/DOWN', '>RECEIVED', '>ADVERTISED', 'DESCRIPTION'];

function peerRow(p: Peer__Output, now: number): string[] {
  return [p.address, String(p.remoteAs), p.state, age(p.since, now), total(p.received), total(p.advertised), dash(p.description)];
}

export function peerDetail(p: Peer__Output, now = Date.now()): string {
  return formatFields([
    ['neighbor', p.address],
    ['remote AS', String(p.remoteAs)],
    ['description', dash(p.description)],
    ['state', `${p.state}, for ${age(p.since, now)}`],
    ['router id', dash(p.routerId)],
    ['families', list(p.families)],
    ['negotiated', list(p.negotiatedFamilies)],
    ['hold time', `${p.holdTime}s`],
    ['passive', yesNo(p.passive)],
    ['route reflector client', yesNo(p.routeReflectorClient)],
    ['received', perFamily(p.received)],
    ['advertised', perFamily(p.advertised)],
    ['last error', dash(p.lastError)],
  ]);
}

async function showPeers(ctl: Ctl, address: string | undefined): Promise<void> {
  if (address !== undefined) {
    const p = await unaryCall<Peer__Output>((cb) => ctl.client.control.getPeer({ address }, ctl.unaryOptions(), cb));
    ctl.out(ctl.json ? jsonDocument(p) : peerDetail(p));
    return;
  }
  const res = await unaryCall<ListPeersResponse__Output>((cb) => ctl.client.control.listPeers({}, ctl.unaryOptions(), cb));
  if (ctl.json) return ctl.out(jsonArray(res.peers));
  const now = Date.now();
  ctl.out(formatTable(PEER_COLUMNS, res.peers.map((p) => peerRow(p, now))));
}

const SOFT_MODES = { in: 'SOFT_IN', out: 'SOFT_OUT', both: 'SOFT_BOTH' } as const;

export function neighborCommands(y: Argv<Globals>): Argv<Globals> {
  return y.command(
    'neighbor [address]',
    'list neighbours, or show one (ControlService); add, delete and reset them',
    (n) =>
      n
        .positional('address', { type: 'string', describe: 'show this neighbour in detail' })
        .command(
          'add <address>',
          'add a neighbour at run time (not written to the config file)',
          (b) =>
            b
              .positional('address', { type: 'string', demandOption: true, describe: 'IPv4 or IPv6 address' })
              .option('remote-as', { type: 'number', demandOption: true, describe: 'its AS number', requiresArg: true })
              .option('families', { type: 'string', array: true, choices: FAMILY_CHOICES, describe: 'families to negotiate', defaultDescription: 'ipv4', requiresArg: true })
              .option('passive', { type: 'boolean', default: false, describe: 'only accept its connections' })
              .option('rr-client', { type: 'boolean', default: false, describe: 'a route-reflector client (RFC 4456)' })
              .option('port', { type: 'number', describe: 'its port', defaultDescription: '179', requiresArg: true })
              .option('local-address', { type: 'string', describe: 'source address', requiresArg: true })
              .option('hold-time', { type: 'number', describe: 'seconds: 0 or 3..65535', requiresArg: true })
              .option('description', { type: 'string', describe: 'free text', requiresArg: true }),
          (a) =>
            withApi(a, async (ctl) => {
              const req: AddPeerRequest = {
                address: a.address,
                remoteAs: intOption('remote-as', a['remote-as'], 0, 0xffffffff),
                families: (a.families ?? []).map(familyName),
                passive: a.passive,
                routeReflectorClient: a['rr-client'],
                port: a.port === undefined ? 0 : intOption('port', a.port, 0, 65535),
                localAddress: a['local-address'] ?? '',
                holdTime: a['hold-time'] === undefined ? 0 : intOption('hold-time', a['hold-time'], 0, 65535),
                description: a.description ?? '',
              };
              const p = await unaryCall<Peer__Output>((cb) => ctl.client.control.addPeer(req, ctl.unaryOptions(), cb));
              ctl.out(ctl.json ? jsonDocument(p) : peerDetail(p));
            }),
        )
        .command(
          'delete <address>',
          'send Cease/Peer De-configured and remove the neighbour',
          (b) => b.positional('address', { type: 'string', demandOption: true }),
          (a) =>
            withApi(a, async (ctl) => {
              const res = await unaryCall<DeletePeerResponse__Output>((cb) =>
                ctl.client.control.deletePeer({ address: a.address }, ctl.unaryOptions(), cb),
              );
              ctl.out(ctl.json ? jsonDocument(res) : `neighbor ${a.address} deleted\n`);
            }),
        )
        .command(
          'reset <address>',
          'hard reset (Cease/Administrative Reset, reconnect), or --soft: ask for / send the routes again',
          (b) =>
            b
              .positional('address', { type: 'string', demandOption: true })
              .option('soft', { choices: ['in', 'out', 'both'] as const, describe: 'soft reset: in = ROUTE-REFRESH, out = re-advertise', requiresArg: true })
              .option('message', { type: 'string', describe: 'RFC 9003 shutdown message sent with a hard reset', requiresArg: true }),
          (a) =>
            withApi(a, async (ctl) => {
              const mode = a.soft === undefined ? 'HARD' : SOFT_MODES[a.soft];
              const req: ResetPeerRequest = { address: a.address, mode, message: a.message ?? '' };
              const res = await unaryCall<ResetPeerResponse__Output>((cb) => ctl.client.control.resetPeer(req, ctl.unaryOptions(), cb));
              const what = a.soft === undefined ? 'hard reset' : `soft reset (${a.soft})`;
              ctl.out(ctl.json ? jsonDocument(res) : `neighbor ${a.address}: ${what} done\n`);
            }),
        ),
    (a) => withApi(a, (ctl) => showPeers(ctl, a.address)),
  );
}
