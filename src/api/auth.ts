/**
 * Who is calling, and what they may do. Identities come from a bearer token
 * (`authorization: Bearer <token>`, `api.tokens`), a verified client
 * certificate (its subject CN, or a DNS SAN that names a configured agent or
 * operator) or, where the config allows it (a plain-text loopback API),
 * nobody in particular. Operators (`api.operators`) may use the
 * ControlService; agents (`api.agents`) may announce VMs for their own
 * networks and VTEPs; both may read VM state.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { bytesToIp, ipToBytes } from '../core/ip.js';
import type { AgentConfig, ApiConfig } from '../config/types.js';
import { failedPrecondition, permissionDenied, unauthenticated } from './status.js';

export interface Identity {
  readonly name: string;
  readonly via: 'certificate' | 'token' | 'anonymous';
}

/** The parts of a call authentication looks at (any kind of server call has them). */
export type CallCredentials = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>;

export const ANONYMOUS: Identity = Object.freeze({ name: 'anonymous', via: 'anonymous' });

const HOW_TO_AUTHENTICATE =
  'present a client certificate signed by api.tls.client-ca, or an "authorization: Bearer <token>" header with a token from api.tokens';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Canonical text of an address ("2001:DB8::1" → "2001:db8::1"), or the text as given when it is not one. */
function canonicalIp(text: string): string {
  const b = ipToBytes(text);
  return b === undefined ? text : bytesToIp(b);
}

function listOrNone(items: readonly string[]): string {
  return items.length > 0 ? items.join(', ') : 'none';
}

export class Authority {
  private readonly tokens: readonly { readonly name: string; readonly digest: Buffer }[];
  private readonly agents: ReadonlyMap<string, AgentConfig>;
  private readonly operators: ReadonlySet<string>;
  /** Every VTEP some agent may announce for, canonical. */
  private readonly vteps: ReadonlySet<string>;

  constructor(private readonly api: ApiConfig) {
    this.tokens = api.tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
    this.agents = new Map(api.agents.map((a) => [a.name, a]));
    this.operators = new Set(api.operators);
    this.vteps = new Set(api.agents.flatMap((a) => a.vteps.map(canonicalIp)));
  }

  get allowAnonymous(): boolean {
    return this.api.allowAnonymous;
  }

  /** The caller's identity; throws UNAUTHENTICATED when it has none it may use. */
  identify(call: CallCredentials): Identity {
    const auth = call.metadata.get('authorization');
    if (auth.length > 0) return this.fromToken(auth);
    const cert = call.getAuthContext()?.sslPeerCertificate;
    if (cert) return { name: this.certificateName(cert), via: 'certificate' };
    if (this.api.allowAnonymous) return ANONYMOUS;
    throw unauthenticated(`no credentials: ${HOW_TO_AUTHENTICATE}`);
  }

  private fromToken(values: readonly (string | Buffer)[]): Identity {
    if (values.length > 1) throw unauthenticated('more than one authorization header');
    const v = values[0];
    const text = typeof v === 'string' ? v : (v?.toString('utf8') ?? '');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(text);
    if (!m) throw unauthenticated('the authorization header must be "Bearer <token>"');
    const given = digest(m[1]!);
    // Every token is compared, in constant time, so the timing tells nothing about which one is close.
    let found: string | undefined;
    for (const t of this.tokens) if (timingSafeEqual(given, t.digest) && found === undefined) found = t.name;
    if (found === undefined) throw unauthenticated('the bearer token matches no api.tokens entry');
    return { name: found, via: 'token' };
  }

  /** The subject CN, unless it names nobody configured and a DNS SAN does. */
  private certificateName(cert: PeerCertificate): string {
    const cnField: unknown = cert.subject?.CN;
    const cns = (Array.isArray(cnField) ? cnField : [cnField]).filter((x): x is string => typeof x === 'string' && x !== '');
    const dns = (cert.subjectaltname ?? '')
      .split(/,\s*/)
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4));
    const known = (n: string): boolean => this.agents.has(n) || this.operators.has(n);
    return cns.find(known) ?? dns.find(known) ?? cns[0] ?? dns[0] ?? `certificate ${cert.fingerprint256}`;
  }

  /** ControlService: operators only (and anonymous callers where they are allowed). */
  requireOperator(id: Identity): void {
    if (id.via === 'anonymous' || this.operators.has(id.name)) return;
    throw permissionDenied(`${id.name} is not an operator (api.operators)`);
  }

  /** Reading VM state: operators and agents. */
  requireReader(id: Identity): void {
    if (id.via === 'anonymous' || this.operators.has(id.name) || this.agents.has(id.name)) return;
    throw permissionDenied(`${id.name} is neither an operator (api.operators) nor an agent (api.agents)`);
  }

  /** The agent entry of an identity, if it is one. */
  agentOf(id: Identity): AgentConfig | undefined {
    return id.via === 'anonymous' ? undefined : this.agents.get(id.name);
  }

  /** Whether the VTEP is in some agent's `vteps`. */
  isConfiguredVtep(vtep: string): boolean {
    return this.vteps.has(canonicalIp(vtep));
  }

  /**
   * Announcing for (network, VTEP). The VTEP must be configured at all
   * (FAILED_PRECONDITION: a config change is needed, whoever asks); then an
   * agent may use only its own networks and VTEPs, and an anonymous caller
   * (where allowed) any of them.
   */
  requireAgent(id: Identity, network: string, vtep: string): void {
    const v = canonicalIp(vtep);
    if (!this.vteps.has(v)) throw failedPrecondition(`VTEP ${vtep} is not configured (add it to an api.agents[].vteps list)`);
    if (id.via === 'anonymous') return;
    const agent = this.agents.get(id.name);
    if (!agent) throw permissionDenied(`${id.name} is not an agent (api.agents)`);
    if (!agent.vteps.some((x) => canonicalIp(x) === v)) {
      throw permissionDenied(`${id.name} may not announce for VTEP ${vtep} (api.agents[${agent.name}].vteps: ${listOrNone(agent.vteps)})`);
    }
    this.requireNetwork(id, network);
  }

  /** Acting on a network without naming a VTEP (a withdrawal): an agent of that network, or anonymous. */
  requireNetwork(id: Identity, network: string): void {
    if (id.via === 'anonymous') return;
    const agent = this.agents.get(id.name);
    if (!agent) throw permissionDenied(`${id.name} is not an agent (api.agents)`);
    if (!agent.networks.includes(network)) {
      throw permissionDenied(
        `${id.name} may not announce into network ${network} (api.agents[${agent.name}].networks: ${listOrNone(agent.networks)})`,
      );
    }
  }

  /** Whether some agent is granted `network` at `vtep`: the network is provisioned there. */
  grantsNetworkAt(network: string, vtep: string): boolean {
    const v = canonicalIp(vtep);
    for (const a of this.agents.values()) if (a.networks.includes(network) && a.vteps.some((x) => canonicalIp(x) === v)) return true;
    return false;
  }

  /** Withdrawing a VM at `vtep`: the agent must hold that VTEP, configured elsewhere or not (anonymous: allowed). */
  requireHolder(id: Identity, vtep: string): void {
    if (id.via === 'anonymous') return;
    const agent = this.agents.get(id.name);
    if (!agent) throw permissionDenied(`${id.name} is not an agent (api.agents)`);
    const v = canonicalIp(vtep);
    if (!agent.vteps.some((x) => canonicalIp(x) === v)) {
      throw permissionDenied(`${id.name} may not withdraw a VM at VTEP ${vtep} (api.agents[${agent.name}].vteps: ${listOrNone(agent.vteps)})`);
    }
  }
}
