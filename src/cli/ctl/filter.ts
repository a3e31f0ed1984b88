/**
 * Family names and route-filter options shared by `rib`, `watch routes` and
 * `neighbor add`. People type the short names GoBGP uses (`-a evpn`); vmmid
 * gets the config's names (src/config/families.ts), which it also accepts in
 * requests.
 */
import type { Argv } from 'yargs';
import type { RouteFilter } from '../../../gen/proto/vmmi/v1/RouteFilter.js';
import { type FamilyName, FAMILY_NAMES } from '../../config/families.js';
import { intOption } from './context.js';

const SHORT_FAMILIES = {
  evpn: 'l2vpn-evpn',
  ipv4: 'ipv4-unicast',
  ipv6: 'ipv6-unicast',
  'ipv4-vpn': 'ipv4-vpn',
  'ipv6-vpn': 'ipv6-vpn',
} as const satisfies Record<string, FamilyName>;

/** What `-a` and `--families` accept: the short names, and the config's own. */
export const FAMILY_CHOICES: readonly string[] = [...new Set([...Object.keys(SHORT_FAMILIES), ...FAMILY_NAMES])];

const BY_SHORT_NAME = new Map<string, FamilyName>(Object.entries(SHORT_FAMILIES));

/** The config's name of a family choice ("evpn" → "l2vpn-evpn"). */
export function familyName(choice: string): string {
  return BY_SHORT_NAME.get(choice) ?? choice;
}

const FILTER_GROUP = 'Route filter (every one given must match):';

export function filterOptions<T>(y: Argv<T>) {
  return y
    .option('rd', { type: 'string', describe: 'route distinguisher, e.g. 10.0.0.21:100 or 65000:1', requiresArg: true, global: false })
    .option('rt', { type: 'string', describe: 'a route target the route carries, e.g. 65000:10100', requiresArg: true, global: false })
    .option('mac', { type: 'string', describe: 'EVPN type-2 MAC address', requiresArg: true, global: false })
    .option('ip', { type: 'string', describe: 'an address (routes containing it) or a prefix IP/LEN (routes inside it)', requiresArg: true, global: false })
    .option('vni', { type: 'number', describe: 'EVPN ethernet tag or VNI', requiresArg: true, global: false })
    .option('type', { type: 'number', describe: 'EVPN route type 1..5', requiresArg: true, global: false })
    .group(['rd', 'rt', 'mac', 'ip', 'vni', 'type'], FILTER_GROUP);
}

export interface FilterArgs {
  readonly rd?: string | undefined;
  readonly rt?: string | undefined;
  readonly mac?: string | undefined;
  readonly ip?: string | undefined;
  readonly vni?: number | undefined;
  readonly type?: number | undefined;
}

/** The RouteFilter of the options given; vmmid checks the syntax of each field (INVALID_ARGUMENT). */
export function routeFilter(a: FilterArgs): RouteFilter {
  const f: RouteFilter = {};
  if (a.rd !== undefined) f.rd = a.rd;
  if (a.rt !== undefined) f.routeTarget = a.rt;
  if (a.mac !== undefined) f.mac = a.mac;
  if (a.ip !== undefined) f.ip = a.ip;
  if (a.vni !== undefined) f.vni = intOption('vni', a.vni, 0, 0xffffffff);
  if (a.type !== undefined) f.routeType = intOption('type', a.type, 1, 5);
  return f;
}
