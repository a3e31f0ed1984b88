/**
 * Replays a mobility scenario (test/vm/scenarios/*.json|yaml) against a fresh
 * VmRegistry + Migrations + Rib on a FakeClock: events in, expected RIB,
 * UPDATEs and VM events out (issue #5). The format, in short:
 *
 *   {
 *     "description": "… RFC 7432 §15 …",
 *     "networks": [NetworkConfig…],          optional; default one network "blue", VNI/EVI 10100, RT 65000:10100
 *     "migrationTimeoutMs": 60000,           optional
 *     "clockStart": 0,                       optional
 *     "todo": "why",                         optional: a known deviation; reported, does not fail the suite
 *     "steps": [ { "do": "<action>", …arguments, "expect": {…}, …checks }, … ]
 *   }
 *
 * Actions (network defaults to the first one, agent to "hv"):
 *   announce        vm, mac, vtep, ips?, network?, agent?, sticky?, planned?
 *                   expect: seq, changed, duplicate, previousVtep (null = none), routes (count), error, message
 *   withdraw        mac, network?, vmId?           expect: routes (count of routes withdrawn), error, message
 *   remote          peer, mac, vtep, seq, ip?, sticky?, rd?, rt?, network?   a peer's MAC/IP route (announce)
 *   remote-withdraw peer, mac, vtep, ip?, rd?, network?
 *   advance         ms                             FakeClock.advance (timers fire on the way)
 *   settle                                         awaits a macrotask: deferred reactions to peers' routes run
 *   prepare         as, mac, target, network?, agent?, provisioned? (default true)
 *                   expect: ok, reasons (regexes, in order), error, message
 *   commit          as, network?, agent?           expect: seq, duplicate, state, error, message
 *   abort           as, agent?, reason?            expect: seq (null = nothing re-announced), state, error, message
 *   clear-duplicate mac, network?                  expect: cleared
 *   resolve         ip, network?                   expect: null or {mac, vtep, seq, source} (the keys given)
 *   check                                          checks only
 *
 * Checks (on any step, evaluated right after its action, before anything
 * deferred runs; `error` is a VmError kind, `message` a regex):
 *   rib         every route vmmi originates, as sorted compact strings:
 *               "2 <rd> <mac> [<ip>] nh=<vtep> mm=<seq>[ sticky]", "3 <rd> nh=<vtep>"
 *   updates     best-path changes of vmmi's routes since the last `updates` check, in order
 *               (what goes out in UPDATEs): "+2 <rd> <mac> [<ip>] mm=<seq>[ sticky]", "-2 <rd> <mac> [<ip>]", "+3 <rd>", "-3 <rd>"
 *   events      VmEvents since the last `events` check, in order:
 *               "<kind> <vmId> <from>-><to> seq=<n> by=<agent>[ m=<migration name>][ ~ <regex on detail>]"
 *   vms         the registry, sorted: "<vmId> <network>/<mac> <vtep> seq=<n>[ ips=a,b][ sticky][ duplicate]"
 *   migrations  { "<as>": "<state>[ ~ <regex on reason>]" }
 *   forget      ["updates"|"events"]: drops what was captured so far unchecked (after the checks)
 *
 * A step may carry a free-text "note". Unknown keys are rejected. A difference
 * fails with the file, the step index (from 0) and expected vs actual.
 */
import { AssertionError } from 'node:assert';
import { silentLogger } from '../../src/core/log.js';
import { bytesToIp, ipToBytes } from '../../src/core/ip.js';
import { Origin } from '../../src/bgp/wire/constants.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { formatRd } from '../../src/bgp/wire/rd.js';
import type { NetworkConfig } from '../../src/config/types.js';
import { decodeExtCommunities, encodeExtCommunities, macMobility, parseRouteTarget } from '../../src/evpn/ext-communities.js';
import { labelFromVni, labelToVni } from '../../src/evpn/label.js';
import { formatMac } from '../../src/evpn/mac.js';
import { macIpRoute } from '../../src/evpn/nlri.js';
import type { EvpnRoute } from '../../src/evpn/route.js';
import type { Path, PathSource } from '../../src/rib/path.js';
import { Rib } from '../../src/rib/rib.js';
import { MemoryVmStore } from '../../src/store/vm-store.js';
import { VmError } from '../../src/vm/errors.js';
import { type Migration, Migrations } from '../../src/vm/migrations.js';
import { VmNetwork } from '../../src/vm/network.js';
import { type VmEvent, VmRegistry } from '../../src/vm/registry.js';
import { checkIps, checkMac, checkVmId, checkVtep } from '../../src/vm/validate.js';
import { FakeClock } from '../fsm/fake-clock.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface Scenario {
  readonly description: string;
  readonly networks?: NetworkConfig[];
  readonly migrationTimeoutMs?: number;
  readonly clockStart?: number;
  readonly todo?: string;
  readonly steps: Obj[];
}

