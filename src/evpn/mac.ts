import { type Result, err, ok } from '../core/result.js';

/** IEEE 802 MAC address: 6 octets, kept as the bytes on the wire. */
export const MAC_LENGTH = 6;

const HEX2 = /^[0-9a-fA-F]{1,2}$/;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * "52:54:00:aa:bb:01", "52-54-00-AA-BB-01" (as Linux, FRR and Windows print
 * them) or "5254.00aa.bb01" (Cisco). Leading zeros may be dropped in the
 * colon/hyphen forms ("2:0:0:0:0:1") because GoBGP and ip(8) accept that too.
 */
export function parseMac(text: string): Result<Buffer, string> {
  const t = text.trim();
  const dotted = t.split('.');
  if (dotted.length === 3) {
    if (!dotted.every((g) => HEX4.test(g))) return err(`"${text}" is not a MAC address`);
    return ok(Buffer.from(dotted.join(''), 'hex'));
  }
  const parts = t.split(t.includes('-') ? '-' : ':');
  if (parts.length !== MAC_LENGTH || !parts.every((p) => HEX2.test(p))) return err(`"${text}" is not a MAC address`);
  return ok(Buffer.from(parts.map((p) => parseInt(p, 16))));
}

/** Lower-case colon form, as FRR and GoBGP print it. */
export function formatMac(buf: Uint8Array, offset = 0): string {
  let s = '';
  for (let i = 0; i < MAC_LENGTH; i++) {
    const b = buf[offset + i] ?? 0;
    s += (i > 0 ? ':' : '') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}
