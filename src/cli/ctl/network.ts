/**
 * How commands of the MobilityService name a network (`--network NAME` or
 * `--vni N`) and a MAC, shared by `vm` and `vm migrate`.
 */
import type { Argv } from 'yargs';
import type { NetworkRef } from '../../../gen/proto/vmmi/v1/NetworkRef.js';
import { formatMac, parseMac } from '../../evpn/mac.js';
import { intOption } from './context.js';
import { UsageError } from './errors.js';

/** `--network NAME` or `--vni N` (one of them; `networkRef` says so when neither is given). */
export function networkOptions<T>(y: Argv<T>) {
  return y
    .option('network', { type: 'string', describe: 'network name (networks: in the config)', requiresArg: true, conflicts: 'vni' })
    .option('vni', { type: 'number', describe: 'or the network\'s L2 VNI', requiresArg: true });
}

/** `networkOptions` plus the VM's `--mac`, required. */
export function vmOptions<T>(y: Argv<T>) {
  return networkOptions(y).option('mac', { type: 'string', describe: 'the VM\'s MAC address', requiresArg: true, demandOption: true });
}

export interface NetworkArgs {
  readonly network?: string | undefined;
  readonly vni?: number | undefined;
}

/** The NetworkRef of the options; `command` ("vm announce") names the command in the usage error. */
export function networkRef(command: string, a: NetworkArgs): NetworkRef {
  if (a.network !== undefined) return { name: a.network };
  if (a.vni !== undefined) return { vni: intOption('vni', a.vni, 0, 0xffffffff) };
  throw new UsageError(`${command} needs --network NAME or --vni N`);
}

/** "network blue" or "vni 10100", as the options named it. */
export function networkLabel(a: NetworkArgs): string {
  return a.network !== undefined ? `network ${a.network}` : `vni ${String(a.vni)}`;
}

/**
 * A MAC in the form vmmid stores it, so "52-54-00-AA-BB-01" and
 * "52:54:00:aa:bb:01" name the same VM. A MAC that does not parse is kept as
 * typed, for vmmid to reject.
 */
export function canonicalMac(mac: string): string {
  const m = parseMac(mac);
  return m.ok ? formatMac(m.value) : mac;
}
