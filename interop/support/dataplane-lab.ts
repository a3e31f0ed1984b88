/**
 * The data-plane lab of interop/dataplane.test.ts: vmmi is the control plane of
 * real VM moves over VXLAN.
 *
 *   user ── pe (FRR zebra+bgpd, br100+vxlan100, VTEP 10.99.0.1) ══ iBGP EVPN ══ vmmid (root ns)
 *                │ underlay bridge in `ul`, 10.99.0.0/24                 ▲ gRPC (loopback)
 *            h1 (VTEP .21) ─ h2 (VTEP .22)                              test = hypervisor agent
 *             └── vm (52:54:00:00:01:01, 10.1.1.10) moves between them
 *
 * h1 and h2 run no BGP speaker: their only state is br100 + vxlan100 with a
 * flood entry to the PE. The test is their agent: it switches the VM's port and
 * calls vmmi's API with the new VTEP, and vmmi's routes are what steer the
 * PE's kernel FDB (through FRR bgpd → zebra). A 10 ms ping from `user` to the
 * VM counts what each step loses. Runs as root; all namespaces are made and
 * removed here (`vmmi-dp-<pid>-*`), and all traffic stays inside them. Each
 * test builds its own lab (about 1.5 s) and tears it down in t.after.
 */
import type { TestContext } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { type VmmiClient, connect, unaryCall } from '../../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { MobilityEvent__Output } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { Vm__Output } from '../../gen/proto/vmmi/v1/Vm.js';
import { type FrrHandle, frrConfig } from '../harness/index.js';
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
import { type FrrEvpnRoute, frrEstablished, frrEvpnRoutes, isRecord } from './peers.js';
import { type VmmidProcess, spawnVmmid } from './vmmi.js';

export { type EventLog, H_VTEP, type Hv, PE_VTEP, type PeFdb, PingLog, type PingSummary, ZERO_MAC } from './evpn-lab.js';

export const ASN = 65000;
export const VNI = 10100;
export const NETWORK = 'blue';
export const VM_ID = 'vm-1';
export const VM_MAC = '52:54:00:00:01:01';
export const VM_IP = '10.1.1.10';
export const USER_IP = '10.1.1.100';
/** Root-namespace end of the vmmid ↔ PE veth: `vmdp<pid>`, so stale ones can be found by pid. */
const ROOT_LINK_SCHEME = 'vmdp';

/**
 * The vmmid ↔ PE /30, from the pid so that two runs (or a leftover of a
 * crashed one) never share vmmid's listen address: 10.98.X.Y/30 inside 10.98/16.
 * The tests of one run build their labs one after the other and share it.
 */
function sessionSubnet(): { host: string; pe: string } {
  const block = process.pid % 16384;
  const base = `10.98.${block >> 6}.${(block & 63) << 2}`;
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
  return { host: `${a}.${b}.${c}.${d + 1}`, pe: `${a}.${b}.${c}.${d + 2}` };
}

export interface DataplaneLab {
  readonly ns: LabNamespaces;
  readonly frr: FrrHandle;
  readonly api: VmmiClient;
  readonly vmmid: VmmidProcess;
  /** Every event since setup (the watch starts before the first AnnounceVm). */
  readonly watch: EventLog;
  /** Where the VM's port is now. */
  readonly portAt: () => Hv | 'pe';
  /** Switches the VM over to a hypervisor's or the PE's br100 (its port there up, the old one down); resolves with how long until the new port was up. */
  movePort(to: Hv | 'pe'): Promise<number>;
  /** AnnounceVm as the hypervisors' agent (unplanned). */
  announce(vtep: string): Promise<AnnounceVmResponse__Output>;
  listVms(): Promise<Vm__Output[]>;
  peFdb(): Promise<PeFdb>;
  /** Until the PE tunnels the VM's MAC to `vtep` only (installed by zebra) and floods to `vtep` only. */
  waitPeAt(vtep: string, what: string): Promise<PeFdb>;
  /** FRR's EVPN routes (all RDs) for the VM's MAC. */
  vmRoutes(): Promise<FrrEvpnRoute[]>;
  /** zebra's entry for the VM's MAC (`show evpn mac vni 10100 mac M json`), or undefined. */
  zebraMac(): Promise<Record<string, unknown> | undefined>;
  /** Starts `ping -i 0.01` from the user to the VM (one per lab; stopped by stopPing or at cleanup). */
  startPing(): PingLog;
  stopPing(): Promise<PingSummary>;
  /**
   * Runs `step`, which returns once the control plane is where it should be,
   * then waits for 10 further replies (100 ms of traffic): the replies
   * missing since just before the step are what it cost.
   */
  lossOf(log: PingLog, what: string, step: () => Promise<void>): Promise<number>;
}

export interface LabOptions {
  /** `networks[].duplicate-detection` of the VM's network, as a YAML flow map. */
  readonly duplicateDetection: string;
}