const DEFAULT_NETWORK: NetworkConfig = { name: 'blue', vni: 10100, evi: 10100, routeTargets: ['65000:10100'] };
const ROUTER_ID = '192.0.2.1';
const LOCAL: PathSource = {
  id: 'local', address: Buffer.from([192, 0, 2, 1]), routerId: 0xc0000201, asn: 65000, ibgp: false, local: true, rrClient: false,
};

const CHECKS = ['rib', 'updates', 'events', 'vms', 'migrations'] as const;
/** The arguments each action takes besides `do`, `expect` and the checks. */
const ACTIONS: Record<string, { required: string[]; optional: string[]; expect: string[] }> = {
  announce: { required: ['vm', 'mac', 'vtep'], optional: ['ips', 'network', 'agent', 'sticky', 'planned'], expect: ['seq', 'changed', 'duplicate', 'previousVtep', 'routes', 'error', 'message'] },
  withdraw: { required: ['mac'], optional: ['network', 'vmId'], expect: ['routes', 'error', 'message'] },
  remote: { required: ['peer', 'mac', 'vtep', 'seq'], optional: ['ip', 'sticky', 'rd', 'rt', 'network'], expect: [] },
  'remote-withdraw': { required: ['peer', 'mac', 'vtep'], optional: ['ip', 'rd', 'network'], expect: [] },
  advance: { required: ['ms'], optional: [], expect: [] },
  settle: { required: [], optional: [], expect: [] },
  prepare: { required: ['as', 'mac', 'target'], optional: ['network', 'agent', 'provisioned'], expect: ['ok', 'reasons', 'error', 'message'] },
  commit: { required: ['as'], optional: ['network', 'agent'], expect: ['seq', 'duplicate', 'state', 'error', 'message'] },
  abort: { required: ['as'], optional: ['agent', 'reason'], expect: ['seq', 'state', 'error', 'message'] },
  'clear-duplicate': { required: ['mac'], optional: ['network'], expect: ['cleared'] },
  resolve: { required: ['ip'], optional: ['network'], expect: ['mac', 'vtep', 'seq', 'source'] },
  check: { required: [], optional: [], expect: [] },
};

