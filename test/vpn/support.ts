import assert from 'node:assert/strict';
import { type Vector, loadVectors, vectorNamed } from '../support/vectors.js';
import type { DecodeContext } from '../../src/bgp/wire/attributes-decode.js';
import { IPV4_VPN, IPV6_VPN } from '../../src/bgp/wire/family.js';
import { Reader } from '../../src/bgp/wire/reader.js';
import { type Update, decodeUpdate } from '../../src/bgp/wire/update.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import { type VpnRoute, ipv4VpnCodec, ipv6VpnCodec } from '../../src/vpn/index.js';

export type { Vector } from '../support/vectors.js';

export const vectors: readonly Vector[] = loadVectors('evpn-vpn-messages.json');

/** Every VPN vector: announcements, withdrawals and End-of-RIB markers of ipv4-vpn and ipv6-vpn. */
export const vpnVectors: readonly Vector[] = vectors.filter((v) => /-ipv[46]-vpn/.test(v.name));

export function vector(name: string): Vector {
  return vectorNamed(vectors, name);
}

export function messageOf(v: Vector): Buffer {
  return Buffer.from(v.hex, 'hex');
}

/** As the s1-ibgp receiver decodes it: 4-octet AS, both VPN families negotiated, no ADD-PATH. */
export const S1_CONTEXT: DecodeContext = { fourOctetAs: true, families: new Set([IPV4_VPN, IPV6_VPN]) };

export function decodeMessage(message: Buffer, ctx: DecodeContext = S1_CONTEXT): Update {
  const r = decodeUpdate(message.subarray(19), ctx);
  if (!r.ok) assert.fail(`decode failed: ${r.error.reason}`);
  assert.deepEqual(r.value.errors, [], 'attribute errors');
  assert.equal(r.value.treatAsWithdraw, false, 'treat-as-withdraw');
  return r.value;
}

/** Path attributes by type code, read straight from the message bytes (independent of the decoder). */
export function rawAttributes(message: Buffer): Map<number, { readonly flags: number; readonly value: Buffer }> {
  const wlen = message.readUInt16BE(19);
  const alenAt = 21 + wlen;
  const end = alenAt + 2 + message.readUInt16BE(alenAt);
  const out = new Map<number, { readonly flags: number; readonly value: Buffer }>();
  for (let p = alenAt + 2; p < end; ) {
    const flags = message[p]!;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? message.readUInt16BE(p + 2) : message[p + 2]!;
    const at = p + (ext ? 4 : 3);
    out.set(message[p + 1]!, { flags, value: message.subarray(at, at + len) });
    p = at + len;
  }
  return out;
}

export function codecFor(addressBytes: number): typeof ipv4VpnCodec {
  return addressBytes === 4 ? ipv4VpnCodec : ipv6VpnCodec;
}

/** One route through its family's codec, as an NLRI field. */
export function encodeRoute(route: VpnRoute, addPath = false): Buffer {
  const w = new Writer(64);
  codecFor(route.prefix.length).encode(w, route, addPath);
  return w.toBuffer();
}

/** Decodes a whole NLRI field with the codec of `addressBytes`. */
export function decodeField(
  field: Buffer,
  addressBytes: number,
  addPath = false,
): { readonly ok: true; readonly routes: VpnRoute[] } | { readonly ok: false; readonly error: string } {
  const out: VpnRoute[] = [];
  const r = codecFor(addressBytes).decode(new Reader(field), addPath, out);
  return r.ok ? { ok: true, routes: out } : { ok: false, error: r.error };
}