/**
 * Builds the lab, or returns undefined after skipping the test (or failing it
 * under CI=true) when this machine cannot run it. Everything is removed in
 * t.after, step by step, even when the test fails.
 */
export async function startDataplaneLab(t: TestContext, o: LabOptions): Promise<DataplaneLab | undefined> {
  const t0 = Date.now();
  const lab = await openLab(t, 'vmmi-dp', ROOT_LINK_SCHEME);
  if (lab === undefined) return undefined;

  let frr: FrrHandle | undefined;
  let vmmid: VmmidProcess | undefined;
  let client: VmmiClient | undefined;
  const ping = new LabPing();
  let watchCall: grpc.ClientReadableStream<MobilityEvent__Output> | undefined;
  cleanupInOrder(t, [
    ['ping', () => ping.cleanup()],
    ['watch', async () => watchCall?.cancel()],
    ['client', async () => client?.close()],
    ['vmmid', async () => vmmid?.stop()],
    ['frr', async () => frr?.stop()],
    ['namespaces', () => lab.close()],
  ]);

  // Topology -------------------------------------------------------------------------
  const ns = await buildTopology(lab, { bridge: 'br100', vxlan: 'vxlan100', vni: VNI, vmMac: VM_MAC, vmIp: VM_IP, userIp: USER_IP, vmPlaces: ['h1', 'h2', 'pe'] });
  const { pe, user } = ns;
  const port = vmPort<Hv | 'pe'>(ns.vm, 'h1');

  // vmmid (root namespace) ↔ PE.
  const sess = sessionSubnet();
  await linkRootToPe(lab, pe, { scheme: ROOT_LINK_SCHEME, peIf: 'eth-vmmi', rootCidrs: [`${sess.host}/30`], peCidr: `${sess.pe}/30` });

  // FRR on the PE, vmmid as its route reflector.
  const peFrr = await startFrrInNetns({
    name: 'dp-pe',
    ns: pe,
    address: sess.pe,
    config: frrConfig({
      hostname: 'pe',
      routerId: PE_VTEP,
      asn: ASN,
      neighbors: [{ address: sess.host, remoteAs: ASN, updateSource: sess.pe, families: ['l2vpn-evpn'] }],
      familyExtra: { 'l2vpn-evpn': ['advertise-all-vni'] },
    }),
  });
  frr = peFrr;
  const apiPort = await freePort();
  const daemon = await spawnVmmid('dp-vmmid', {
    address: sess.host,
    asn: ASN,
    neighbors: [{ address: sess.pe, remoteAs: ASN, families: ['l2vpn-evpn'], rrClient: true }],
    extraYaml: [
      'networks:',
      `  - { name: ${NETWORK}, vni: ${VNI}, duplicate-detection: ${o.duplicateDetection} }`,
      'api:',
      `  listen: { address: 127.0.0.1, port: ${apiPort} }`,
      '  agents:',
      `    - { name: hv, vteps: [${H_VTEP.h1}, ${H_VTEP.h2}], networks: [${NETWORK}] }`,
      '',
    ].join('\n'),
  });
  vmmid = daemon;
  if (daemon.child.pid !== undefined) lab.ownProcess(daemon.child.pid);
  // No credentials: plain text on loopback, where anonymous callers are every agent and operator.
  client = connect({ api: `127.0.0.1:${apiPort}` });
  const api = client;
  // Watch from the start (the session takes ~1 s more, so the stream is open before the first call).
  const watch = watchEvents(api, 'WatchMobility', 10);
  watchCall = watch.call;
  await frrEstablished(peFrr, sess.host);
  t.diagnostic(`setup: namespaces, links, FRR, vmmid and an Established session in ${Date.now() - t0} ms`);

  const fdb = peFdbOf(pe, 'vxlan100', VM_MAC);
  return {
    ns,
    frr: peFrr,
    api,
    vmmid: daemon,
    watch: watch.log,
    portAt: port.portAt,
    movePort: port.movePort,
    announce: (vtep) =>
      unaryCall<AnnounceVmResponse__Output>((cb) => api.mobility.announceVm({ vmId: VM_ID, network: { name: NETWORK }, mac: VM_MAC, ips: [VM_IP], vtep }, cb)),
    listVms: () => listVms(api),
    peFdb: fdb.peFdb,
    waitPeAt: fdb.waitPeAt,
    vmRoutes: async () => (await frrEvpnRoutes(peFrr)).filter((r) => r.fields.mac === VM_MAC),
    async zebraMac() {
      const j = await peFrr.json(`show evpn mac vni ${VNI} mac ${VM_MAC} json`);
      // FRR 8.4 answers the entry itself ({ type, intf | remoteVtep, localSequence, remoteSequence, ... }).
      if (!isRecord(j)) return undefined;
      const e = j[VM_MAC];
      return typeof j.type === 'string' ? j : isRecord(e) ? e : undefined;
    },
    startPing: () => ping.start(user, VM_IP),
    stopPing: () => ping.stop(),
    lossOf,
  };
}
