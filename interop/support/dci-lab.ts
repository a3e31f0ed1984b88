/**
 * The two-data-center lab of interop/dataplane-dci.test.ts: two vmmids, each
 * the DC gateway of one data center, interconnected by iBGP EVPN (the DCI),
 * each with eBGP to one WAN router; an FRR PE with a real VXLAN data plane
 * sees the VM move between the data centers' hypervisors.
 *
 *          WAN (FRR bgpd only, AS 65100, root ns, .3)
 *         eBGP ╱  l2vpn-evpn + ipv4-vpn  ╲ eBGP
 *   gw1 (vmmid, .1) ══ iBGP EVPN (DCI) ══ gw2 (vmmid, .2)     root namespace, 10.97.X.0/29 on `vmdci<pid>`
 *   agent API: h1 │  ╲ iBGP EVPN, PE is a  ╱  │ agent API: h2  (the test is both hypervisors' agent)
 *                 │   route-reflector client of both
 *                 │     pe (FRR zebra+bgpd, br300+vxlan300, VTEP 10.99.0.1, .6) ── user 10.3.0.100
 *                 │      │ underlay bridge in `ul`, 10.99.0.0/24
 *           h1 (VTEP .21, DC1) ─ h2 (VTEP .22, DC2)
 *              └── vm (52:54:00:00:03:05, 10.3.0.5) moves between them
 *
 * The BGP addresses of gw1, gw2 and the WAN router are on the root end of the
 * veth to the PE, not in 127/8: FRR drops 127/8 next hops, which would hide a
 * path a gateway re-advertises with itself as next hop. Sessions between them
 * run over the root namespace's lo, the PE's over the veth; one tshark
 * captures both interfaces. Both gateways dial the DCI (a connection collision
 * every run, RFC 4271 §6.8); only the gateways dial the PE. Runs as root; namespaces are `vmmi-dci-<pid>-*`,
 * the root link `vmdci<pid>`, and everything is removed in t.after.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { type VmmiClient, connect, unaryCall } from '../../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { ListPeersResponse__Output } from '../../gen/proto/vmmi/v1/ListPeersResponse.js';
import type { MobilityEvent__Output } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { Vm__Output } from '../../gen/proto/vmmi/v1/Vm.js';
import type { WithdrawVmResponse__Output } from '../../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import {
  type FrrHandle,
  frrConfig,
  makeRunDir,
  requirePeer,
  startCapture,
  startFrr,
  waitFor,
} from '../harness/index.js';
import { startFrrInNetns } from '../harness/netns.js';
import {
  type EventLog,
  H_VTEP,
  type Hv,
  LabPing,
  type LabNamespaces,
  PE_VTEP,
  type PeFdb,
  type PingLog,
  type PingSummary,
  buildTopology,
  cleanupInOrder,
  freePort,
  linkRootToPe,
  listVms,
  lossOf,
  openLab,
  peFdbOf,
  vmPort,
  watchEvents,
} from './evpn-lab.js';
import { frrEstablished } from './peers.js';
import { type VmmidProcess, spawnVmmid } from './vmmi.js';

export { H_VTEP, type Hv, PE_VTEP, ZERO_MAC } from './evpn-lab.js';

export const ASN = 65000;
export const WAN_ASN = 65100;
export const VNI = 10300;
export const L3_VNI = 50000;
export const NETWORK = 'red';
export const VRF = 'tenant';
export const VRF_RT = '65000:50000';
export const VRF_LABEL = 5000;
export const SUBNET = '10.3.0.0/24';
export type Gw = 'gw1' | 'gw2';
/** Which data center (gateway) each hypervisor belongs to. */
export const GW_OF: Record<Hv, Gw> = { h1: 'gw1', h2: 'gw2' };
export const VM_ID = 'vm-dci';
export const VM_MAC = '52:54:00:00:03:05';
export const VM_IP = '10.3.0.5';
export const USER_IP = '10.3.0.100';
const BRIDGE = 'br300';
const VXLAN = 'vxlan300';
/** Root-namespace end of the gateways ↔ PE veth: `vmdci<pid>`, so stale ones can be found by pid. */
const ROOT_LINK_SCHEME = 'vmdci';
/** Many moves within seconds are a duplicate MAC by RFC 7432 §15.1's defaults (5 in 180 s); this lab moves on purpose. */
const NO_DUPLICATES = '{ max-moves: 1000, window: 1 }';

