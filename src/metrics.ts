/**
 * Prometheus metrics for vmmid, read from the speaker when scraped (no work
 * on the route path) plus counters fed by the peers' event streams.
 */
import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Endpoint } from './bgp/session/listener.js';
import { STATES } from './bgp/fsm/types.js';
import { familyName } from './bgp/wire/family.js';
import type { Speaker } from './speaker.js';

export class Metrics {
  readonly registry = new Registry();
  private server?: Server;

  constructor(private readonly speaker: Speaker) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'vmmi_' });
    const sp = speaker;
    new Gauge({
      name: 'vmmi_bgp_peer_state',
      help: 'RFC 4271 FSM state of each peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established',
      labelNames: ['peer'],
      registers: [r],
      collect() {
        for (const p of sp.peers.values()) this.set({ peer: p.id }, STATES.indexOf(p.state) + 1);
      },
    });
    const lastIn = new Map<string, number>();
    const lastOut = new Map<string, number>();
    new Counter({
      name: 'vmmi_bgp_messages_total',
      help: 'BGP messages by peer and direction',
      labelNames: ['peer', 'direction'],
      registers: [r],
      // Message counts live in the peer; the counter catches up with them at each scrape.
      collect() {
        for (const p of sp.peers.values()) {
          const s = p.status();
          this.inc({ peer: p.id, direction: 'in' }, s.messagesIn - (lastIn.get(p.id) ?? 0));
          this.inc({ peer: p.id, direction: 'out' }, s.messagesOut - (lastOut.get(p.id) ?? 0));
          lastIn.set(p.id, s.messagesIn);
          lastOut.set(p.id, s.messagesOut);
        }
      },
    });
    new Gauge({
      name: 'vmmi_bgp_peer_uptime_seconds',
      help: 'Seconds since the session reached Established (0 when it is not)',
      labelNames: ['peer'],
      registers: [r],
      collect() {
        for (const p of sp.peers.values()) {
          const at = p.status().establishedAt;
          this.set({ peer: p.id }, at !== undefined ? (Date.now() - at) / 1000 : 0);
        }
      },
    });
    new Gauge({
      name: 'vmmi_bgp_peer_prefixes_received',
      help: "Paths in each peer's Adj-RIB-In, per family",
      labelNames: ['peer', 'family'],
      registers: [r],
      collect() {
        for (const p of sp.peers.values()) {
          for (const f of p.settings.families) this.set({ peer: p.id, family: familyName(f) }, sp.rib.sourceCount(p.id, f));
        }
      },
    });
    new Gauge({
      name: 'vmmi_rib_destinations',
      help: 'Destinations in the Loc-RIB, per family',
      labelNames: ['family'],
      registers: [r],
      collect() {
        for (const f of sp.rib.families()) this.set({ family: familyName(f) }, sp.rib.count(f));
      },
    });
    new Gauge({
      name: 'vmmi_rib_attribute_sets',
      help: 'Distinct interned path attribute sets',
      registers: [r],
      collect() {
        this.set(sp.rib.interner.size);
      },
    });
    new Gauge({
      name: 'vmmi_vms',
      help: 'VMs announced by hypervisor agents and held by vmmi',
      registers: [r],
      collect() {
        this.set(sp.vms?.size ?? 0);
      },
    });
    new Gauge({
      name: 'vmmi_evpn_duplicate_macs',
      help: 'MACs marked duplicate (RFC 7432 §15.1) and not advertised from here',
      registers: [r],
      collect() {
        this.set(sp.vms?.duplicates.list().length ?? 0);
      },
    });
    new Gauge({
      name: 'vmmi_update_groups',
      help: 'Update groups (peers with the same outbound policy)',
      registers: [r],
      collect() {
        this.set(sp.groups.updateGroups.list().length);
      },
    });
    new Gauge({
      name: 'vmmi_shared_outbound_sessions',
      help: 'Route-reflector client sessions served by their group\'s shared Outbound (UPDATEs encoded once for all)',
      registers: [r],
      collect() {
        this.set(sp.groups.sharedMembers());
      },
    });
    const notifications = new Counter({
      name: 'vmmi_bgp_notifications_total',
      help: 'NOTIFICATION messages by peer, direction, code and subcode',
      labelNames: ['peer', 'direction', 'code', 'subcode'],
      registers: [r],
    });
    sp.peerEvents$.subscribe((e) => {
      if (e.type === 'notification') {
        notifications.inc({ peer: e.peer, direction: e.direction, code: String(e.notify.code), subcode: String(e.notify.subcode) });
      }
    });
  }

  /** Serves GET /metrics on address:port; resolves with where it listens. */
  listen(address: string, port: number): Promise<Endpoint> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('not found: try /metrics\n');
        return;
      }
      this.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text))
        .catch((e: unknown) => res.writeHead(500).end(String(e)));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? { address: a.address, port: a.port } : { address, port });
      });
    });
  }

  close(): Promise<void> {
    const s = this.server;
    return s ? new Promise((resolve) => s.close(() => resolve())) : Promise.resolve();
  }
}
