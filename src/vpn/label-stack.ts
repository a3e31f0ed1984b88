import { type Result, err, ok } from '../core/result.js';
import type { Writer } from '../bgp/wire/writer.js';

/**
 * RFC 8277 §2 / RFC 3032 §2.1: one label field of a labeled NLRI, 3 octets:
 *   Label(20 bits) TC(3 bits) S(1 bit, bottom of stack)
 * The stack ends at the first field with S set. TC means nothing in BGP: it
 * is written as 0 and not kept, so a stack is just its 20-bit label values.
 */
export const LABEL_FIELD_LENGTH = 3;
export const MAX_LABEL = 0xfffff;

/**
 * RFC 8277 §2.4 (after RFC 3107 §3): a withdraw may carry a single
 * "Compatibility" field instead of the label stack; it is to be ignored on
 * receipt, and SHOULD be 0x800000 when sent. Who sends what:
 *   - FRR 8.4.4 writes 0x000000 (bgp_packet_mpattr_prefix gets no label and
 *     stream_put() zero-fills); FRR 10.4 and later write 0x800000
 *     (commit 94e2aadf71, "Set the label for MP_UNREACH_NLRI 0x800000").
 *   - GoBGP 3.10 repeats the route's own stack (vector
 *     gobgp-ibgp-withdraw-ipv4-vpn-192.168.10.0/24 carries 00 06 41, label 100).
 * We send 0x800000, the RFC's recommendation and current FRR's choice.
 */
export const WITHDRAW_LABEL_FIELD = 0x800000;
const ZERO_LABEL_FIELD = 0x000000;

/**
 * RFC 8277 §2 / RFC 4364 §4.3.4: the label stack at `at`, where `bits` (the
 * NLRI Length) covers the stack, an 8-octet RD and the prefix. Pushes the
 * label values onto `out` and returns how many 3-octet fields it read.
 *
 * Neither 0x800000 nor 0x000000 has S set, so read as labels they would run
 * the stack into the RD. As first field they are read as the withdraw
 * Compatibility field (no labels), as GoBGP and Wireshark do: the NLRI does
 * not say whether it sits in MP_REACH or MP_UNREACH. Only the first field is
 * looked at, since that is the only place RFC 8277 §2.4 puts one; the
 * builders refuse stacks that would start with either value.
 */
export function decodeLabelStack(buf: Buffer, at: number, bits: number, out: number[]): Result<number, string> {
  let fields = 0;
  for (;;) {
    if (bits < (fields + 1) * 24 + 64) {
      return err(
        fields === 0
          ? `NLRI length ${bits} leaves no room for a label and a Route Distinguisher`
          : `label stack has no bottom-of-stack label before the Route Distinguisher (NLRI length ${bits})`,
      );
    }
    const p = at + fields * LABEL_FIELD_LENGTH;
    const v = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
    fields++;
    if (fields === 1 && (v === WITHDRAW_LABEL_FIELD || v === ZERO_LABEL_FIELD)) return ok(1);
    out.push(v >>> 4);
    if ((v & 1) !== 0) return ok(fields);
  }
}

/** An empty stack is the withdraw Compatibility field, 0x800000. */
export function encodeLabelStack(w: Writer, labels: readonly number[]): void {
  if (labels.length === 0) {
    w.u8(WITHDRAW_LABEL_FIELD >>> 16).u8(0).u8(0);
    return;
  }
  const last = labels.length - 1;
  for (let i = 0; i <= last; i++) {
    const v = labels[i]! * 16 + (i === last ? 1 : 0);
    w.u24(v);
  }
}

/** Octets the stack takes on the wire (the Compatibility field when empty). */
export function labelStackLength(labels: readonly number[]): number {
  return Math.max(labels.length, 1) * LABEL_FIELD_LENGTH;
}

/** Why `labels` cannot be sent as a stack, or undefined when it can. */
export function labelStackProblem(labels: readonly number[]): string | undefined {
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0 || l > MAX_LABEL) return `label ${l} is not 0..${MAX_LABEL}`;
  }
  const first = labels[0];
  // Without S, these first fields are 0x000000 / 0x800000, which decode as the withdraw Compatibility field.
  if (labels.length > 1 && (first === 0 || first === WITHDRAW_LABEL_FIELD >>> 4)) {
    return `a label stack cannot start with label ${first}: it would read as a withdraw's Compatibility field`;
  }
  return undefined;
}

export function formatLabels(labels: readonly number[]): string {
  return labels.join(',');
}