/**
 * This run's /29 in 10.97/16, from the pid (so two runs, or a leftover of a
 * crashed one, never share an address): .1 gw1, .2 gw2, .3 the WAN router (all
 * on the root end of the veth), .6 the PE.
 */
function dciSubnet(): { gw1: string; gw2: string; wan: string; pe: string } {
  const block = process.pid % 8192;
  const base = `10.97.${block >> 5}.`;
  const d = (block & 31) << 3;
  return { gw1: `${base}${d + 1}`, gw2: `${base}${d + 2}`, wan: `${base}${d + 3}`, pe: `${base}${d + 6}` };
}


/** One data center's gateway: a vmmid and its API, as the agent of its hypervisor sees it. */
export interface Gateway {
  readonly name: Gw;
  /** BGP address, router id and `dc-gateway` next hop. */
  readonly address: string;
  /** RD of its `tenant` VRF's type-5 and VPNv4 routes. */
  readonly rd: string;
  /** The hypervisor whose agent it serves. */
  readonly hv: Hv;
  readonly api: VmmiClient;
  readonly vmmid: VmmidProcess;
  /** Its WatchMobility stream since setup. */
  readonly watch: EventLog;
  /** AnnounceVm of the VM at this gateway's hypervisor, as its agent. */
  announce(): Promise<AnnounceVmResponse__Output>;
  withdraw(): Promise<WithdrawVmResponse__Output>;
  listVms(): Promise<Vm__Output[]>;
}

export interface DciLab {
  readonly ns: LabNamespaces;
  readonly addr: ReturnType<typeof dciSubnet>;
  readonly gw: Readonly<Record<Gw, Gateway>>;
  readonly wan: FrrHandle;
  readonly pe: FrrHandle;
  /** Stops the capture (once; also done at cleanup) and resolves with the pcapng path. */
  stopCapture(): Promise<string>;
  readonly portAt: () => Hv;
  /** Switches the VM over to a hypervisor's bridge (its port there up, the old one down); resolves with how long until the new port was up. */
  movePort(to: Hv): Promise<number>;
  peFdb(): Promise<PeFdb>;
  /** Until the PE tunnels the VM's MAC to `vtep` only (installed by zebra) and floods to `vtep` only. */
  waitPeAt(vtep: string, what: string): Promise<PeFdb>;
  startPing(): PingLog;
  stopPing(): Promise<PingSummary>;
  /** Runs `step`, then waits for 10 further ping replies: the replies missing since just before the step are what it cost. */
  lossOf(log: PingLog, what: string, step: () => Promise<void>): Promise<number>;
}

/**
 * Builds the lab, or returns undefined after skipping the test (failing it
 * under CI=true) when this machine cannot run it.
 */
