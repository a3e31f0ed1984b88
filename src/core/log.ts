/**
 * The logging facade. The rest of the daemon sees only `Log`, so winston
 * (src/core/winston-log.ts, loaded only by the daemon's entry point) stays
 * replaceable and tests can pass `silentLogger()`.
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'text';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Log {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every entry (later fields win). */
  child(fields: LogFields): Log;
}

/** The root logger also owns the output, which must be flushed at shutdown. */
export interface RootLog extends Log {
  /** Flushes pending entries and detaches from the stream (it is not ended). */
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** Default: text when the stream is a terminal, else json. */
  format?: LogFormat;
  level?: LogLevel;
  /** Default process.stdout. */
  stream?: NodeJS.WritableStream;
  /** ANSI colors in text format. Default: stream is a TTY and NO_COLOR is unset. */
  color?: boolean;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

const SILENT: Log = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => SILENT,
};

export function silentLogger(): Log {
  return SILENT;
}
