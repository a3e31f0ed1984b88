import { type RouteDistinguisher, decodeRd } from '../bgp/wire/rd.js';
import type { Writer } from '../bgp/wire/writer.js';
import { ipOctetsForBits } from '../core/ip.js';
import { ESI_LENGTH, type Esi, decodeSharedEsi } from './esi.js';
import { LABEL_LENGTH, type Label, labelFromVni } from './label.js';
import { MAC_LENGTH } from './mac.js';
import type { MacIpRoute } from './route.js';

/** Where the fields sit in the key: RouteType(1) RD(8) Tag(4) MACLen(1) MAC(6) IPLen(1) IP(0|4|16). */
const KEY_RD = 1;
const KEY_TAG = 9;
const KEY_MAC = 14;
const KEY_IP_LEN = 20;
const KEY_IP = 21;
const NO_LABEL = -1;

// Filled and read within one call, so one buffer serves every decode.
const scratch = Buffer.allocUnsafe(KEY_IP + 16);

/**
 * RFC 7432 §7.2 MAC/IP route as a route reflector holds millions of them:
 * its key string (which already holds RD, tag, MAC and IP), the shared RD
 * and ESI, and the labels as numbers; no Buffer of its own. MAC, IP and
 * labels are made on demand for the few readers that want them (API, VM
 * registry). A Buffer view costs ~100 bytes of heap, and this type is
 * nearly every route of an EVPN fabric: held this way a route costs about a
 * third of what it did as one object with four views.
 */
export class PackedMacIpRoute implements MacIpRoute {
  private constructor(
    readonly key: string,
    readonly pathId: number,
    readonly rd: RouteDistinguisher,
    readonly esi: Esi,
    private readonly l1: number,
    private readonly l2: number,
  ) {}

  get kind(): 'mac-ip' {
    return 'mac-ip';
  }

  get routeType(): 2 {
    return 2;
  }

  get tag(): number {
    const k = this.key;
    return ((k.charCodeAt(KEY_TAG) << 24) | (k.charCodeAt(KEY_TAG + 1) << 16) | (k.charCodeAt(KEY_TAG + 2) << 8) | k.charCodeAt(KEY_TAG + 3)) >>> 0;
  }

  get mac(): Buffer {
    return Buffer.from(this.key.slice(KEY_MAC, KEY_MAC + MAC_LENGTH), 'latin1');
  }

  get ip(): Buffer | undefined {
    const bytes = this.key.charCodeAt(KEY_IP_LEN) / 8;
    return bytes === 0 ? undefined : Buffer.from(this.key.slice(KEY_IP, KEY_IP + bytes), 'latin1');
  }

  // The 24 bits as received, whatever they mean (labelFromVni writes all 24 of them).
  get label1(): Label {
    return labelFromVni(this.l1);
  }

  get label2(): Label | undefined {
    return this.l2 === NO_LABEL ? undefined : labelFromVni(this.l2);
  }

  /** Octets of the NLRI value (what follows RouteType and Length). */
  get bodyLength(): number {
    return this.key.length - 1 + ESI_LENGTH + (this.l2 === NO_LABEL ? LABEL_LENGTH : 2 * LABEL_LENGTH);
  }

  /** Writes the NLRI value from the key and fields, with no intermediate Buffer. */
  writeBody(w: Writer): void {
    w.bytes(this.rd.raw).bytes(this.esi.raw).latin1(this.key, KEY_TAG, this.key.length).u24(this.l1);
    if (this.l2 !== NO_LABEL) w.u24(this.l2);
  }

  /**
   * The route in `body[at, at + len)`, checked as decodeEvpnRoute documents;
   * nothing is kept of `body`, so it may be a view into a message. Returns a
   * reason when the octets are not a MAC/IP route.
   */
  static decode(body: Buffer, at: number, len: number, pathId: number): PackedMacIpRoute | string {
    if (len < 30) return `MAC/IP route length ${len} is too short (at least 33)`;
    const macBits = body[at + 22]!;
    if (macBits !== 48) return `MAC/IP route MAC address length ${macBits}, expected 48`;
    const ipBits = body[at + 29]!;
    const ipLen = ipBits === 0 ? 0 : ipOctetsForBits(ipBits);
    if (ipLen === undefined) return `MAC/IP route IP address length ${ipBits}, expected 0, 32 or 128`;
    const labels = len - 30 - ipLen;
    if (labels !== 3 && labels !== 6) return `MAC/IP route length ${len} does not fit IP length ${ipBits} and one or two labels`;
    // The key is built in one buffer so it becomes one flat string: concatenating
    // its two parts would keep a rope of three strings per route.
    scratch[0] = 2;
    body.copy(scratch, KEY_RD, at, at + 8);
    body.copy(scratch, KEY_TAG, at + 18, at + 30 + ipLen);
    const key = scratch.toString('latin1', 0, KEY_IP + ipLen);
    const l1At = at + 30 + ipLen;
    return new PackedMacIpRoute(
      key,
      pathId,
      decodeRd(body, at),
      decodeSharedEsi(body, at + 8),
      body.readUIntBE(l1At, 3),
      labels === 6 ? body.readUIntBE(l1At + 3, 3) : NO_LABEL,
    );
  }
}