export async function startDciLab(t: TestContext): Promise<DciLab | undefined> {
  const t0 = Date.now();
  const lab = await openLab(t, 'vmmi-dci', ROOT_LINK_SCHEME, () => (requirePeer('tshark').ok ? undefined : 'tshark missing'));
  if (lab === undefined) return undefined;

  let peFrr: FrrHandle | undefined;
  let wanFrr: FrrHandle | undefined;
  const daemons: VmmidProcess[] = [];
  const names: string[] = [];
  const clients: VmmiClient[] = [];
  const watches: grpc.ClientReadableStream<MobilityEvent__Output>[] = [];
  let capture: { stop(): Promise<string> } | undefined;
  const ping = new LabPing();
  cleanupInOrder(t, [
    ['ping', () => ping.cleanup()],
    ['watches', async () => watches.forEach((w) => w.cancel())],
    ['clients', async () => clients.forEach((c) => c.close())],
    ['vmmids', () => Promise.all(daemons.map((d) => d.stop()))],
    // Their logs (JSON lines) are kept for reading after a failure, as FRR's are.
    [
      'vmmid logs',
      async () => {
        if (daemons.length === 0) return;
        const dir = await makeRunDir('dci-vmmid-logs');
        daemons.forEach((d, i) => writeFileSync(join(dir, `${names[i] ?? i}.log`), d.output()));
        t.diagnostic(`vmmid logs: ${dir}`);
      },
    ],
    ['wan frr', async () => wanFrr?.stop()],
    ['pe frr', async () => peFrr?.stop()],
    ['capture', async () => capture?.stop()],
    ['namespaces', () => lab.close()],
  ]);

  // Topology -------------------------------------------------------------------------
  const ns = await buildTopology(lab, { bridge: BRIDGE, vxlan: VXLAN, vni: VNI, vmMac: VM_MAC, vmIp: VM_IP, userIp: USER_IP });
  const { pe, user } = ns;
  const port = vmPort<Hv>(ns.vm, 'h1');

  // The gateways' and the WAN router's addresses on the root end of the veth to the PE.
  const addr = dciSubnet();
  const rootLink = await linkRootToPe(lab, pe, {
    scheme: ROOT_LINK_SCHEME,
    peIf: 'eth-gw',
    rootCidrs: [addr.gw1, addr.gw2, addr.wan].map((a) => `${a}/29`),
    peCidr: `${addr.pe}/29`,
  });

  const cap = await startCapture({
    interfaces: ['lo', rootLink],
    ports: [179],
    addresses: [addr.gw1, addr.gw2, addr.wan, addr.pe],
    name: 'dci-capture',
  });
  capture = cap;

  // Daemons: the PE (zebra+bgpd), the WAN router (bgpd), both gateways, all at once.
  const rd = (a: string): string => `${a}:50`;
  const peP = startFrrInNetns({
    name: 'dci-pe',
    ns: pe,
    address: addr.pe,
    config: frrConfig({
      hostname: 'pe',
      routerId: PE_VTEP,
      asn: ASN,
      // Passive: only the gateways dial, so no session starts with a connection collision.
      neighbors: [addr.gw1, addr.gw2].map((a) => ({ address: a, remoteAs: ASN, updateSource: addr.pe, families: ['l2vpn-evpn'] as const, passive: true })),
      familyExtra: { 'l2vpn-evpn': ['advertise-all-vni'] },
    }),
  });
  const wanP = startFrr({
    name: 'dci-wan',
    address: addr.wan,
    port: 179,
    config: frrConfig({
      hostname: 'wan',
      routerId: addr.wan,
      asn: WAN_ASN,
      neighbors: [addr.gw1, addr.gw2].map((a) => ({
        address: a,
        remoteAs: ASN,
        updateSource: addr.wan,
        families: ['l2vpn-evpn', 'ipv4-vpn'] as const,
        passive: true,
      })),
    }),
  });
  const gwP = (['gw1', 'gw2'] as const).map(async (name): Promise<Gateway> => {
    const me = addr[name];
    const other = addr[name === 'gw1' ? 'gw2' : 'gw1'];
    const hv: Hv = name === 'gw1' ? 'h1' : 'h2';
    const apiPort = await freePort();
    const daemon = await spawnVmmid(`dci-${name}`, {
      address: me,
      asn: ASN,
      neighbors: [
        // The DCI: the other data center's gateway, iBGP EVPN (type-2 routes and their sequence numbers).
        // Both dial, so their connections collide (RFC 4271 §6.8) on every run.
        { address: other, remoteAs: ASN, families: ['l2vpn-evpn'] },
        { address: addr.wan, remoteAs: WAN_ASN, families: ['l2vpn-evpn', 'ipv4-vpn'] },
        { address: addr.pe, remoteAs: ASN, families: ['l2vpn-evpn'], rrClient: true },
      ],
      extraYaml: [
        'networks:',
        `  - { name: ${NETWORK}, vni: ${VNI}, l3-vni: ${L3_VNI}, router-mac: "02:00:00:00:03:00", vrf: ${VRF}, duplicate-detection: ${NO_DUPLICATES} }`,
        'api:',
        `  listen: { address: 127.0.0.1, port: ${apiPort} }`,
        `  agents: [{ name: agent-${hv}, vteps: [${H_VTEP[hv]}], networks: [${NETWORK}] }]`,
        'dc-gateway:',
        `  next-hop: ${me}`,
        `  router-mac: "02:00:00:00:00:0${name === 'gw1' ? 1 : 2}"`,
        '  vrfs:',
        `    - { name: ${VRF}, rd: "${rd(me)}", route-targets: ["${VRF_RT}"], label: ${VRF_LABEL}, subnets: [${SUBNET}] }`,
        '',
      ].join('\n'),
    });
    daemons.push(daemon);
    names.push(name);
    if (daemon.child.pid !== undefined) lab.ownProcess(daemon.child.pid);
    // No credentials: plain text on loopback, where anonymous callers are every agent.
    const api = connect({ api: `127.0.0.1:${apiPort}` });
    clients.push(api);
    const watch = watchEvents(api, `${name}'s WatchMobility`, 5);
    watches.push(watch.call);
    return {
      name,
      address: me,
      rd: rd(me),
      hv,
      api,
      vmmid: daemon,
      watch: watch.log,
      announce: () =>
        unaryCall<AnnounceVmResponse__Output>((cb) =>
          api.mobility.announceVm({ vmId: VM_ID, network: { name: NETWORK }, mac: VM_MAC, ips: [VM_IP], vtep: H_VTEP[hv] }, cb),
        ),
      withdraw: () => unaryCall<WithdrawVmResponse__Output>((cb) => api.mobility.withdrawVm({ network: { name: NETWORK }, mac: VM_MAC, vmId: VM_ID }, cb)),
      listVms: () => listVms(api),
    };
  });
  // Every start is awaited (even after one failed) so cleanup knows every handle.
  const settled = await Promise.allSettled([peP, wanP, ...gwP]);
  if (settled[0].status === 'fulfilled') peFrr = settled[0].value;
  if (settled[1].status === 'fulfilled') wanFrr = settled[1].value;
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const [, , g1, g2] = settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [unknown, unknown, Gateway, Gateway];
  const peH = peFrr!;
  const wanH = wanFrr!;
  await Promise.all([
    frrEstablished(peH, addr.gw1),
    frrEstablished(peH, addr.gw2),
    frrEstablished(wanH, addr.gw1),
    frrEstablished(wanH, addr.gw2),
  ]);
  // The DCI session, as gw1 sees it (ListPeers over its API).
  await waitFor(
    () =>
      unaryCall<ListPeersResponse__Output>((cb) => g1.api.control.listPeers({}, cb)),
    { what: 'gw1: DCI session to gw2 Established', until: (r) => r.peers.some((p) => p.address === addr.gw2 && p.state === 'Established'), timeoutMs: 20_000 },
  );
  t.diagnostic(`setup: namespaces, links, capture, FRR PE + WAN, two vmmids and 5 Established sessions in ${Date.now() - t0} ms`);

  const fdb = peFdbOf(pe, VXLAN, VM_MAC);
  return {
    ns,
    addr,
    gw: { gw1: g1, gw2: g2 },
    wan: wanH,
    pe: peH,
    stopCapture: () => cap.stop(),
    portAt: port.portAt,
    movePort: port.movePort,
    peFdb: fdb.peFdb,
    waitPeAt: fdb.waitPeAt,
    startPing: () => ping.start(user, VM_IP),
    stopPing: () => ping.stop(),
    lossOf,
  };
}