/** A scenario's mismatch: names the file and the step, shows expected vs actual. */
export class ScenarioError extends AssertionError {
  constructor(file: string, step: number, what: string, expected: unknown, actual: unknown, note?: string) {
    super({
      message: `${file}: step ${step}: ${what} differs${note ? ` (${note})` : ''}\n  expected: ${show(expected)}\n  actual:   ${show(actual)}`,
      expected, actual, operator: 'scenario',
    });
  }
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[\n${v.map((x) => `    ${typeof x === 'string' ? x : JSON.stringify(x)}`).join('\n')}\n  ]`;
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/** "+2 rd mac ip mm=1" style text of a path; `nh` adds the next hop, `attrs` the MAC Mobility. */
function routeText(p: Path, o: { nh: boolean; attrs: boolean }): string {
  const r = p.nlri as EvpnRoute;
  const parts: string[] = [String(r.routeType), 'rd' in r ? formatRd(r.rd) : '?'];
  if (r.kind === 'mac-ip') {
    parts.push(formatMac(r.mac));
    if (r.ip) parts.push(bytesToIp(r.ip));
  }
  if (!o.attrs) return parts.join(' ');
  if (o.nh) parts.push(`nh=${p.attrs.nextHop ? bytesToIp(p.attrs.nextHop) : '-'}`);
  if (r.kind === 'mac-ip') {
    const mm = macMobility(decodeExtCommunities(p.attrs.extCommunities ?? Buffer.alloc(0)));
    parts.push(mm ? `mm=${mm.seq}${mm.sticky ? ' sticky' : ''}` : 'mm=none');
    if (r.label2) parts.push(`l3=${labelToVni(r.label2)}`);
  }
  return parts.join(' ');
}

function asRegExp(file: string, step: number, text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (e) {
    throw new Error(`${file}: step ${step}: bad regular expression /${text}/: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** "head ~ regex": the head compares exactly, the regex (if any) must match `detail`. */
function splitDetail(s: string): { head: string; re?: string } {
  const i = s.indexOf(' ~ ');
  return i < 0 ? { head: s } : { head: s.slice(0, i), re: s.slice(i + 3) };
}

export async function runScenario(file: string, sc: Scenario): Promise<void> {
  checkShape(file, sc);
  const rib = new Rib();
  const clock = new FakeClock(sc.clockStart ?? 0);
  const configs = sc.networks ?? [DEFAULT_NETWORK];
  const networks = new Map(configs.map((n) => [n.name, new VmNetwork(n, ROUTER_ID)]));
  const firstNet = configs[0]!.name;
  const reg = new VmRegistry(networks, rib, LOCAL, new MemoryVmStore(), clock, silentLogger());
  const migrations = new Migrations(reg, clock, sc.migrationTimeoutMs ?? 60_000, silentLogger());
  const peers = new Map<string, PathSource>();
  /** Migration names (`as`) and the ids Migrations gave them, both ways. */
  const ids = new Map<string, string>();
  const names = new Map<string, string>();

  /** Formatted when checked: a migration-prepared event comes before prepare() returns the id its name maps to. */
  const events: VmEvent[] = [];
  reg.events$.subscribe((e) => events.push(e));
  const eventText = (e: VmEvent): string => {
    const m = e.migrationId !== undefined ? ` m=${names.get(e.migrationId) ?? e.migrationId}` : '';
    return `${e.kind} ${e.vmId} ${e.fromVtep ?? ''}->${e.toVtep ?? ''} seq=${e.seq} by=${e.agent}${m}`;
  };
  const updates: string[] = [];
  rib.changes$.subscribe((c) => {
    if (c.family !== L2VPN_EVPN) return;
    if (c.best?.source.id === LOCAL.id) updates.push(`+${routeText(c.best, { nh: false, attrs: true })}`);
    else if (c.previous?.source.id === LOCAL.id) updates.push(`-${routeText(c.previous, { nh: false, attrs: false })}`);
  });

  const net = (step: Obj): VmNetwork => {
    const name = (step.network as string | undefined) ?? firstNet;
    const n = networks.get(name);
    if (!n) throw new Error(`${file}: unknown network "${name}"`);
    return n;
  };
  const peer = (id: string): PathSource => {
    let p = peers.get(id);
    if (!p) {
      const address = ipToBytes(id) ?? Buffer.from([192, 0, 2, 100 + peers.size]);
      p = { id, address, routerId: address.readUInt32BE(0), asn: 65000, ibgp: true, local: false, rrClient: true };
      peers.set(id, p);
    }
    return p;
  };
  const remoteNlri = (s: Obj) => {
    const n = net(s);
    return macIpRoute({
      rd: (s.rd as string | undefined) ?? `${s.vtep as string}:${n.config.evi}`,
      tag: 0, mac: s.mac as string, ip: s.ip as string | undefined, label1: labelFromVni(n.vni),
    });
  };

  for (const [index, step] of sc.steps.entries()) {
    const fail = (what: string, expected: unknown, actual: unknown, note?: string): never => {
      throw new ScenarioError(file, index, what, expected, actual, note);
    };
    const expect = (step.expect ?? {}) as Obj;
    const kind = step.do as string;
    /** Runs an action that may throw a VmError; checks expect.error/message; returns undefined if it threw as expected. */
    const attempt = async <T>(run: () => T | Promise<T>): Promise<T | undefined> => {
      try {
        const r = await run();
        if (expect.error !== undefined) fail(`${kind} outcome`, { error: expect.error, message: expect.message }, { result: 'no error' });
        return r;
      } catch (e) {
        if (e instanceof ScenarioError) throw e;
        const actual = e instanceof VmError ? { error: e.kind, message: e.message } : { error: 'exception', message: e instanceof Error ? e.stack ?? e.message : String(e) };
        if (expect.error === undefined) fail(`${kind} outcome`, 'success', actual);
        if (actual.error !== expect.error || (typeof expect.message === 'string' && !asRegExp(file, index, expect.message).test(actual.message))) {
          fail(`${kind} error`, { error: expect.error, message: expect.message }, actual);
        }
        return undefined;
      }
    };
    /** Compares the listed expect keys with the actual values (null = absent). */
    const compare = (what: string, actual: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(expect)) {
        if (k === 'error' || k === 'message' || k === 'reasons') continue;
        const a = actual[k] ?? null;
        if (JSON.stringify(a) !== JSON.stringify(v)) fail(`${what}.${k}`, v, a);
      }
    };

    switch (kind) {
      case 'announce': {
        const n = net(step);
        const r = await attempt(() =>
          reg.announce({
            vmId: checkVmId(step.vm as string), network: n, mac: checkMac(step.mac as string),
            ips: checkIps((step.ips as string[] | undefined) ?? []), vtep: checkVtep(step.vtep as string),
            agent: (step.agent as string | undefined) ?? 'hv', sticky: step.sticky === true, planned: step.planned === true,
          }),
        );
        if (r) compare('announce result', { seq: r.seq, changed: r.changed, duplicate: r.duplicate, previousVtep: r.previousVtep, routes: r.routes.length });
        break;
      }
      case 'withdraw': {
        const n = net(step);
        const gone = await attempt(() =>
          reg.withdraw({ network: n, mac: checkMac(step.mac as string), ...(step.vmId !== undefined ? { vmId: step.vmId as string } : {}) }),
        );
        if (gone) compare('withdraw result', { routes: gone.length });
        break;
      }
      case 'remote': {
        const n = net(step);
        const rt = step.rt !== undefined ? parseRouteTarget(step.rt as string) : { ok: true as const, value: n.routeTargets[0]! };
        if (!rt.ok) throw new Error(`${file}: step ${index}: bad rt "${String(step.rt)}": ${rt.error}`);
        const nextHop = ipToBytes(step.vtep as string);
        if (!nextHop) throw new Error(`${file}: step ${index}: bad vtep "${String(step.vtep)}"`);
        rib.announce(peer(step.peer as string), L2VPN_EVPN, remoteNlri(step), {
          origin: Origin.Igp, asPath: [], nextHop,
          extCommunities: encodeExtCommunities([rt.value, { kind: 'mac-mobility', sticky: step.sticky === true, seq: step.seq as number }]),
        });
        break;
      }
      case 'remote-withdraw':
        rib.withdraw(peer(step.peer as string).id, L2VPN_EVPN, remoteNlri(step));
        break;
      case 'advance':
        clock.advance(step.ms as number);
        break;
      case 'settle':
        await new Promise((r) => setImmediate(r));
        break;
      case 'prepare': {
        const n = net(step);
        const r = await attempt(() =>
          migrations.prepare({
            network: n, mac: checkMac(step.mac as string), targetVtep: checkVtep(step.target as string),
            agent: (step.agent as string | undefined) ?? 'hv', provisioned: step.provisioned !== false,
          }),
        );
        if (!r) break;
        if (r.ok) {
          ids.set(step.as as string, r.migration.id);
          names.set(r.migration.id, step.as as string);
        }
        const ok = expect.ok ?? (expect.reasons === undefined);
        if (r.ok !== ok) fail('prepare ok', ok, r.ok, r.ok ? undefined : r.reasons.join('; '));
        if (!r.ok && Array.isArray(expect.reasons)) {
          const res = expect.reasons as string[];
          if (res.length !== r.reasons.length || res.some((x, i) => !asRegExp(file, index, x).test(r.reasons[i]!))) fail('prepare reasons', res, r.reasons);
        }
        break;
      }
      case 'commit': {
        const id = ids.get(step.as as string) ?? (step.as as string);
        const r = await attempt(() => migrations.commit(id, net(step), (step.agent as string | undefined) ?? 'hv'));
        if (r) compare('commit result', { seq: r.announced.seq, duplicate: r.announced.duplicate, state: r.migration.state });
        break;
      }
      case 'abort': {
        const id = ids.get(step.as as string) ?? (step.as as string);
        const agent = (step.agent as string | undefined) ?? 'hv';
        const r = await attempt(() => (step.reason !== undefined ? migrations.abort(id, agent, step.reason as string) : migrations.abort(id, agent)));
        if (r) compare('abort result', { seq: r.announced?.seq, state: r.migration.state });
        break;
      }
      case 'clear-duplicate': {
        const cleared = reg.clearDuplicate(net(step), checkMac(step.mac as string));
        compare('clear-duplicate result', { cleared });
        break;
      }
      case 'resolve': {
        const ip = ipToBytes(step.ip as string);
        if (!ip) throw new Error(`${file}: step ${index}: bad ip "${String(step.ip)}"`);
        const r = reg.resolve(net(step), ip);
        if (step.expect === null) {
          if (r !== undefined) fail('resolve', null, r);
        } else if (!r) fail('resolve', expect, null);
        else compare('resolve', { ...r });
        break;
      }
      case 'check':
        break;
    }

    // Checks: synchronously after the action, so nothing deferred has run meanwhile.
    if (step.rib !== undefined) {
      const actual = [...rib.destinations(L2VPN_EVPN)]
        .flatMap((d) => d.paths.filter((p) => p.source.id === LOCAL.id))
        .map((p) => routeText(p, { nh: true, attrs: true }))
        .sort();
      const expected = [...(step.rib as string[])].sort();
      if (JSON.stringify(actual) !== JSON.stringify(expected)) fail('rib', expected, actual);
    }
    if (step.updates !== undefined) {
      const actual = updates.splice(0);
      const expected = step.updates as string[];
      if (JSON.stringify(actual) !== JSON.stringify(expected)) fail('updates', expected, actual, 'since the previous updates check, in order');
    }
    if (step.events !== undefined) {
      const got = events.splice(0);
      const actual = got.map(eventText);
      const det = got.map((e) => e.detail);
      const expected = step.events as string[];
      const same = actual.length === expected.length && expected.every((x, i) => {
        const { head, re } = splitDetail(x);
        return head === actual[i] && (re === undefined || asRegExp(file, index, re).test(det[i] ?? ''));
      });
      if (!same) fail('events', expected, actual.map((a, i) => (det[i] ? `${a} ~ ${det[i]}` : a)), 'since the previous events check, in order');
    }
    if (step.vms !== undefined) {
      const actual = reg.list().map((v) => {
        const n = networks.get(v.network)!;
        return `${v.vmId} ${v.network}/${v.mac} ${v.vtep} seq=${v.seq}${v.ips.length ? ` ips=${v.ips.join(',')}` : ''}${v.sticky ? ' sticky' : ''}${reg.isDuplicate(n, v.mac) ? ' duplicate' : ''}`;
      }).sort();
      const expected = [...(step.vms as string[])].sort();
      if (JSON.stringify(actual) !== JSON.stringify(expected)) fail('vms', expected, actual);
    }
    if (step.migrations !== undefined) {
      for (const [name, want] of Object.entries(step.migrations as Record<string, string>)) {
        const m: Migration | undefined = migrations.get(ids.get(name) ?? name);
        const actual = m ? `${m.state}${m.reason ? ` ~ ${m.reason}` : ''}` : 'unknown';
        const { head, re } = splitDetail(want);
        if (!m || m.state !== head || (re !== undefined && !asRegExp(file, index, re).test(m.reason ?? ''))) fail(`migration ${name}`, want, actual);
      }
    }
    for (const f of (step.forget as string[] | undefined) ?? []) (f === 'updates' ? updates : events).splice(0);
  }
  migrations.close();
  reg.close();
}

