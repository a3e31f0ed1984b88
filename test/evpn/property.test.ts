import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Reader } from '../../src/bgp/wire/reader.js';
import { decodeRd } from '../../src/bgp/wire/rd.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import {
  type EvpnRoute,
  type ExtCommunity,
  type PmsiTunnel,
  decodeEsi,
  decodeEvpnNlri,
  decodeExtCommunities,
  decodeExtCommunity,
  decodePmsiTunnel,
  encodeExtCommunities,
  encodePmsiTunnel,
  ethernetAdRoute,
  ethernetSegmentRoute,
  evpnCodec,
  evpnRouteBytes,
  inclusiveMulticastRoute,
  ipPrefixRoute,
  macIpRoute,
  unknownEvpnRoute,
  withPathId,
} from '../../src/evpn/index.js';
import { bytesToIp } from '../../src/core/ip.js';

const bytes = (n: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));
const arbRd = bytes(8).map((b) => decodeRd(b, 0));
const arbEsi = bytes(10).map((b) => decodeEsi(b));
const arbIp = fc.oneof(bytes(4), bytes(16));
const arbLabel = bytes(3);
const arbTag = fc.nat({ max: 0xffffffff });
const arbPathId = fc.nat({ max: 0xffffffff });

const arbEthernetAd = fc.record({ rd: arbRd, esi: arbEsi, tag: arbTag, label: arbLabel, pathId: arbPathId }).map(ethernetAdRoute);
const arbMacIp = fc
  .record({ rd: arbRd, esi: arbEsi, tag: arbTag, mac: bytes(6), ip: fc.option(arbIp, { nil: undefined }), label1: arbLabel, label2: fc.option(arbLabel, { nil: undefined }), pathId: arbPathId })
  .map(macIpRoute);
const arbMulticast = fc.record({ rd: arbRd, tag: arbTag, originator: arbIp, pathId: arbPathId }).map(inclusiveMulticastRoute);
const arbSegment = fc.record({ rd: arbRd, esi: arbEsi, originator: arbIp, pathId: arbPathId }).map(ethernetSegmentRoute);
const arbPrefix = fc
  .tuple(fc.boolean(), fc.nat({ max: 128 }), bytes(16), bytes(16), arbRd, arbEsi, arbTag, arbLabel, arbPathId)
  .map(([v4, len, addr, gw, rd, esi, tag, label, pathId]) => {
    const size = v4 ? 4 : 16;
    return ipPrefixRoute({
      rd, esi, tag, label, pathId,
      // Host bits are kept as sent, so any address octets round-trip.
      prefix: `${bytesToIp(addr.subarray(0, size))}/${len % (size * 8 + 1)}`,
      gateway: gw.subarray(0, size),
    });
  });
const arbUnknown = fc
  .tuple(fc.oneof(fc.constant(0), fc.integer({ min: 6, max: 255 })), fc.uint8Array({ maxLength: 255 }), arbPathId)
  .map(([t, v, p]) => unknownEvpnRoute(t, v, p));

const ARBS: readonly [string, fc.Arbitrary<EvpnRoute>][] = [
  ['Ethernet A-D', arbEthernetAd],
  ['MAC/IP', arbMacIp],
  ['Inclusive Multicast', arbMulticast],
  ['Ethernet Segment', arbSegment],
  ['IP Prefix', arbPrefix],
  ['unknown', arbUnknown],
];
const arbRoute = fc.oneof(...ARBS.map(([, a]) => a));

function roundTrip(routes: readonly EvpnRoute[], addPath: boolean): EvpnRoute[] {
  const w = new Writer(16);
  for (const r of routes) evpnCodec.encode(w, r, addPath);
  const out: EvpnRoute[] = [];
  const res = decodeEvpnNlri(new Reader(w.toBuffer()), addPath, out);
  if (!res.ok) assert.fail(res.error);
  return out;
}

for (const [name, arb] of ARBS) {
  test(`property: ${name} routes decode to what was encoded, with and without ADD-PATH`, () => {
    fc.assert(
      fc.property(arb, (r) => {
        assert.deepEqual(roundTrip([r], true), [r]);
        const [plain] = roundTrip([r], false);
        assert.deepEqual(plain, withPathId(r, 0));
      }),
    );
  });
}

test('property: a field of mixed routes round-trips in order', () => {
  fc.assert(
    fc.property(fc.array(arbRoute, { maxLength: 20 }), fc.boolean(), (routes, addPath) => {
      const back = roundTrip(routes, addPath);
      assert.deepEqual(back, addPath ? routes : routes.map((r) => withPathId(r, 0)));
    }),
  );
});

test('property: a MAC/IP route (held packed, without Buffers) gives back every field it was built from', () => {
  const arbInput = fc.record({
    rd: arbRd,
    esi: arbEsi,
    tag: arbTag,
    mac: bytes(6),
    ip: fc.option(arbIp, { nil: undefined }),
    label1: arbLabel,
    label2: fc.option(arbLabel, { nil: undefined }),
    pathId: arbPathId,
  });
  fc.assert(
    fc.property(arbInput, (i) => {
      const r = macIpRoute(i);
      assert.equal(r.kind, 'mac-ip');
      assert.equal(r.routeType, 2);
      assert.equal(r.pathId, i.pathId);
      assert.deepEqual(r.rd.raw, i.rd.raw);
      assert.deepEqual(r.esi.raw, i.esi.raw);
      assert.equal(r.tag, i.tag);
      assert.deepEqual(r.mac, i.mac);
      assert.deepEqual(r.ip, i.ip);
      assert.deepEqual(r.label1, i.label1);
      assert.deepEqual(r.label2, i.label2);
      // The wire form comes from the packed fields: RouteType, Length, then the octets in RFC 7432 §7.2 order.
      const ipPart = i.ip === undefined ? [Buffer.of(0)] : [Buffer.of(i.ip.length * 8), i.ip];
      const tag = Buffer.alloc(4);
      tag.writeUInt32BE(i.tag);
      const body = Buffer.concat([i.rd.raw, i.esi.raw, tag, Buffer.of(48), i.mac, ...ipPart, i.label1, ...(i.label2 ? [i.label2] : [])]);
      assert.deepEqual(evpnRouteBytes(r), Buffer.concat([Buffer.of(2, body.length), body]));
    }),
  );
});

