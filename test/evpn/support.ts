import assert from 'node:assert/strict';
import { type Vector, loadVectors, vectorNamed } from '../support/vectors.js';
import { bytesToIp, ipToBytes } from '../../src/core/ip.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { formatRd } from '../../src/bgp/wire/rd.js';
import { type Update, decodeUpdate } from '../../src/bgp/wire/update.js';
import { type EvpnRoute, formatEsi, formatMac, parseMac } from '../../src/evpn/index.js';

export type { Vector } from '../support/vectors.js';

export const vectors: readonly Vector[] = loadVectors('evpn-vpn-messages.json');

export const evpnVectors: readonly Vector[] = vectors.filter((v) => v.name.includes('-l2vpn-evpn'));

export function vector(name: string): Vector {
  return vectorNamed(vectors, name);
}

export function messageOf(v: Vector): Buffer {
  return Buffer.from(v.hex, 'hex');
}

/** The project's own UPDATE decoder, with l2vpn-evpn negotiated. */
export function decodeEvpnUpdate(v: Vector): Update {
  const r = decodeUpdate(messageOf(v).subarray(19), { fourOctetAs: true, families: new Set([L2VPN_EVPN]) });
  if (!r.ok) assert.fail(`${v.name}: ${r.error.reason}`);
  assert.deepEqual(r.value.errors, [], `${v.name}: attribute errors`);
  assert.equal(r.value.treatAsWithdraw, false, `${v.name}: treat-as-withdraw`);
  return r.value;
}

/** Path attribute values by type code, straight from the message bytes (independent of the decoder). */
export function rawAttributes(v: Vector): Map<number, Buffer> {
  const b = messageOf(v);
  const wlen = b.readUInt16BE(19);
  const alenAt = 21 + wlen;
  const end = alenAt + 2 + b.readUInt16BE(alenAt);
  const out = new Map<number, Buffer>();
  for (let p = alenAt + 2; p < end; ) {
    const ext = (b[p]! & 0x10) !== 0;
    const len = ext ? b.readUInt16BE(p + 2) : b[p + 2]!;
    const at = p + (ext ? 4 : 3);
    out.set(b[p + 1]!, b.subarray(at, at + len));
    p = at + len;
  }
  return out;
}

/** The NLRI octets of MP_REACH_NLRI (after next hop and reserved octet) or MP_UNREACH_NLRI. */
export function rawNlriField(v: Vector): Buffer {
  const a = rawAttributes(v);
  const reach = a.get(14);
  if (reach) return reach.subarray(5 + reach[3]!);
  const unreach = a.get(15);
  if (unreach) return unreach.subarray(3);
  return Buffer.alloc(0);
}

export function mac(text: string): Buffer {
  const r = parseMac(text);
  if (!r.ok) assert.fail(r.error);
  return r.value;
}

export function ip(text: string): Buffer {
  const b = ipToBytes(text);
  if (!b) assert.fail(`bad IP ${text}`);
  return b;
}

/** A plain, readable summary of a route for explicit expectations: text for addresses, hex for labels and ESIs. */
export function routeView(r: EvpnRoute): Record<string, string | number> {
  const hex = (b: Buffer): string => b.toString('hex');
  switch (r.kind) {
    case 'ethernet-ad':
      return { kind: r.kind, rd: formatRd(r.rd), esi: formatEsi(r.esi), tag: r.tag, label: hex(r.label) };
    case 'mac-ip': {
      const v: Record<string, string | number> = { kind: r.kind, rd: formatRd(r.rd), esi: formatEsi(r.esi), tag: r.tag, mac: formatMac(r.mac), label1: hex(r.label1) };
      if (r.ip) v.ip = bytesToIp(r.ip);
      if (r.label2) v.label2 = hex(r.label2);
      return v;
    }
    case 'inclusive-multicast':
      return { kind: r.kind, rd: formatRd(r.rd), tag: r.tag, originator: bytesToIp(r.originator) };
    case 'ethernet-segment':
      return { kind: r.kind, rd: formatRd(r.rd), esi: formatEsi(r.esi), originator: bytesToIp(r.originator) };
    case 'ip-prefix':
      return {
        kind: r.kind, rd: formatRd(r.rd), esi: formatEsi(r.esi), tag: r.tag,
        prefix: `${bytesToIp(r.prefix)}/${r.prefixLength}`, gateway: bytesToIp(r.gateway), label: hex(r.label),
      };
    case 'unknown':
      return { kind: r.kind, routeType: r.routeType, value: hex(r.value) };
  }
}

export const ZERO_ESI_TEXT = '00:00:00:00:00:00:00:00:00:00';