/** Rejects typos and missing arguments up front, so a scenario cannot silently check less than it says. */
function checkShape(file: string, sc: Scenario): void {
  const top = new Set(['description', 'networks', 'migrationTimeoutMs', 'clockStart', 'todo', 'steps']);
  for (const k of Object.keys(sc)) if (!top.has(k)) throw new Error(`${file}: unknown top-level key "${k}"`);
  if (typeof sc.description !== 'string' || !/RFC|draft-/.test(sc.description)) throw new Error(`${file}: "description" must say which RFC section it exercises`);
  if (!Array.isArray(sc.steps) || sc.steps.length === 0) throw new Error(`${file}: "steps" must be a non-empty list`);
  for (const [i, s] of sc.steps.entries()) {
    const spec = ACTIONS[s.do as string];
    if (!spec) throw new Error(`${file}: step ${i}: unknown action "${String(s.do)}"; one of ${Object.keys(ACTIONS).join(', ')}`);
    if (s.forget !== undefined && (!Array.isArray(s.forget) || s.forget.some((f) => f !== 'updates' && f !== 'events'))) {
      throw new Error(`${file}: step ${i}: "forget" lists "updates" and/or "events"`);
    }
    const allowed = new Set(['do', 'expect', 'note', 'forget', ...CHECKS, ...spec.required, ...spec.optional]);
    for (const k of Object.keys(s)) if (!allowed.has(k)) throw new Error(`${file}: step ${i} (${String(s.do)}): unknown key "${k}"`);
    for (const k of spec.required) if (s[k] === undefined) throw new Error(`${file}: step ${i} (${String(s.do)}): "${k}" is required`);
    if (s.expect !== undefined && s.expect !== null) {
      if (typeof s.expect !== 'object' || Array.isArray(s.expect)) throw new Error(`${file}: step ${i}: "expect" must be an object`);
      for (const k of Object.keys(s.expect)) if (!spec.expect.includes(k)) throw new Error(`${file}: step ${i} (${String(s.do)}): unknown expect key "${k}"`);
    } else if (s.expect === null && s.do !== 'resolve') throw new Error(`${file}: step ${i}: "expect": null only for resolve`);
  }
}
