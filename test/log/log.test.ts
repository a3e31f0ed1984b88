import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { silentLogger, type LoggerOptions } from '../../src/core/log.js';
import { createLogger } from '../../src/core/winston-log.js';

/** A logger writing into memory; `lines()` flushes it first. */
function capture(options: Omit<LoggerOptions, 'stream'>) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const log = createLogger({ ...options, stream });
  return {
    log,
    async lines(): Promise<string[]> {
      await log.close();
      return text.split('\n').filter((l) => l !== '');
    },
  };
}

test('json: one parseable object per line with timestamp, level, msg and fields', async () => {
  const c = capture({ format: 'json', level: 'debug' });
  c.log.info('session established', { peer: '127.0.1.2', event: 'Established', holdTime: 90 });
  c.log.warn('two\nlines');
  c.log.debug('dbg');
  c.log.error('boom', { err: new Error('bad'), raw: Buffer.from([1, 255]), big: 2n ** 64n });
  const objs = (await c.lines()).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objs.length, 4);
  const [first, second, , last] = objs;
  assert.match(String(first?.['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual({ ...first, timestamp: 0 }, {
    timestamp: 0,
    level: 'info',
    msg: 'session established',
    peer: '127.0.1.2',
    event: 'Established',
    holdTime: 90,
  });
  assert.equal(second?.['msg'], 'two\nlines');
  assert.deepEqual(objs.map((o) => o['level']), ['info', 'warn', 'debug', 'error']);
  assert.equal((last?.['err'] as { message?: string }).message, 'bad');
  assert.equal(last?.['raw'], '01ff');
  assert.equal(last?.['big'], '18446744073709551616');
});

test('level filters lower-priority entries', async () => {
  const c = capture({ format: 'json', level: 'warn' });
  c.log.debug('no');
  c.log.info('no');
  c.log.warn('yes');
  c.log.error('yes');
  assert.deepEqual((await c.lines()).map((l) => (JSON.parse(l) as { msg: string }).msg), ['yes', 'yes']);
});

test('child loggers merge fields; reserved names cannot clobber the entry', async () => {
  const c = capture({ format: 'json' });
  const peer = c.log.child({ peer: '192.0.2.1', vrf: 'blue' });
  const fsm = peer.child({ component: 'fsm', vrf: 'red' });
  fsm.info('state change', { from: 'Idle', to: 'Connect' });
  peer.info('plain');
  c.log.info('odd', { level: 'x', msg: 'y', timestamp: 1 });
  const [a, b, odd] = (await c.lines()).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual({ ...a, timestamp: 0 }, {
    timestamp: 0,
    level: 'info',
    msg: 'state change',
    peer: '192.0.2.1',
    vrf: 'red',
    component: 'fsm',
    from: 'Idle',
    to: 'Connect',
  });
  assert.deepEqual({ ...b, timestamp: 0 }, { timestamp: 0, level: 'info', msg: 'plain', peer: '192.0.2.1', vrf: 'blue' });
  assert.equal(odd?.['level'], 'info');
  assert.equal(odd?.['msg'], 'odd');
  assert.equal(odd?.['_level'], 'x');
  assert.equal(odd?.['_msg'], 'y');
});

test('text: time level [peer] message key=value', async () => {
  const c = capture({ format: 'text', color: false });
  c.log.child({ peer: '127.0.1.2' }).info('session established', { event: 'Established', reason: 'hold timer expired' });
  c.log.warn('no peer');
  const [a, b] = await c.lines();
  assert.match(a ?? '', /^\d\d:\d\d:\d\d\.\d{3} INFO  \[127\.0\.1\.2\] session established event=Established reason="hold timer expired"$/);
  assert.match(b ?? '', /^\d\d:\d\d:\d\d\.\d{3} WARN  no peer$/);
});

test('text with color wraps the level in ANSI codes', async () => {
  const c = capture({ format: 'text', color: true });
  c.log.error('red');
  const [a] = await c.lines();
  assert.ok(a?.includes('\x1b[31mERROR\x1b[0m'), JSON.stringify(a));
});

test('logging after close and unserializable fields do not throw', async () => {
  const c = capture({ format: 'json' });
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = [cyclic];
  c.log.info('cycle', { cyclic });
  const [line] = await c.lines();
  assert.deepEqual({ ...(JSON.parse(line ?? '{}') as object), timestamp: 0 }, {
    timestamp: 0,
    level: 'info',
    msg: 'cycle',
    fieldsError: 'unserializable',
  });
  c.log.info('after close');
});

test('silent logger logs nothing', () => {
  const write = process.stdout.write;
  let writes = 0;
  process.stdout.write = ((..._args: unknown[]) => {
    writes++;
    return true;
  }) as typeof process.stdout.write;
  try {
    const log = silentLogger();
    log.error('x', { a: 1 });
    log.warn('x');
    log.info('x');
    log.debug('x');
    log.child({ peer: 'p' }).info('x');
  } finally {
    process.stdout.write = write;
  }
  assert.equal(writes, 0);
});
