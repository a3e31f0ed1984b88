/**
 * The winston implementation of `Log`: JSON lines in production, readable
 * text on a terminal. Kept apart from core/log.ts so code that only needs
 * the interface (tests, benchmarks, a speaker embedded elsewhere) does not
 * load winston.
 */
import winston from 'winston';
import type { Log, LogFields, LogLevel, LoggerOptions, RootLog } from './log.js';

// Fields travel under a symbol so a field named `level` or `message` cannot
// clobber winston's own properties on the info object.
const FIELDS = Symbol('vmmi.fields');
const MESSAGE = Symbol.for('message'); // triple-beam's key for the rendered line
const RESERVED = new Set(['timestamp', 'level', 'msg']);
const LEVEL_NUMBERS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(options: LoggerOptions = {}): RootLog {
  const stream = options.stream ?? process.stdout;
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  const format = options.format ?? (process.stdout.isTTY ? 'text' : 'json');
  const color = options.color ?? (tty && process.env['NO_COLOR'] === undefined);
  const render = format === 'json' ? renderJson : (e: Entry) => renderText(e, color);
  const transport = new winston.transports.Stream({ stream });
  const logger = winston.createLogger({
    levels: LEVEL_NUMBERS,
    level: options.level ?? 'info',
    format: winston.format((info) => {
      const fields = info[FIELDS] as LogFields | undefined;
      info[MESSAGE] = render({ time: new Date(), level: info.level, msg: String(info.message), fields: fields ?? {} });
      return info;
    })(),
    transports: [transport],
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      transport.once('finish', () => resolve());
      logger.end();
    }));
  return Object.assign(new WinstonLog(logger, {}), { close });
}

class WinstonLog implements Log {
  constructor(
    private readonly logger: winston.Logger,
    private readonly fields: LogFields,
  ) {}
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  child(fields: LogFields): Log {
    return new WinstonLog(this.logger, { ...this.fields, ...fields });
  }
  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    // A logger that throws (closed stream, odd field) must never take a session down.
    try {
      if (!this.logger.isLevelEnabled(level) || this.logger.writableEnded) return;
      this.logger.log({ level, message: msg, [FIELDS]: fields ? { ...this.fields, ...fields } : this.fields });
    } catch {
      /* dropped */
    }
  }
}

interface Entry {
  time: Date;
  level: string;
  msg: string;
  fields: LogFields;
}

function renderJson(e: Entry): string {
  const head = { timestamp: e.time.toISOString(), level: e.level, msg: e.msg };
  try {
    const out: Record<string, unknown> = { ...head };
    for (const [k, v] of Object.entries(e.fields)) out[RESERVED.has(k) ? `_${k}` : k] = plain(v);
    return JSON.stringify(out);
  } catch {
    // Cycles: keep the entry, lose the fields.
    return JSON.stringify({ ...head, fieldsError: 'unserializable' });
  }
}

/** JSON.stringify drops Error contents and throws on bigint; make them readable. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return { name: v.name, message: v.message, ...(code === undefined ? {} : { code }), stack: v.stack };
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (v instanceof Set) return [...v].map(plain);
  return v;
}

const ANSI = { reset: '\x1b[0m', dim: '\x1b[2m', red: '\x1b[31m', yellow: '\x1b[33m', green: '\x1b[32m', blue: '\x1b[34m', cyan: '\x1b[36m' };
const LEVEL_COLOR: Record<string, string> = { error: ANSI.red, warn: ANSI.yellow, info: ANSI.green, debug: ANSI.blue };

function renderText(e: Entry, color: boolean): string {
  const paint = (c: string, s: string): string => (color ? `${c}${s}${ANSI.reset}` : s);
  const t = e.time;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
  const parts = [paint(ANSI.dim, time), paint(LEVEL_COLOR[e.level] ?? '', e.level.toUpperCase().padEnd(5))];
  const { peer, ...rest } = e.fields;
  if (peer !== undefined) parts.push(paint(ANSI.cyan, `[${textValue(peer)}]`));
  parts.push(e.msg);
  for (const [k, v] of Object.entries(rest)) parts.push(`${paint(ANSI.dim, `${k}=`)}${textValue(v)}`);
  return parts.join(' ');
}

function textValue(v: unknown): string {
  if (v instanceof Error) return textValue(v.message);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(plain(v)) ?? String(v);
  } catch {
    return '[unserializable]';
  }
}
