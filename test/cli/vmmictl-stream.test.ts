/**
 * vmmictl's handling of a ListRoutes stream in time: the progress line on a
 * terminal, and giving up on a stream that stalls. A stand-in ControlService
 * (grpc-js with vmmi's own proto) paces the routes; `script` provides the
 * terminal.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { ListRoutesRequest__Output } from '../../gen/proto/vmmi/v1/ListRoutesRequest.js';
import type { Route } from '../../gen/proto/vmmi/v1/Route.js';
import { loadVmmiProto } from '../../src/api/proto.js';

const VMMICTL = join(fileURLToPath(new URL('../../src/cli/', import.meta.url)), 'vmmictl.js');

const server = new grpc.Server();
let api = '';

function route(i: number): Route {
  return { family: 'ipv4-unicast', prefix: `10.0.${i}.0/24`, source: '192.0.2.1', best: true, attributes: { nextHop: '192.0.2.1', asPath: '65001' } };
}

/** `peer` picks the pace: "slow" sends 30 routes over 1.5 s, "stall" sends one and then nothing. */
const listRoutes: grpc.handleServerStreamingCall<ListRoutesRequest__Output, Route> = (call) => {
  if (call.request.peer === 'stall') {
    call.write(route(0));
    return;
  }
  let i = 0;
  const timer = setInterval(() => {
    if (call.cancelled) return clearInterval(timer);
    call.write(route(i++));
    if (i === 30) {
      clearInterval(timer);
      call.end();
    }
  }, 50);
};

before(async () => {
  const { proto } = loadVmmiProto();
  server.addService(proto.vmmi.v1.ControlService.service, { ListRoutes: listRoutes });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  api = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

function run(cmd: string, args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs vmmictl with stdout and stderr on a pseudo-terminal (util-linux script). */
function onTerminal(args: readonly string[]): ReturnType<typeof run> {
  const command = [process.execPath, VMMICTL, ...args].map((a) => `'${a}'`).join(' ');
  return run('script', ['-qec', command, '/dev/null']);
}

describe('vmmictl rib over a paced stream', () => {
  test('no progress line when stderr is not a terminal', async () => {
    const r = await run(process.execPath, [VMMICTL, '--api', api, 'rib', '-a', 'ipv4', '--table', 'adj-in', '--peer', 'slow']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(r.out.trimEnd().split('\n').length, 31);
  });

  test('a terminal sees "received N routes…" redrawn, then erased before the table', { skip: !hasScript && process.env.CI !== 'true' && 'util-linux script not installed (under CI=true this fails instead)' }, async () => {
    const r = await onTerminal(['--api', api, 'rib', '-a', 'ipv4', '--table', 'adj-in', '--peer', 'slow']);
    assert.equal(r.code, 0, r.out);
    const frames = [...r.out.matchAll(/\rreceived (\d+) routes…/g)].map((m) => Number(m[1]));
    assert.ok(frames.length >= 2, JSON.stringify(r.out));
    assert.ok(frames.every((n, i) => n > 0 && n <= 30 && (i === 0 || n >= frames[i - 1]!)), String(frames));
    const table = r.out.slice(r.out.lastIndexOf('\r\x1b[K') + 4);
    assert.match(table, /^S\s+PREFIX\s+NEXT HOP/);
    assert.equal(table.trimEnd().split(/\r?\n/).length, 31);
  });

  test('--json on a terminal: no progress line, a JSON array', { skip: !hasScript && process.env.CI !== 'true' && 'util-linux script not installed (under CI=true this fails instead)' }, async () => {
    const r = await onTerminal(['--api', api, '--json', 'rib', '-a', 'ipv4', '--table', 'adj-in', '--peer', 'slow']);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes('received'), JSON.stringify(r.out));
    assert.equal((JSON.parse(r.out.replace(/\r\n/g, '\n')) as unknown[]).length, 30);
  });

  test('a stream silent for --timeout seconds is given up: DEADLINE_EXCEEDED, exit 2', async () => {
    const started = Date.now();
    const r = await run(process.execPath, [VMMICTL, '--api', api, '--timeout', '0.5', 'rib', '-a', 'ipv4', '--table', 'adj-in', '--peer', 'stall']);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err, 'vmmictl: DEADLINE_EXCEEDED: vmmid sent nothing for 0.5 s\n');
    assert.equal(r.out, '');
    assert.ok(Date.now() - started < 5000);
  });
});
