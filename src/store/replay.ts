/**
 * Rebuilds the live set from a journal's bytes. Pure: the caller reads the
 * file and acts on the result (truncate a torn tail, refuse a damaged file).
 */
import { type Result, err, ok } from '../core/result.js';
import { type JournalOp, type VmRecord, decodeOp, vmKey } from './record.js';

const NEWLINE = 0x0a;

export interface Replay {
  /** Live records by vmKey, in the order they were last written (Map keeps insertion order). */
  readonly live: Map<string, VmRecord>;
  /** Complete lines applied. */
  readonly lines: number;
  /** Bytes to keep: the file's length, or where a torn tail starts. */
  readonly keep: number;
  /** The tail dropped because a crash cut its write short, if any. */
  readonly torn?: { readonly line: number; readonly bytes: number; readonly reason: string };
}

/** Applies one op to a live map, keeping it in last-written order. */
export function applyOp(live: Map<string, VmRecord>, op: JournalOp): void {
  if (op.op === 'del') {
    live.delete(vmKey(op.network, op.mac));
    return;
  }
  const key = vmKey(op.record.network, op.record.mac);
  // Delete first so a rewrite moves the key to the end of the order.
  live.delete(key);
  live.set(key, op.record);
}

/**
 * Only the end of the file can be torn: each batch is synced before the next
 * is written, so every line before the last write reached the disk whole. A
 * tail without a newline, or a last line that is not JSON, is that unsynced
 * write and was never acknowledged. Anything wrong before it is damage, and
 * guessing past it could resurrect or lose a VM, so it is an error naming
 * `file:line`.
 */
export function replay(buf: Buffer, file: string): Result<Replay, string> {
  const live = new Map<string, VmRecord>();
  const lastNl = buf.lastIndexOf(NEWLINE);
  const end = lastNl + 1; // bytes in complete lines
  let lines = 0;
  let start = 0;
  while (start < end) {
    const nl = buf.indexOf(NEWLINE, start);
    const lineNo = lines + 1;
    const r = decodeOp(buf.toString('utf8', start, nl));
    if (!r.ok) {
      if (r.error.kind === 'json' && nl === lastNl) {
        return ok({ live, lines, keep: start, torn: { line: lineNo, bytes: buf.length - start, reason: r.error.reason } });
      }
      return err(`${file}:${lineNo}: ${r.error.reason}; the journal is damaged before its last line, so it is not replayed: repair or move the file`);
    }
    applyOp(live, r.value);
    lines++;
    start = nl + 1;
  }
  if (end < buf.length) {
    return ok({ live, lines, keep: end, torn: { line: lines + 1, bytes: buf.length - end, reason: 'no trailing newline' } });
  }
  return ok({ live, lines, keep: buf.length });
}
