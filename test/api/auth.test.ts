import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ANONYMOUS, Authority, type CallCredentials, type Identity } from '../../src/api/auth.js';
import { createControlService } from '../../src/api/control-service.js';
import { loadVmmiProto } from '../../src/api/proto.js';
import { type ApiServer, startApiServer } from '../../src/api/server.js';
import { ApiError } from '../../src/api/status.js';
import type { ApiConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/core/log.js';
import { Speaker } from '../../src/speaker.js';
import type { ControlServiceClient } from '../../gen/proto/vmmi/v1/ControlService.js';
import { type Pki, makePki } from '../support/pki.js';
import { configFrom } from '../support/speakers.js';
import { apiConfig, rejectsWith, unary } from './support.js';

const { proto } = loadVmmiProto();
const OPS_TOKEN = 'ops-token-0123456789abcdef';
const HV1_TOKEN = 'hv1-token-0123456789abcdef';

const agents = [
  { name: 'hv1', vteps: ['10.0.0.21'], networks: ['blue'] },
  { name: 'hv2', vteps: ['10.0.0.22', '2001:db8::22'], networks: ['blue', 'red'] },
];

function callWith(metadata: Record<string, string> = {}): CallCredentials {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return { metadata: md, getAuthContext: () => ({}) };
}

function throwsApi(fn: () => unknown, code: grpc.status, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
    assert.equal(grpc.status[e.code], grpc.status[code]);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('Authority without TLS: tokens, anonymous callers, operators and agents', () => {
  const api = apiConfig({
    agents,
    operators: ['ops'],
    tokens: [
      { name: 'ops', token: OPS_TOKEN },
      { name: 'hv1', token: HV1_TOKEN },
    ],
    allowAnonymous: true,
  });
  const auth = new Authority(api);
  const hv1: Identity = { name: 'hv1', via: 'token' };
  const hv2: Identity = { name: 'hv2', via: 'certificate' };
  const ops: Identity = { name: 'ops', via: 'token' };

  test('a bearer token names its identity; a wrong one or a bad header is UNAUTHENTICATED', () => {
    assert.deepEqual(auth.identify(callWith({ authorization: `Bearer ${OPS_TOKEN}` })), { name: 'ops', via: 'token' });
    assert.deepEqual(auth.identify(callWith({ authorization: `bearer ${HV1_TOKEN}` })), { name: 'hv1', via: 'token' });
    throwsApi(() => auth.identify(callWith({ authorization: 'Bearer nope-nope-nope-nope' })), grpc.status.UNAUTHENTICATED, 'the bearer token matches no api.tokens entry');
    throwsApi(() => auth.identify(callWith({ authorization: `${OPS_TOKEN}` })), grpc.status.UNAUTHENTICATED, 'the authorization header must be "Bearer <token>"');
    throwsApi(() => auth.identify(callWith({ authorization: 'Basic b3BzOnB3' })), grpc.status.UNAUTHENTICATED, /must be "Bearer <token>"/);
  });

  test('no credentials: anonymous where allowed, else UNAUTHENTICATED saying how to authenticate', () => {
    assert.deepEqual(auth.identify(callWith()), ANONYMOUS);
    const strict = new Authority({ ...api, allowAnonymous: false });
    throwsApi(() => strict.identify(callWith()), grpc.status.UNAUTHENTICATED, /^no credentials: present a client certificate .* or an "authorization: Bearer <token>" header/);
  });

  test('requireOperator: operators and anonymous callers; anyone else PERMISSION_DENIED', () => {
    auth.requireOperator(ops);
    auth.requireOperator(ANONYMOUS);
    throwsApi(() => auth.requireOperator(hv1), grpc.status.PERMISSION_DENIED, 'hv1 is not an operator (api.operators)');
  });

  test('requireReader: operators and agents', () => {
    auth.requireReader(ops);
    auth.requireReader(hv1);
    auth.requireReader(ANONYMOUS);
    throwsApi(() => auth.requireReader({ name: 'eve', via: 'certificate' }), grpc.status.PERMISSION_DENIED, 'eve is neither an operator (api.operators) nor an agent (api.agents)');
  });

  test('requireAgent: an agent only for its own VTEPs and networks, with messages that say what it lacks', () => {
    auth.requireAgent(hv1, 'blue', '10.0.0.21');
    auth.requireAgent(hv2, 'red', '2001:DB8:0::22');
    throwsApi(() => auth.requireAgent(hv1, 'blue', '10.0.0.22'), grpc.status.PERMISSION_DENIED, 'hv1 may not announce for VTEP 10.0.0.22 (api.agents[hv1].vteps: 10.0.0.21)');
    throwsApi(() => auth.requireAgent(hv1, 'red', '10.0.0.21'), grpc.status.PERMISSION_DENIED, 'hv1 may not announce into network red (api.agents[hv1].networks: blue)');
    throwsApi(() => auth.requireAgent(ops, 'blue', '10.0.0.21'), grpc.status.PERMISSION_DENIED, 'ops is not an agent (api.agents)');
    auth.requireNetwork(hv2, 'red');
    throwsApi(() => auth.requireNetwork(hv1, 'red'), grpc.status.PERMISSION_DENIED, /^hv1 may not announce into network red/);
  });

  test('requireAgent: a VTEP no agent has is FAILED_PRECONDITION, checked first; anonymous may use any configured one', () => {
    const missing = 'VTEP 10.0.0.99 is not configured (add it to an api.agents[].vteps list)';
    throwsApi(() => auth.requireAgent(ANONYMOUS, 'blue', '10.0.0.99'), grpc.status.FAILED_PRECONDITION, missing);
    throwsApi(() => auth.requireAgent(hv1, 'blue', '10.0.0.99'), grpc.status.FAILED_PRECONDITION, missing);
    auth.requireAgent(ANONYMOUS, 'red', '10.0.0.22');
    auth.requireAgent(ANONYMOUS, 'blue', '10.0.0.21');
    assert.equal(auth.isConfiguredVtep('2001:db8::22'), true);
    assert.equal(auth.agentOf(hv1)?.name, 'hv1');
    assert.equal(auth.agentOf(ANONYMOUS), undefined);
  });
});

describe('identities over TLS: client certificates (CN, DNS SAN) and bearer tokens', () => {
  let dir: string;
  let pki: Pki;
  let speaker: Speaker;
  const servers: ApiServer[] = [];
  const clients: grpc.Client[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmmi-auth-'));
    pki = await makePki(dir, [
      'hv1',
      'ops',
      { name: 'by-san', cn: 'Some Unlisted Name', dns: ['ops2'] },
      { name: 'stranger', cn: 'stranger', dns: ['stranger.example'] },
    ]);
    speaker = new Speaker(configFrom('router-id: 127.0.5.20\nasn: 65000\nlisten: false\n'), silentLogger());
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(over: Partial<ApiConfig>): Promise<ApiServer> {
    const api = apiConfig({
      agents,
      operators: ['ops', 'ops2'],
      tokens: [
        { name: 'ops', token: OPS_TOKEN },
        { name: 'hv1', token: HV1_TOKEN },
      ],
      allowAnonymous: false,
      ...over,
    });
    const server = await startApiServer(api, { control: createControlService(speaker, new Authority(api), silentLogger(), api) }, silentLogger());
    servers.push(server);
    return server;
  }

  function client(server: ApiServer, opts: { cert?: string; token?: string }): ControlServiceClient {
    const c = opts.cert !== undefined ? pki.clients[opts.cert]! : undefined;
    const creds = grpc.credentials.createSsl(
      readFileSync(pki.ca),
      c ? readFileSync(c.key) : null,
      c ? readFileSync(c.cert) : null,
    );
    const options: grpc.ClientOptions = {};
    if (opts.token !== undefined) {
      const token = opts.token;
      options.interceptors = [
        (o, next) =>
          new grpc.InterceptingCall(next(o), {
            start(md, listener, nextStart) {
              md.set('authorization', `Bearer ${token}`);
              nextStart(md, listener);
            },
          }),
      ];
    }
    const cl = new proto.vmmi.v1.ControlService(`127.0.0.1:${server.endpoint.port}`, creds, options);
    clients.push(cl);
    return cl;
  }

  const listPeers = (c: ControlServiceClient): Promise<unknown> => unary((cb) => c.listPeers({}, cb));

  test('mTLS: the certificate CN is the identity; a DNS SAN that names an operator counts too', async () => {
    const server = await serve({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca } });
    await listPeers(client(server, { cert: 'ops' }));
    await listPeers(client(server, { cert: 'by-san' }));
    await rejectsWith(listPeers(client(server, { cert: 'hv1' })), grpc.status.PERMISSION_DENIED, 'hv1 is not an operator (api.operators)');
    await rejectsWith(listPeers(client(server, { cert: 'stranger' })), grpc.status.PERMISSION_DENIED, 'stranger is not an operator (api.operators)');
  });

  test('mTLS: a token beats the certificate; a wrong token is UNAUTHENTICATED; no certificate, no connection', async () => {
    const server = await serve({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca } });
    await rejectsWith(listPeers(client(server, { cert: 'ops', token: HV1_TOKEN })), grpc.status.PERMISSION_DENIED, 'hv1 is not an operator (api.operators)');
    await listPeers(client(server, { cert: 'hv1', token: OPS_TOKEN }));
    await rejectsWith(listPeers(client(server, { cert: 'ops', token: 'wrong-token-0123456789' })), grpc.status.UNAUTHENTICATED, 'the bearer token matches no api.tokens entry');
    await rejectsWith(listPeers(client(server, {})), grpc.status.UNAVAILABLE);
  });

  test('TLS without client certificates: bearer tokens, and UNAUTHENTICATED without one', async () => {
    const server = await serve({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    await listPeers(client(server, { token: OPS_TOKEN }));
    await rejectsWith(listPeers(client(server, { token: HV1_TOKEN })), grpc.status.PERMISSION_DENIED, 'hv1 is not an operator (api.operators)');
    await rejectsWith(listPeers(client(server, {})), grpc.status.UNAUTHENTICATED, /^no credentials: /);
  });

  test('plain text: anonymous only when allowed; never off loopback', async () => {
    const closed = await serve({ allowAnonymous: false });
    const insecure = new proto.vmmi.v1.ControlService(`127.0.0.1:${closed.endpoint.port}`, grpc.credentials.createInsecure());
    clients.push(insecure);
    await rejectsWith(listPeers(insecure), grpc.status.UNAUTHENTICATED, /^no credentials: /);
    await assert.rejects(
      startApiServer(apiConfig({ address: '0.0.0.0' }), { control: createControlService(speaker, new Authority(apiConfig()), silentLogger(), apiConfig()) }, silentLogger()),
      /plain text is allowed only on a loopback address, not 0\.0\.0\.0; configure api\.tls/,
    );
  });
});