test('property: two MAC/IP routes have the same key exactly when RD, tag, MAC and IP are the same', () => {
  fc.assert(
    fc.property(arbMacIp, arbEsi, arbLabel, fc.option(arbLabel, { nil: undefined }), (r, esi, label1, label2) => {
      const other = macIpRoute({ rd: r.rd, esi, tag: r.tag, mac: r.mac, ip: r.ip, label1, label2 });
      assert.equal(other.key, r.key);
    }),
  );
  fc.assert(
    fc.property(arbMacIp, arbMacIp, (a, b) => {
      const sameRoute = a.rd.raw.equals(b.rd.raw) && a.tag === b.tag && a.mac.equals(b.mac) && (a.ip === undefined ? b.ip === undefined : b.ip !== undefined && a.ip.equals(b.ip));
      assert.equal(a.key === b.key, sameRoute);
    }),
  );
});

test('property: the NLRI decoder never throws, whatever the octets', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (a, addPath) => {
      const res = decodeEvpnNlri(new Reader(Buffer.from(a)), addPath, []);
      assert.equal(typeof res.ok, 'boolean');
    }),
    { numRuns: 2000 },
  );
});

test('property: valid routes with a corrupted octet or a truncation give a result or an error, never an exception', () => {
  fc.assert(
    fc.property(arbRoute, fc.nat(), fc.nat({ max: 255 }), fc.nat(), (r, at, v, cut) => {
      const b = evpnRouteBytes(r);
      const mutated = Buffer.from(b);
      mutated[at % b.length] = v;
      assert.equal(typeof decodeEvpnNlri(new Reader(mutated), false, []).ok, 'boolean');
      // Cutting a route short always leaves a header or value that overruns the field.
      const short = b.subarray(0, 1 + (cut % (b.length - 1)));
      assert.equal(decodeEvpnNlri(new Reader(short), false, []).ok, false);
    }),
    { numRuns: 1000 },
  );
});

// fc.record gives null-prototype objects; decoded values are plain ones.
const rec = { noNullPrototype: true } as const;
const arbExt: fc.Arbitrary<ExtCommunity> = fc.oneof(
  fc.record({ kind: fc.constant('route-target' as const), format: fc.constant('as2' as const), admin: fc.nat({ max: 0xffff }), assigned: fc.nat({ max: 0xffffffff }) }, rec),
  fc.record({ kind: fc.constant('route-target' as const), format: fc.constantFrom('ipv4' as const, 'as4' as const), admin: fc.nat({ max: 0xffffffff }), assigned: fc.nat({ max: 0xffff }) }, rec),
  fc.record({ kind: fc.constant('encapsulation' as const), tunnelType: fc.nat({ max: 0xffff }) }, rec),
  fc.constant({ kind: 'default-gateway' as const }),
  fc.record({ kind: fc.constant('mac-mobility' as const), sticky: fc.boolean(), seq: fc.nat({ max: 0xffffffff }) }, rec),
  fc.record({ kind: fc.constant('esi-label' as const), singleActive: fc.boolean(), label: arbLabel }, rec),
  fc.record({ kind: fc.constant('es-import' as const), mac: bytes(6) }, rec),
  fc.record({ kind: fc.constant('router-mac' as const), mac: bytes(6) }, rec),
  fc.record({ kind: fc.constant('arp-nd' as const), router: fc.boolean(), override: fc.boolean(), immutable: fc.boolean() }, rec),
  bytes(8).filter((b) => decodeExtCommunity(b).kind === 'unknown').map((raw) => ({ kind: 'unknown' as const, raw })),
);

test('property: every extended community kind decodes to what was encoded', () => {
  fc.assert(
    fc.property(fc.array(arbExt, { maxLength: 12 }), (list) => {
      assert.deepEqual(decodeExtCommunities(encodeExtCommunities(list)), list);
    }),
    { numRuns: 1000 },
  );
});

test('property: any octets decode as extended communities without throwing, and re-encoding is stable', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (a) => {
      const list = decodeExtCommunities(Buffer.from(a));
      assert.equal(list.length, Math.floor(a.length / 8));
      assert.deepEqual(decodeExtCommunities(encodeExtCommunities(list)), list);
    }),
  );
});

const arbPmsi: fc.Arbitrary<PmsiTunnel> = fc.oneof(
  fc.record({ kind: fc.constant('ingress-replication' as const), tunnelType: fc.constant(6 as const), flags: fc.nat({ max: 255 }), label: arbLabel, endpoint: arbIp }, rec),
  fc
    .record({ kind: fc.constant('other' as const), tunnelType: fc.nat({ max: 255 }), flags: fc.nat({ max: 255 }), label: arbLabel, tunnelId: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) }, rec)
    .filter((p) => p.tunnelType !== 6),
);

test('property: PMSI tunnels decode to what was encoded; any octets give a result or an error', () => {
  fc.assert(
    fc.property(arbPmsi, (p) => {
      assert.deepEqual(decodePmsiTunnel(encodePmsiTunnel(p)), { ok: true, value: p });
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (a) => {
      assert.equal(typeof decodePmsiTunnel(Buffer.from(a)).ok, 'boolean');
    }),
  );
});
